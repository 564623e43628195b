"""MM-GPVAE (Gondur et al. 2023) in two parts.

1. The paper's simulation (spikes + a rotating, zooming digit 3), a small version: fit, then score the
   shared / neural-only / image-only latents against the planted GPs on held-out trials, and plot.
2. A real head-direction recording: units and head direction read from NWB through the spine, fitted
   together, the latents and reconstructions written to a new NWB file.

    python examples/mmgpvae.py [--full] [--n-epochs N] [--out out/mmgpvae]

--full uses the paper's sizes (300 trials × 60 bins, 100 neurons, 36 × 36 images, 700 epochs): hours on a CPU.
"""
import argparse
from pathlib import Path

import numpy as np

from neurodata.mmgpvae import MMGPVAE, affine_r2, rate_correlation
from neurodata.mmgpvae.io import read_modalities, write_mmgpvae_results
from neurodata.mmgpvae.plotting import plot_mmgpvae
from neurosim.groundtruth.mmgpvae import simulate_mmgpvae, split_trials

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
HEAD_DIRECTION = "nwb/spikes_behavior_A2929-200711.nwb"  # inside the test data folder


def simulation(out, full, n_epochs=None):
    if full:
        sim = simulate_mmgpvae(seed=32)
        model = MMGPVAE(kinds={"images": "image"}, seed=0, verbose=True)
    else:
        sim = simulate_mmgpvae(n_trials=120, n_bins=40, n_neurons=40, digit_size=12, pad=2, seed=32)
        # the model card's small faithful recipe: image lr 1e-3, a 60-epoch KL warm-up (without it the image side
        # can spend the shared latent on the zoom on some seeds)
        model = MMGPVAE(kinds={"images": "image"}, epochs=150, seed=0, verbose=True, lr={"images": (1e-3, 1e-3)},
                        kl_warmup=60, encoder_hidden={"images": (196, 128, 64, 64)},
                        decoder_hidden={"images": (64, 64, 128, 196)})
    if n_epochs:  # the warm-up stays at most 40 % of training, as in the recipe
        model.set_params(epochs=n_epochs, kl_warmup=min(model.kl_warmup, int(0.4 * n_epochs)))
    train, test = split_trials(sim.spikes.shape[0], seed=10)
    model.fit({k: v[train] for k, v in sim.modalities.items()})
    held_out = {k: v[test] for k, v in sim.modalities.items()}
    z = model.transform(held_out)
    truth = {"spikes/private0": sim.gps[test, :, 1], "shared0": sim.angles[test], "images/private0": sim.zooms[test]}
    for j, name in enumerate(model.latent_names_):
        print(f"{name:18s} R² against its truth {affine_r2(z[..., j], truth[name]):.3f}")
    print(f"held-out rate correlation {rate_correlation(model.reconstruct(held_out)['spikes'], sim.rates[test]):.3f}")
    plot_mmgpvae(model, held_out, out / "simulation.png", truth=truth, image_side=sim.side)


def head_direction(out, testdata=TESTDATA, n_epochs=None):
    recording = Path(testdata) / HEAD_DIRECTION
    if not recording.is_file():
        print(f"skipping the real recording: {recording} not found")
        return
    binned = read_modalities(recording, ["units", "CompassDirection/ry"], bin_size=0.1, n_bins=60)
    model = MMGPVAE(n_shared=2, n_private={"units": 1, "CompassDirection/ry": 0}, epochs=n_epochs or 300,
                    kl_warmup=min(30, int(0.4 * (n_epochs or 300))), seed=0)
    model.fit(binned.data)
    path = write_mmgpvae_results(out / "head_direction.nwb", model, binned, sources=[recording], overwrite=True)
    print(f"latents {model.latent_names_}, length scales {np.round(model.length_scale_ * 0.1, 2)} s → {path}")
    plot_mmgpvae(model, binned.data, out / "head_direction.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="the paper's sizes (slow)")
    parser.add_argument("--out", default="out/mmgpvae", help="output folder")
    parser.add_argument("--testdata", default=str(TESTDATA), help="folder of the real recordings")
    parser.add_argument("--n-epochs", type=int, default=None,
                        help="training epochs of both fits (default 150 and 300; 700 with --full)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    simulation(out, args.full, args.n_epochs)
    head_direction(out, args.testdata, args.n_epochs)


if __name__ == "__main__":
    main()
