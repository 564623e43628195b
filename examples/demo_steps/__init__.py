"""The steps of ``make demo``, one module per component (``demo(out_dir, testdata=None, quick=True)``).

They live here, not in the library: a demo wires components together (some put a ``neurosim`` ground truth into
a ``neurodata`` analysis, which the data layer may never import; see DESIGN.md), and it is code a user copies.
The registries (``neurodata.registry``, ``neurosim.registry``) name them as ``demo_steps.<name>:demo``;
``examples/demo.py`` runs them with this folder's parent on ``sys.path``.
"""
