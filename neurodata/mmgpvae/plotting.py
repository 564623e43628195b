"""Figure of a fitted MM-GPVAE: latents (against a truth, affinely mapped, when given) and reconstructions."""
import numpy as np

from .metrics import affine_fit, affine_r2

__all__ = ["plot_mmgpvae"]


def plot_mmgpvae(model, modalities, path=None, *, truth=None, trial=0, curve=None, image_side=None):
    """Plot one trial's latents and every modality's reconstruction; returns the figure (saved to ``path``).

    ``truth`` {latent name: (trials, bins) array} overlays each latent's truth mapped into latent units by the
    affine least-squares fit over all trials given (R² in the title). ``curve`` [(epoch, {label: value})]
    adds a panel of held-out scores against epochs. Images are shown as a strip of frames (side inferred
    from the feature count, or ``image_side``).
    """
    import matplotlib
    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    z = model.transform(modalities)
    rec = model.reconstruct(modalities)
    specs = {s["name"]: s for s in model.specs_}
    names = list(modalities)
    n_lat = z.shape[2]
    n_cols = max(n_lat, len(names)) + (1 if curve else 0)
    fig, axes = plt.subplots(2, n_cols, figsize=(3.2 * n_cols, 5.6), squeeze=False)
    for j, lname in enumerate(model.latent_names_):
        ax = axes[0, j]
        ax.plot(z[trial, :, j], color="C0", label="posterior mean")
        if truth and lname in truth:
            # map the truth into the latent's units: latent ≈ a·truth + b over all trials
            coef = affine_fit(truth[lname], z[..., j])
            ax.plot(coef[0, 0] * np.asarray(truth[lname])[trial] + coef[1, 0], color="k", ls="--", label="truth")
            ax.set_title(f"{lname}\nR² {affine_r2(z[..., j], truth[lname]):.2f}", fontsize=9)
        else:
            ax.set_title(lname, fontsize=9)
        ax.set_xlabel("bin")
    axes[0, 0].legend(fontsize=7)
    for j, name in enumerate(names):
        ax = axes[1, j]
        x, r = np.asarray(modalities[name], float)[trial], rec[name][trial]
        kind = specs[name]["kind"]
        if kind == "image":
            side = image_side or int(round(np.sqrt(x.shape[1])))
            frames = np.linspace(0, x.shape[0] - 1, 6).astype(int)
            top = np.concatenate([x[f].reshape(side, side) for f in frames], axis=1)
            bottom = np.concatenate([r[f].reshape(side, side) for f in frames], axis=1)
            ax.imshow(np.concatenate([top, bottom], axis=0), cmap="gray")
            ax.set_title(f"{name}: data (top), reconstruction", fontsize=9)
            ax.axis("off")
        elif kind == "poisson":
            ax.imshow(r.T, aspect="auto", cmap="viridis")
            ax.set_title(f"{name}: reconstructed rates", fontsize=9)
            ax.set_xlabel("bin")
            ax.set_ylabel("unit")
        else:
            for c in range(min(x.shape[1], 4)):
                ax.plot(x[:, c], color=f"C{c}", lw=0.8)
                ax.plot(r[:, c], color=f"C{c}", ls="--", lw=1.2)
            ax.set_title(f"{name}: data (solid), reconstruction", fontsize=9)
            ax.set_xlabel("bin")
    for j in range(len(names), n_cols):
        axes[1, j].axis("off")
    for j in range(n_lat, n_cols):
        axes[0, j].axis("off")
    if curve:
        ax = axes[0, n_cols - 1]
        ax.axis("on")
        epochs = [e for e, _ in curve]
        for label in curve[0][1]:
            ax.plot(epochs, [row[label] for _, row in curve], marker="o", ms=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("held-out score")
        ax.set_ylim(-0.1, 1.0)
        ax.legend(fontsize=7)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
