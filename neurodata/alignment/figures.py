"""Figures for alignment results (matplotlib's object API, no pyplot state)."""
import numpy as np

from ..utils import save_figure

__all__ = ["plot_profile", "plot_timecourses"]


def plot_profile(profile, layer_names, region_names, path, *, overwrite=False):
    """Heat map of a layers × regions encoding profile, best layer per region marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1.0 + 0.5 * len(region_names) + 2, 1.0 + 0.35 * len(layer_names) + 1.5),
                 layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    im = ax.imshow(profile, aspect="auto", cmap="magma", origin="lower")
    best = np.argmax(profile, axis=0)
    ax.plot(np.arange(len(region_names)), best, "o", color="cyan", ms=5, label="best layer")
    ax.set_xticks(range(len(region_names)), region_names, rotation=60, fontsize=7, ha="right")
    ax.set_yticks(range(len(layer_names)), layer_names, fontsize=7)
    ax.set_xlabel("region (hierarchy order)")
    ax.set_ylabel("model layer")
    fig.colorbar(im, ax=ax, label="encoding r")
    ax.legend(fontsize=7, loc="upper left")
    return save_figure(fig, path, overwrite=overwrite)


def plot_timecourses(time_courses, times, layer_names, path, *, overwrite=False):
    """Encoding time course per layer with each layer's peak latency."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    cmap = colormaps["viridis"]
    for i, (tc, name) in enumerate(zip(time_courses, layer_names)):
        color = cmap(i / max(len(layer_names) - 1, 1))
        ax.plot(times, tc, color=color, label=name)
        ax.plot(times[np.argmax(tc)], tc.max(), "v", color=color)
    ax.set_xlabel("latency")
    ax.set_ylabel("encoding r (mean over sensors)")
    ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, path, overwrite=overwrite)
