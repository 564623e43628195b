"""README demo step: a short reservoir run -> NWB -> figure (raster + readouts around the switch)."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    """Run a short standard experiment and write reservoir.nwb + reservoir.png.

    On cpp_standalone: the network then compiles as one project (about 40 s on 2 cores the first time, cached
    after that) where the runtime device compiles some 45 Cython modules one by one (about 4 minutes)."""
    from neurosim.reservoir.experiment import run_experiment
    from neurosim.reservoir.figures import plot_run
    from neurosim.reservoir.nwb import result_to_nwb

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    result = run_experiment(16 if quick else 320, n_neurons=500 if quick else 1000, seed=0, device="cpp_standalone")
    nwb = result_to_nwb(result, out_dir / "reservoir.nwb")
    png = plot_run(result, out_dir / "reservoir.png")
    return {"nwb": str(nwb), "figure": str(png)}
