"""Figure of a bi-clustering fit: co-clustering matrices, state raster and cluster-mean log rates."""
import numpy as np

from ..utils import save_figure

__all__ = ["plot_bicluster"]


def plot_bicluster(model, path, times=None, *, overwrite=False):
    """Draw a fitted :class:`BiclusterMCMC`: the neurons' and time bins' co-clustering matrices (ordered by the
    point estimates ``labels_`` and ``states_``), the state raster over time, each cluster's mean log rate, and
    trace plots of every chain (log-likelihood, occupied states).

    Parameters
    ----------
    model : fitted BiclusterMCMC
    path : str or Path
        Image file to write (format from its suffix; an existing file needs ``overwrite=True``).
    times : array of shape (n_bins,), optional
        Bin times in seconds for the x axis (bin indices when omitted).
    overwrite : bool
        Replace an existing ``path``.

    Returns
    -------
    path
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    T = model.states_.size
    times = np.arange(T) if times is None else np.asarray(times)
    fig = plt.figure(figsize=(11, 8.5))
    gs = fig.add_gridspec(4, 2, height_ratios=[3, 0.4, 2, 1.5])
    order_n = np.argsort(model.labels_, kind="stable")
    ax = fig.add_subplot(gs[0, 0])
    im = ax.imshow(model.coclustering_neurons_[np.ix_(order_n, order_n)], cmap="Greys", vmin=0, vmax=1)
    ax.set_title("neuron co-clustering (sorted by maxPEAR label)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    order_t = np.argsort(model.states_, kind="stable")
    ax = fig.add_subplot(gs[0, 1])
    im = ax.imshow(model.coclustering_states_[np.ix_(order_t, order_t)], cmap="Greys", vmin=0, vmax=1)
    ax.set_title("time-bin co-clustering (sorted by maxPEAR state)")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax = fig.add_subplot(gs[1, :])
    ax.imshow(model.states_[None, :], aspect="auto", cmap="tab10", interpolation="nearest",
              extent=[times[0], times[-1], 0, 1])
    ax.set_yticks([])
    ax.set_title("maxPEAR states over time")
    ax = fig.add_subplot(gs[2, :])
    if hasattr(model, "log_rate_"):
        for k in np.unique(model.labels_):
            ax.plot(times, model.log_rate_[:, model.labels_ == k].mean(1), lw=1, label=f"cluster {k}")
        ax.legend(loc="upper right", fontsize=7)
    ax.set_xlabel("time (s)" if times.dtype.kind == "f" else "bin")
    ax.set_ylabel("mean log rate")
    _plot_traces(fig.add_subplot(gs[3, 0]), fig.add_subplot(gs[3, 1]), model)
    fig.tight_layout()
    save_figure(fig, path, overwrite=overwrite, dpi=100)
    plt.close(fig)
    return path


def _plot_traces(ax_ll, ax_states, model):
    """Trace plots, one line per chain: the log-likelihood of the kept draws (with the largest R-hat of the
    continuous quantities in the title) and the number of occupied states at every sweep."""
    for c, chain in enumerate(model.chains_):
        ax_ll.plot(chain.kept("log_lik"), lw=0.8, label=f"chain {c}")
        ax_states.plot(model.n_states_trace_[c], lw=0.8)
    conv = model.convergence_
    rhat = conv.loc[conv.index.isin(["r", "d", "log_lik", "log_rate"]), "r_hat_max"].max()
    ax_ll.set_title("log-likelihood of kept draws" + (f" (max R-hat {rhat:.3f})" if rhat == rhat else ""),
                    fontsize=9)
    ax_ll.set_xlabel("kept draw")
    ax_states.set_title("occupied states per sweep", fontsize=9)
    ax_states.set_xlabel("sweep")
    if len(model.chains_) > 1:
        ax_ll.legend(fontsize=7)
