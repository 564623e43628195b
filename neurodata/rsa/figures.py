"""Figures for RSA results (matplotlib imported inside; no pyplot global state, so safe in scripts and tests)."""
import numpy as np

from ..utils import save_figure

__all__ = ["plot_rdms", "plot_timecourse", "plot_grid_search"]


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


def plot_grid_search(result, path, *, title=None, overwrite=False):
    """Heatmap of identification accuracy over (l, u), as in the tRSA paper's grid-search figures.

    Parameters
    ----------
    result : GridSearchResult
        From :func:`neurodata.rsa.gridsearch.grid_identification`.
    path : str or Path
        Image file to write.
    title : str, optional
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    Path of the written file.

    The lower bound runs along x, the upper bound along y; the topology-sensitive box (l >= 0.4, u <= 0.6) is
    outlined, the RDM corner (0, 1) and the best cell are marked, and the untransformed RDM's accuracy is in
    the title.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    b = result.bounds
    step = b[1] - b[0]
    fig = Figure(figsize=(4.8, 4.0), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(result.accuracy.T, origin="lower", extent=(-step / 2, 1 + step / 2, -step / 2, 1 + step / 2),
                   cmap="viridis", vmin=0.0, vmax=1.0)
    ax.add_patch(Rectangle((0.4 - step / 2, 0.4 - step / 2), 0.2 + step, 0.2 + step, fill=False, ec="w", lw=1.5))
    lo, up, acc = result.best
    ax.plot([0.0], [1.0], "s", mfc="none", mec="r", ms=9, label=f"GT(0, 1) {result.ranked_rdm_accuracy:.2f}")
    ax.plot([lo], [up], "*", mfc="w", mec="r", ms=11, label=f"best ({lo:.2f}, {up:.2f}) {acc:.2f}")
    ax.set(xlabel="lower bound l (quantile)", ylabel="upper bound u (quantile)", xlim=(-step / 2, 1 + step / 2),
           ylim=(-step / 2, 1 + step / 2))
    ax.set_title(title or f"identification accuracy ({result.transform} GT; RDM {result.rdm_accuracy:.2f})",
                 fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    fig.colorbar(im, ax=ax, shrink=0.85, label="accuracy")
    return save_figure(fig, path, overwrite=overwrite)
