"""Figures of the paper's curves: P_FP against the NMDA threshold and false negatives against noise."""
import numpy as np

from .theory import p_false_negative, threshold_sweep

__all__ = ["theory_figure", "noise_curves"]


def noise_curves(a=128, s=30, thetas=(8, 12, 16), noise_fractions=None):
    """P_FN against the fraction of the a active cells replaced by noise (paper's noise figure: a=128, s=30)."""
    if noise_fractions is None:
        noise_fractions = np.arange(0.05, 0.851, 0.05)
    v = np.unique(np.round(np.asarray(noise_fractions) * a).astype(int))
    return v / a, {t: np.array([p_false_negative(a, s, t, int(k)) for k in v]) for t in thetas}


def theory_figure(path=None, *, summary=None, level=1e-7, overwrite=False):
    """Two panels (three with ``summary``): median/min/max P_FP vs theta over the paper's grid; P_FN vs noise;
    and, given a simulation ``summary`` (from ``run_experiment``), measured vs theoretical rates.

    Saves a PNG to ``path`` when given (an existing file needs ``overwrite=True``) and returns the matplotlib
    Figure.
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    sweep = threshold_sweep()
    panels = 3 if summary else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 3.8), constrained_layout=True)
    ax = axes[0]
    th = sweep["theta"]
    floor = 1e-60
    ax.fill_between(th, np.maximum(sweep["min"], floor), sweep["max"], color="0.85", label="min-max over grid")
    ax.semilogy(th, np.maximum(sweep["median"], floor), "k.-", label="median")
    ax.axhline(level, color="tab:red", lw=0.8, ls="--")
    first = int(th[np.argmax(sweep["median"] < level)])
    ax.axvline(first, color="tab:red", lw=0.8)
    ax.set(xlabel="NMDA threshold θ", ylabel="P(false positive)", ylim=(1e-40, 1.0),
           title=f"median < {level:g} from θ = {first}")
    ax.legend(fontsize=8, loc="lower left")

    ax = axes[1]
    frac, curves = noise_curves()
    for t, pfn in curves.items():
        ax.plot(frac * 100, pfn, ".-", label=f"θ = {t}")
    ax.set(xlabel="noise (% of active cells replaced)", ylabel="P(false negative)",
           title="a = 128, s = 30 (independent of n)")
    ax.legend(fontsize=8)

    if summary:
        ax = axes[2]
        rows = [(k, v) for k, v in summary.items() if isinstance(v, dict) and "theory" in v
                and np.isfinite(v["theory"])]
        x = np.arange(len(rows))
        ax.bar(x - 0.2, [v["theory"] for _, v in rows], 0.4, label="theory", color="0.6")
        ax.bar(x + 0.2, [v["measured"] for _, v in rows], 0.4, label="Brian2 neurons", color="tab:blue",
               yerr=[np.sqrt(max(v["theory"] * (1 - v["theory"]), 0) / max(v["trials"], 1)) for _, v in rows])
        ax.set_xticks(x, [k.replace("_", "\n") for k, _ in rows], fontsize=7)
        ax.set(ylabel="rate", title="simulation vs theory")
        ax.legend(fontsize=8)
    if path is not None:
        from neurodata.utils import save_figure
        save_figure(fig, path, overwrite=overwrite, dpi=120)
    return fig
