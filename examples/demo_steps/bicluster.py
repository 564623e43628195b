"""README demo: a short bi-clustering run on the paper's own simulated draw (its first 200 bins when quick),
NWB results + figure."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    import numpy as np

    from neurodata.bicluster.estimator import BiclusterMCMC
    from neurodata.bicluster.io import write_bicluster_results
    from neurodata.bicluster.plotting import plot_bicluster
    from neurodata.io import Traces
    from neurosim.groundtruth.bicluster import load_reference_simulation

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    y = load_reference_simulation().counts[:200 if quick else None]
    counts = Traces(y, rate=1.0, channels=[f"n{i}" for i in range(y.shape[1])], unit="count", name="counts")
    model = BiclusterMCMC(n_iter=60 if quick else 2000, thin=2, n_chains=1, seed=0, verbose=False).fit(counts)
    nwb = write_bicluster_results(out / "bicluster_demo.nwb", model, counts)
    png = plot_bicluster(model, out / "bicluster_demo.png", times=np.asarray(counts.times))
    return {"nwb": str(nwb), "figure": str(png)}
