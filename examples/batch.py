"""Run one analysis over many sessions: simulate a few recordings (or list your own NWB files), summarise
each unit's firing, and plot the rate distribution per session. Rerunning skips what is done.

    python examples/batch.py                       # simulated sessions
    python examples/batch.py a.nwb b.nwb c.nwb     # your files
"""
import sys
from pathlib import Path

import numpy as np

from neurodata.batch import run_batch
from neurodata.io import read_results


def simulated_sessions(folder, count=4):
    from neurosim.circuits import write_lif_network

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"session{i}.nwb"
        if not path.exists():
            write_lif_network(path, n_neurons=100, duration=2.0, seed=i)
        paths.append(path)
    return paths


def main(files=None, out="out/batch"):
    files = files or simulated_sessions(Path(out) / "sessions")
    summary = run_batch("summary", files, out=out, n_jobs=2)
    print(summary)
    print(summary.table[["source", "status", "n_units", "median_rate_hz", "mean_cv_isi", "error"]].to_string(index=False))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    done = summary.table[summary.table.status != "failed"]
    for k, path in enumerate(done["file"]):
        rates = read_results(path).tables["units"]["rate_hz"].to_numpy()
        ax.scatter(np.full(rates.size, k) + np.random.default_rng(k).uniform(-0.2, 0.2, rates.size), rates, s=6)
    ax.set_xticks(range(len(done)), [Path(s).stem for s in done["source"]], rotation=30, ha="right")
    ax.set_ylabel("firing rate (Hz)")
    fig.tight_layout()
    figure = Path(out) / "rates.png"
    fig.savefig(figure, dpi=120)
    print(f"figure → {figure}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
