"""Sweep the built-in E/I LIF network over inhibition g and external drive: one NWB per point, a summary
table, and a figure of the firing-rate map (Brunel 2000's phase diagram axes).

    python examples/sweep.py                 # 2 local worker processes
    python examples/sweep.py tcp://host:8786 # any running Dask cluster (e.g. examples/jobqueue_slurm.py)
"""
import sys
from pathlib import Path


from neurosim.sweep import run_sweep


def main(scheduler=None, out="out/sweep"):
    grid = {"g": [3.0, 4.0, 5.0, 6.0], "nu_ext_ratio": [1.0, 1.5, 2.0]}
    summary = run_sweep("lif_network", grid, fixed={"n_neurons": 200, "duration": 0.5}, out=out, seed=0,
                        n_jobs=2, scheduler=scheduler)
    print(summary)
    table = summary.table[summary.table.status != "failed"]
    print(table[["g", "nu_ext_ratio", "rate_exc_hz", "cv_isi_exc", "file"]].to_string(index=False))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = table.pivot(index="nu_ext_ratio", columns="g", values="rate_exc_hz")
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    im = ax.imshow(rates.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(rates.shape[1]), [f"{g:g}" for g in rates.columns])
    ax.set_yticks(range(rates.shape[0]), [f"{v:g}" for v in rates.index])
    ax.set_xlabel("relative inhibition g")
    ax.set_ylabel("external drive ν_ext / ν_thr")
    fig.colorbar(im, label="excitatory rate (Hz)")
    fig.tight_layout()
    figure = Path(out) / "rates.png"
    fig.savefig(figure, dpi=120)
    print(f"figure → {figure}")
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
