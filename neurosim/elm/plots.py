"""Figure: the neuron's soma voltage and spikes against the model's prediction, and the ELM memory traces."""
import numpy as np

from neurodata.utils import save_figure

__all__ = ["plot_prediction"]


def plot_prediction(model, inputs, spikes, soma_v, *, start=None, duration=2.0, path=None, overwrite=False):
    """Three panels over ``duration`` s from ``start``: soma (neuron vs model, mV), spike probability with the
    neuron's spikes, and the memory traces (ELM only). Returns the figure; saved when ``path`` is given.

    ``start=None`` picks the window (after the first 0.5 s, which scoring ignores) holding the most spikes."""
    import matplotlib.pyplot as plt

    memory = None
    if model.architecture == "elm":
        prob, soma, memory = model.predict(inputs, return_memory=True)
    else:
        prob, soma = model.predict(inputs)
    dt = model.dt
    if start is None:
        width, first = int(round(duration / dt)), int(round(0.5 / dt))
        counts = np.convolve(np.asarray(spikes, dtype=float)[first:], np.ones(width), mode="valid")
        start = (first + int(np.argmax(counts))) * dt if counts.size else 0.5
    sl = slice(int(start / dt), int(min(start + duration, len(soma) * dt) / dt))
    t = np.arange(len(soma))[sl] * dt
    fig, axes = plt.subplots(3 if memory is not None else 2, 1, figsize=(9, 7), sharex=True)
    axes[0].plot(t, np.asarray(soma_v)[sl] * 1e3, color="k", lw=0.8, label="neuron")
    axes[0].plot(t, soma[sl] * 1e3, color="tab:red", lw=0.8, label=model.architecture)
    axes[0].set_ylabel("soma (mV)")
    axes[0].legend(loc="upper right", frameon=False)
    axes[1].plot(t, prob[sl], color="tab:red", lw=0.8)
    hits = t[np.asarray(spikes)[sl] > 0]
    # spikes as ticks along the top, so they do not squash the probability's scale
    axes[1].vlines(hits, 0.85, 1.0, transform=axes[1].get_xaxis_transform(), color="k", lw=0.8,
                   label="neuron spikes")
    axes[1].set_ylabel("spike probability")
    axes[1].legend(loc="upper right", frameon=False)
    if memory is not None:
        axes[2].plot(t, memory[sl], lw=0.6)
        axes[2].set_ylabel("memory m")
    axes[-1].set_xlabel("time (s)")
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path, overwrite=overwrite)
    return fig
