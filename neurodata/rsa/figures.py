"""Figures for RSA results (matplotlib imported inside; no pyplot global state, so safe in scripts and tests)."""
import numpy as np

from ..utils import save_figure

__all__ = ["plot_rdms", "plot_timecourse"]


def _square(vec):
    m = vec.size
    n = int(round((1 + np.sqrt(1 + 8 * m)) / 2))
    out = np.zeros((n, n))
    iu = np.triu_indices(n, k=1)
    out[iu] = vec
    out[(iu[1], iu[0])] = vec
    return out


def plot_rdms(arrays, conditions, times, path, *, overwrite=False):
    """One panel per statistic (RDM, RGTM, RGDM); for a time series, the RDM at the time of largest spread."""
    from matplotlib.figure import Figure

    keys = [k for k in ("rdms", "rgtm", "rgdm") if k in arrays]
    t_idx = int(np.argmax(arrays["rdms"].std(axis=1))) if arrays["rdms"].shape[0] > 1 else 0
    fig = Figure(figsize=(3.6 * len(keys), 3.4), layout="constrained")
    labels = [str(c) for c in conditions]
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        im = ax.imshow(_square(arrays[key][t_idx]), cmap="viridis")
        title = {"rdms": "RDM", "rgtm": "RGTM (GT)", "rgdm": "RGDM (geodesic)"}[key]
        if times is not None:
            title += f"  t = {times[t_idx]:.3f} s"
        ax.set_title(title, fontsize=9)
        if len(labels) <= 12:
            ax.set_xticks(range(len(labels)), labels, rotation=60, fontsize=7, ha="right")
            ax.set_yticks(range(len(labels)), labels, fontsize=7)
        fig.colorbar(im, ax=ax, shrink=0.8)
    return save_figure(fig, path, overwrite=overwrite)


def plot_timecourse(similarity, times, method, path, *, overwrite=False):
    """Model-vs-data RDM similarity over time (or a single bar for static data)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.2), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    if times is not None and len(times) == len(similarity):
        ax.plot(times, similarity, color="k")
        ax.axvline(0.0, color="0.6", lw=0.8)
        ax.set_xlabel("time (s)")
    else:
        ax.bar([0], similarity[:1], color="k")
        ax.set_xticks([])
    ax.axhline(0.0, color="0.6", lw=0.8)
    ax.set_ylabel(f"model vs data ({method})")
    return save_figure(fig, path, overwrite=overwrite)
