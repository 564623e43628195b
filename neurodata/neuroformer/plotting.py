"""Figures of the Neuroformer: generated vs real raster, attention-derived vs true connectivity."""
import numpy as np

from ..utils import save_figure

__all__ = ["plot_attention", "plot_rasters"]


def _plt(path):
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def plot_rasters(real, generated, path=None, *, span=2.0, overwrite=False):
    """Real and generated spikes over the first ``span`` seconds of the generated support; returns the figure
    (saved to ``path`` when given)."""
    plt = _plt(path)
    lo = generated.start
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for ax, trains, title in ((axes[0], real, "recorded"), (axes[1], generated, "generated (real past)")):
        for j, t in enumerate(trains.times):
            t = t[(t >= lo) & (t < lo + span)]
            ax.vlines(t, j + 0.1, j + 0.9, lw=0.8, color="k")
        ax.set_ylabel("unit")
        ax.set_title(title)
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, overwrite=overwrite)
    return fig


def plot_attention(attention, path=None, *, truth=None, overwrite=False):
    """The attention connectivity A[i, j] (past neuron i → predicted neuron j), beside the true weights when
    ``truth`` is given; returns the figure (saved to ``path`` when given)."""
    plt = _plt(path)
    panels = [(np.asarray(attention), "attention readout")]
    if truth is not None:
        panels.append((np.asarray(truth, float), "true connectivity"))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 4), squeeze=False)
    for ax, (m, title) in zip(axes[0], panels):
        im = ax.imshow(m, cmap="magma", interpolation="nearest")
        ax.set_xlabel("target j")
        ax.set_ylabel("source i")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, overwrite=overwrite)
    return fig
