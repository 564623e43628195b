"""README demo: theory figure + a small Brian2 run written to NWB (well under a minute on 2 cores)."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    """Write ``dendrites_run.nwb`` and ``dendrites.png`` under ``out_dir``; return their paths.

    ``testdata`` is unused (the model needs no recordings). ``quick`` runs 60 windows instead of 200.
    """
    from neurosim.dendrites.experiment import run_experiment, write_run
    from neurosim.dendrites.figures import theory_figure

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model, run, summary = run_experiment(n_inputs=1000, n_active=40, n_neurons=40, n_segments=10, n_synapses=20,
                                         theta=4, n_random=60 if quick else 200, n_learned=20 if quick else 100,
                                         noise=10, seed=0)
    nwb = write_run(out / "dendrites_run.nwb", model, run, summary)
    fig = out / "dendrites.png"
    theory_figure(fig, summary=summary)
    return {"nwb": Path(nwb) if nwb else out / "dendrites_run.nwb", "figure": fig, "summary": summary}
