"""README demo step for scale-out: a 4-point LIF sweep on 2 local workers, then one batch analysis over the
sweep's files and the real spike recordings (one results file per input, a summary table, a figure)."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurodata.batch import run_batch

    from neurosim.sweep.core import run_sweep

    out_dir = Path(out_dir)
    grid = {"g": [3.0, 6.0], "nu_ext_ratio": [1.0, 2.0]}
    sweep = run_sweep("lif_network", grid, out=out_dir / "sweep", seed=0, n_jobs=2, verbose=False,
                      fixed={"n_neurons": 100, "duration": 0.5 if quick else 2.0})
    files = sorted(str(p) for p in (out_dir / "sweep").glob("*.nwb") if p.name != "summary.nwb")
    if testdata is not None:
        files += [str(testdata / "nwb" / name) for name in ("spikes_A8604-211122.nwb",
                                                            "spikes_behavior_A2929-200711.nwb")]
    batch = run_batch("summary", files, out=out_dir / "batch", seed=0, n_jobs=2, verbose=False)

    table = sweep.table
    rate_col = "rate_exc_hz"
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for nu, rows in table.groupby("nu_ext_ratio"):
        ax.plot(rows["g"], rows[rate_col], "o-", label=f"external drive × {nu:g}")
    ax.set(xlabel="relative inhibition g", ylabel="mean excitatory rate (Hz)", title="LIF sweep (4 points, 2 workers)")
    ax.legend()
    fig.tight_layout()
    figure = out_dir / "sweep.png"
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    return [sweep.csv_path, sweep.nwb_path, batch.csv_path, batch.nwb_path, figure]
