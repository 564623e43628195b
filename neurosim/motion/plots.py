"""Figures: learned kernels (slices per delay) and the accuracy-vs-weights pruning curve."""
import numpy as np

from neurodata.utils import save_figure


def plot_kernels(kernel, config, classes=None, path=None, max_delays=8, *, overwrite=False):
    """ON-polarity weights of a few classes, one row per class, one column per delay (shortest on the left).

    The colour scale of each row ignores the centre tap at delay 0, which the notebook's initialisation makes
    large and equal for every class (it carries no direction information and would hide the learned motif).
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = list(range(min(8, kernel.shape[0]))) if classes is None else list(classes)
    n_delays = min(max_delays, kernel.shape[2])
    fig, axs = plt.subplots(len(classes), n_delays, figsize=(1.2 * n_delays, 1.2 * len(classes)), squeeze=False)
    phi, speed = config.class_motion(classes)
    for row, c in enumerate(classes):
        motif = np.abs(kernel[c, 1]).copy()
        motif[0, kernel.shape[3] // 2, kernel.shape[4] // 2] = 0.0
        vmax = motif.max() or 1.0
        for d in range(n_delays):
            ax = axs[row, d]
            ax.imshow(kernel[c, 1, d], cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"delay {d}", fontsize=7)
        axs[row, 0].set_ylabel(f"{np.degrees(phi[row]):.0f}°\n{speed[row]:.2f} px/step", fontsize=7)
    fig.tight_layout()
    if path is not None:  # an existing file needs overwrite=True
        save_figure(fig, path, overwrite=overwrite, dpi=100)
        plt.close(fig)
    return fig


def plot_pruning_curve(curve, chance=None, path=None, *, overwrite=False):
    """Accuracy vs number of kept weights (log axis) for each pruning method."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2))
    for method, rows in curve.groupby("method"):
        rows = rows.sort_values("n_weights")
        ax.plot(rows["n_weights"], rows["accuracy"], "o-", label=method)
    if chance is not None:
        ax.axhline(chance, color="k", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("non-zero weights")
    ax.set_ylabel("accuracy per time step")
    ax.legend(frameon=False)
    fig.tight_layout()
    if path is not None:  # an existing file needs overwrite=True
        save_figure(fig, path, overwrite=overwrite, dpi=100)
        plt.close(fig)
    return fig
