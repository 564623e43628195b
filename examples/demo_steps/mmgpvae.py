"""README demo: the MM-GPVAE (Gondur 2023) on the paper's simulation (a small version when quick), NWB + figure."""
from pathlib import Path


def demo(out_dir, testdata=None, quick=True):
    from neurodata.mmgpvae import MMGPVAE, affine_r2
    from neurodata.mmgpvae.io import BinnedModalities, write_mmgpvae_results
    from neurodata.mmgpvae.plotting import plot_mmgpvae
    from neurosim.groundtruth.mmgpvae import simulate_mmgpvae, split_trials

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if quick:
        sim = simulate_mmgpvae(n_trials=60, n_bins=40, n_neurons=30, digit_size=12, pad=2, seed=32)
        model = MMGPVAE(kinds={"images": "image"}, epochs=40, seed=0, encoder_hidden={"images": (128, 64)},
                        decoder_hidden={"images": (64, 128)})
    else:
        sim = simulate_mmgpvae(seed=32)
        model = MMGPVAE(kinds={"images": "image"}, seed=0)
    train, test = split_trials(sim.spikes.shape[0], seed=10)
    model.fit({k: v[train] for k, v in sim.modalities.items()})
    held_out = BinnedModalities(data={k: v[test] for k, v in sim.modalities.items()}, bin_size=1.0, start=0.0,
                                n_bins=sim.spikes.shape[1], source="simulate_mmgpvae(seed=32)")
    nwb = write_mmgpvae_results(out / "mmgpvae_demo.nwb", model, held_out, overwrite=True)
    z = model.transform(held_out.data)
    truth = {"spikes/private0": sim.gps[test, :, 1], "shared0": sim.angles[test], "images/private0": sim.zooms[test]}
    png = plot_mmgpvae(model, held_out.data, out / "mmgpvae_demo.png", truth=truth, image_side=sim.side)
    scores = {name: round(affine_r2(z[..., j], truth[name]), 3) for j, name in enumerate(model.latent_names_)}
    return {"nwb": str(nwb), "figure": str(out / "mmgpvae_demo.png") if png is not None else None, "r2": scores}
