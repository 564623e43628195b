"""Figures of a reservoir run."""
from pathlib import Path

from neurodata.utils import save_figure


def plot_run(result, path, around_trial=None, n_trials=6, *, overwrite=False):
    """Raster of 200 reservoir neurons and the readouts with their teacher around ``around_trial``; saved to
    ``path`` (an existing file needs ``overwrite=True``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    par = result.paradigm
    trials = par.trials
    if around_trial is None:
        around_trial = int(par.switches[0].trial) if par.switches else max(0, par.n_trials - n_trials)
    first = max(0, around_trial - n_trials // 2)
    last = min(par.n_trials - 1, first + n_trials - 1)
    t0, t1 = trials.start_time[first], trials.stop_time[last]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    keep = (result.spike_t >= t0) & (result.spike_t < t1) & (result.spike_i < 200)
    ax1.plot(result.spike_t[keep], result.spike_i[keep], ",k")
    ax1.set_ylabel("neuron")
    for _, row in trials.iloc[first:last + 1].iterrows():
        ax1.axvline(row.cue_time, color="tab:blue", lw=0.8)
    if result.readout_y is not None:
        sel = (result.readout_t >= t0) & (result.readout_t < t1)
        for k in range(par.n_identities):
            line, = ax2.plot(result.readout_t[sel], result.readout_y[sel, k], label=f"readout {k}")
            ax2.plot(result.readout_t[sel], result.readout_s[sel, k], ":", color=line.get_color())
    for sw in par.switches:
        if first <= sw.trial <= last:
            ax2.axvline(trials.start_time[sw.trial], color="r", ls="--")
    ax2.set_xlabel("time (s)")
    ax2.set_ylabel("prediction y (solid), outcome (dotted)")
    ax2.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, overwrite=overwrite, dpi=120)
    plt.close(fig)
    return path
