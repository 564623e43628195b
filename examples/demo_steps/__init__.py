"""Demo steps of ``make demo`` that wire a ``neurosim`` ground truth into a ``neurodata`` analysis.

They live here, not in the library: the data layer never imports the simulation layer (see DESIGN.md).
``examples/demo.py`` runs them with this folder on ``sys.path``, as ``demo_steps.<name>:demo``.
"""
