"""MM-GPVAE (Gondur et al. 2023): prior, closed forms, ELBO against float64 transcriptions, reference quirks,
bad input, and recovery of the paper's planted latents on a small faithful configuration."""
import math
import subprocess
import sys

import numpy as np
import pytest

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurodata.mmgpvae import affine_r2, fourier_basis, fourier_frequencies, prior_variance, real_dft_basis, to_trials

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------------------------------------- prior
def test_number_of_fourier_coefficients():
    assert fourier_basis(60).n_coefficients == 12
    assert fourier_basis(40).n_coefficients == 8
    k, n_circ = fourier_frequencies(60)
    assert n_circ == pytest.approx(72.0)
    assert list(k) == [0, 1, 2, 3, 4, 5, -6, -5, -4, -3, -2, -1]


def test_prior_variance_matches_formula():
    basis = fourier_basis(60)
    ell = 7.5
    omega = (2 * np.pi * basis.k / 72.0) ** 2
    expected = np.sqrt(2 * np.pi) * 1.0 * ell * np.exp(-0.5 * omega * ell ** 2) + 1e-2
    np.testing.assert_allclose(prior_variance(ell, basis.omega2), expected, rtol=1e-12)
    torch_value = prior_variance(torch.tensor([[ell]], dtype=torch.float64), basis.omega2)
    np.testing.assert_allclose(torch_value.numpy()[0], expected, rtol=1e-12)


def test_full_real_dft_basis_is_orthonormal():
    k, n = fourier_frequencies(16, min_length=1.0, condthresh=1e8, circ_extension=0.0)
    assert len(k) == 16  # nothing truncated at this length scale
    b = real_dft_basis(16, n, k)
    np.testing.assert_allclose(b @ b.T, np.eye(16), atol=1e-12)


def test_prior_matches_rbf_covariance_on_the_circle():
    """Fourier coefficients with variance K(ω) give (approximately) the RBF covariance in time."""
    k, n = fourier_frequencies(64, min_length=1.0, circ_extension=0.0)
    b = real_dft_basis(64, n, k)
    ell = 6.0
    cov = b.T @ np.diag(prior_variance(ell, (2 * np.pi * k / n) ** 2, eps=0.0)) @ b
    lag = np.arange(8)
    np.testing.assert_allclose(cov[0, lag], np.exp(-lag ** 2 / (2 * ell ** 2)), atol=1e-3)


def test_trial_shorter_than_gp_minimum_is_refused():
    with pytest.raises(InvalidInputError, match="shorter than the GP prior's minimum length"):
        fourier_basis(8)


# ------------------------------------------------------------------------------------------ small models
def _tiny_net(objective="corrected", domain="fourier", n_bins=20, seed=0):
    from neurodata.mmgpvae.network import MMGPVAENet, ModalitySpec

    torch.manual_seed(seed)
    specs = [ModalitySpec("spikes", "poisson", 5, 1, (6,)), ModalitySpec("images", "image", 9, 1, (8,), (7,)),
             ModalitySpec("pos", "gaussian", 2, 1, (4,))]
    basis = fourier_basis(n_bins, min_length=4.0) if domain == "fourier" else None
    net = MMGPVAENet(specs, 1, n_bins, basis=basis, domain=domain, objective=objective, length_scale_init=5.0,
                     log_mean_rates={"spikes": np.log(np.full(5, 0.5))},
                     variance_inits={"images": 2.0, "pos": np.array([0.5, 1.5])}).double()
    rng = np.random.default_rng(seed)
    batch = {"spikes": torch.from_numpy(rng.poisson(0.5, (3, n_bins, 5)).astype(float)),
             "images": torch.from_numpy(rng.normal(size=(3, n_bins, 9))),
             "pos": torch.from_numpy(rng.normal(size=(3, n_bins, 2)))}
    return net, batch


def test_closed_form_poisson_expectation_matches_monte_carlo(one_thread):
    """E_q[exp(W z_t + b)] from the Fourier posterior: closed form vs 10^5 samples, within 1 %."""
    net, batch = _tiny_net()
    with torch.no_grad():
        m, s = net.posterior(batch)
        s = s - 1.0  # moderate posterior spread
        idx = net.decoder_index("spikes")
        dec = net.decoders["spikes"]
        closed = dec.rates(net.to_time(m)[..., idx], net.time_variance(s)[..., idx])[0]  # trial 0, (T, 5)
        gen = torch.Generator().manual_seed(1)
        total = torch.zeros_like(closed)
        n, chunk = 100_000, 10_000
        for _ in range(n // chunk):
            z = m[:1] + torch.randn((chunk,) + m.shape[1:], generator=gen, dtype=m.dtype) * torch.exp(s[:1])
            total += torch.exp(dec.linear(net.to_time(z)[..., idx])).sum(0)
        mc = total / n
    rel = (mc / closed - 1).abs().max().item()
    assert rel < 0.01, rel


def test_corrected_elbo_matches_float64_transcription(one_thread):
    net, batch = _tiny_net()
    with torch.no_grad():
        m, s = (t.numpy() for t in net.posterior(batch))
        basis, omega2 = net.basis.numpy(), net.omega2.numpy()
        ell = np.exp(net.length_param.numpy())
        k = np.sqrt(2 * np.pi) * ell[:, None] * np.exp(-0.5 * omega2[None] * ell[:, None] ** 2) + 1e-2
        kl = 0.5 * ((m ** 2 + np.exp(2 * s)) / k - 1 - 2 * s + np.log(k)).sum((1, 2))
        mean_t = np.einsum("blk,kt->btl", m, basis)
        var_t = np.einsum("blk,kt->btl", np.exp(2 * s), basis ** 2)
        # spikes: latents [private spikes, shared] = columns 0, 1
        lin = net.decoders["spikes"].linear
        w, b = lin.weight.numpy(), lin.bias.numpy()
        eta = mean_t[..., :2] @ w.T + b
        veta = var_t[..., :2] @ (w ** 2).T
        y = batch["spikes"].numpy()
        lgam = np.vectorize(math.lgamma)(y + 1)
        ll_spk = (y * eta - np.exp(eta + veta / 2) - lgam).sum((1, 2))
        # pos: linear Gaussian decoder on [shared, pos private] = columns 1, 3 (closed form)
        dec = net.decoders["pos"]
        lin = dec.net[0]
        w, b, v = lin.weight.numpy(), lin.bias.numpy(), np.exp(dec.variance_param.numpy())
        x = batch["pos"].numpy()
        sq = (x - mean_t[..., [1, 3]] @ w.T - b) ** 2 + var_t[..., [1, 3]] @ (w ** 2).T
        ll_pos = -0.5 * (sq / v + np.log(2 * np.pi * v)).sum((1, 2))
        # the image term uses one sample; replay the generator to get the same one
        gen = torch.Generator().manual_seed(3)
        loss, parts = net.loss(batch, gen)
        gen = torch.Generator().manual_seed(3)
        eps = torch.randn(m.shape, generator=gen, dtype=torch.float64).numpy()
        z_t = np.einsum("blk,kt->btl", m + eps * np.exp(s), basis)
        xhat = net.decoders["images"](torch.from_numpy(z_t[..., [1, 2]])).numpy()
        vi = np.exp(net.decoders["images"].variance_param.numpy())
        ll_img = -0.5 * ((batch["images"].numpy() - xhat) ** 2 / vi + np.log(2 * np.pi * vi)).sum((1, 2))
    expected = np.mean(kl - ll_spk - ll_pos - ll_img)
    assert loss.item() == pytest.approx(expected, rel=1e-10)
    assert parts["kl"] == pytest.approx(kl.mean(), rel=1e-10)


def test_fourier_kl_matches_monte_carlo(one_thread):
    net, batch = _tiny_net()
    with torch.no_grad():
        m, s = net.posterior(batch)
        closed = net.kl(m, s)[0].item()
        q = torch.distributions.Normal(m[0], torch.exp(s[0]))
        p = torch.distributions.Normal(torch.zeros_like(m[0]), torch.sqrt(net.prior_variance()))
        z = q.sample((20000,))
        mc = (q.log_prob(z) - p.log_prob(z)).sum((1, 2)).mean().item()
    assert mc == pytest.approx(closed, rel=0.02, abs=0.5)


def test_time_domain_kl_matches_torch_distributions(one_thread):
    net, batch = _tiny_net(domain="time")
    with torch.no_grad():
        m, s = net.posterior(batch)
        assert m.shape == (3, net.n_latents, 20)
        from neurodata.mmgpvae.prior import rbf_covariance
        cov = rbf_covariance(20, net.length_scale(), eps=1e-2)
        p = torch.distributions.MultivariateNormal(torch.zeros(20, dtype=m.dtype), covariance_matrix=cov)
        q = torch.distributions.MultivariateNormal(m, scale_tril=torch.diag_embed(torch.exp(s)))
        expected = torch.distributions.kl_divergence(q, p).sum(1)
        np.testing.assert_allclose(net.kl(m, s).numpy(), expected.numpy(), rtol=1e-8)


def test_shared_posterior_is_the_mean_of_the_encoders(one_thread):
    net, batch = _tiny_net()
    with torch.no_grad():
        m, s = net.posterior(batch)
        shared = net.group_index("shared")[0]
        outs = [net.encoders[n](batch[n]) for n in ("spikes", "images", "pos")]
        np.testing.assert_allclose(m[:, shared].numpy(), np.mean([o[0][:, 1].numpy() for o in outs], 0))
        np.testing.assert_allclose(s[:, shared].numpy(), np.mean([o[1][:, 1].numpy() for o in outs], 0))
        # order [first modality's private, shared, the others' private]
        assert net.latent_names() == ["spikes/private0", "shared0", "images/private0", "pos/private0"]
        np.testing.assert_allclose(m[:, 0].numpy(), outs[0][0][:, 0].numpy())


def test_shared_posterior_from_a_subset_of_encoders(one_thread):
    net, batch = _tiny_net()
    with torch.no_grad():
        m, s = net.posterior(batch, shared_from=["images"])
        shared = net.group_index("shared")[0]
        m_img, s_img = net.encoders["images"](batch["images"])
        np.testing.assert_allclose(m[:, shared].numpy(), m_img[:, 1].numpy())
        np.testing.assert_allclose(s[:, shared].numpy(), s_img[:, 1].numpy())
        m_all, _ = net.posterior(batch)
        assert not np.allclose(m[:, shared].numpy(), m_all[:, shared].numpy())
        np.testing.assert_allclose(m[:, 0].numpy(), m_all[:, 0].numpy())  # private latents unchanged


def test_kl_weight_scales_only_the_kl_term(one_thread):
    """The KL warm-up's loss: kl_weight * KL - E log p, with the same noise."""
    net, batch = _tiny_net()
    with torch.no_grad():
        full, parts = net.loss(batch, torch.Generator().manual_seed(2))
        part, parts_w = net.loss(batch, torch.Generator().manual_seed(2), kl_weight=0.25)
    assert parts_w == parts
    assert part.item() == pytest.approx(full.item() - 0.75 * parts["kl"], rel=1e-10)


def test_kl_warmup_trains_and_reports_the_full_elbo(one_thread):
    from neurodata.mmgpvae import MMGPVAE

    data = _toy_modalities()
    est = MMGPVAE(epochs=3, kl_warmup=2, min_length=4.0, seed=0, restore_best=False).fit(data)
    for row in est.history_:  # the reported loss is the negative ELBO, not the down-weighted one
        assert row["loss"] == pytest.approx(row["kl"] + row["nll_spikes"] + row["nll_pos"], rel=1e-6)
    with pytest.raises(InvalidInputError, match="no KL warm-up; use kl_warmup=0"):
        MMGPVAE(objective="reference", kl_warmup=5).fit(data)
    with pytest.raises(InvalidInputError, match="kl_warmup"):
        MMGPVAE(kl_warmup=-1).fit(data)


def test_reference_objective_reproduces_its_quirks(one_thread):
    """(μ + σ)² in the GP term, exp(s) a variance in the Poisson term, the batch × batch broadcast."""
    net, batch = _tiny_net(objective="reference")
    assert net.length_param.numel() == 1 and net.decoders["images"].variance().item() == 100.0
    with torch.no_grad():
        m, s = net.posterior(batch)
        k = net.prior_variance()
        gp = 0.5 * ((m + torch.exp(s)) ** 2 / k + torch.log(2 * math.pi * k)).sum((1, 2))
        pen = -s.sum((1, 2))
        idx = net.decoder_index("spikes")
        lin = net.decoders["spikes"].linear
        eta = lin(net.to_time(m)[..., idx])
        var_as_variance = torch.einsum("blk,kt->btl", torch.exp(s), net.basis ** 2)[..., idx]
        y = batch["spikes"]
        pois = -(y * eta - torch.exp(eta + 0.5 * var_as_variance @ (lin.weight ** 2).T) - torch.lgamma(y + 1)).sum((1, 2))
        gen = torch.Generator().manual_seed(5)
        loss, _ = net.loss(batch, gen, nominal_batch=20)
        gen = torch.Generator().manual_seed(5)
        z_t = net.to_time(net.sample(m, s, gen))
        cols = sum(net.decoders[n].reference_nll(batch[n], z_t[..., net.decoder_index(n)])[:, 0]
                   for n in ("images", "pos"))
        b = m.shape[0]
        expected = (b * (pen + gp + pois).sum() + b * cols.sum()) / 20
    assert loss.item() == pytest.approx(expected.item(), rel=1e-10)


# -------------------------------------------------------------------------------------------- estimator
def _toy_modalities(n_trials=6, n_bins=20, seed=0):
    rng = np.random.default_rng(seed)
    return {"spikes": rng.poisson(1.0, (n_trials, n_bins, 4)), "pos": rng.normal(size=(n_trials, n_bins, 2))}


def test_bad_input_names_what_is_wrong():
    from neurodata.mmgpvae import MMGPVAE

    data = _toy_modalities()
    est = MMGPVAE(epochs=1, min_length=4.0, seed=0)
    with pytest.raises(InvalidInputError, match="equal trials and bins.*'pos' is 6 × 19"):
        est.fit({"spikes": data["spikes"], "pos": data["pos"][:, :19]})
    bad = data["pos"].copy()
    bad[2, 3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="'pos' contains 1 NaN"):
        est.fit({"spikes": data["spikes"], "pos": bad})
    with pytest.raises(InvalidInputError, match="shorter than the GP prior's minimum length"):
        MMGPVAE(epochs=1, seed=0).fit({k: v[:, :8] for k, v in data.items()})
    with pytest.raises(InvalidInputError, match="must be \\(trials, bins, features\\).*to_trials"):
        est.fit({"spikes": data["spikes"][0]})
    with pytest.raises(InvalidInputError, match="declared 'poisson'"):
        MMGPVAE(epochs=1, kinds={"pos": "poisson"}).fit(data)
    with pytest.raises(InvalidInputError, match="Allowed values are 'fourier', 'time'"):
        MMGPVAE(domain="fourrier").fit(data)


def test_missing_torch_is_a_backend_error():
    code = ("import sys\n"
            "class Block:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] == 'torch':\n"
            "            raise ImportError('No module named torch')\n"
            "sys.meta_path.insert(0, Block())\n"
            "import neurodata.mmgpvae as m\n"
            "from neurodata.errors import BackendUnavailableError\n"
            "try:\n    m.MMGPVAE\nexcept BackendUnavailableError as e:\n    print('OK', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.startswith("OK") and "pip install 'neurosuite[deep]'" in out.stdout, out.stdout + out.stderr
    assert issubclass(BackendUnavailableError, ImportError)


def test_import_is_light():
    code = "import sys, neurodata.mmgpvae; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_to_trials_and_affine_r2():
    series = np.arange(50.0)[:, None] * np.ones((1, 3))
    trials = to_trials(series, 20)
    assert trials.shape == (2, 20, 3) and trials[1, 0, 0] == 20.0
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 30, 1))
    assert affine_r2(z, 3 * z[..., 0] - 1) == pytest.approx(1.0)
    assert affine_r2(z, rng.normal(size=(4, 30))) < 0.05


# ------------------------------------------------------------------------------------- the paper's simulation
def test_simulation_follows_the_paper():
    from neurosim.groundtruth.mmgpvae import digit_images, simulate_mmgpvae, split_trials, zoom_clipped

    sim = simulate_mmgpvae(n_trials=30, n_bins=40, n_neurons=12, digit_size=12, pad=2, seed=32)
    assert sim.spikes.shape == (30, 40, 12) and sim.images.shape == (30, 40, 256) and sim.side == 16
    drive = sim.gps[..., :2] @ sim.weights.T + sim.offsets
    np.testing.assert_allclose(sim.rates, np.exp(drive))
    np.testing.assert_allclose(sim.angles, 120.0 * sim.gps[..., 0])
    np.testing.assert_allclose(sim.zooms, sim.gps[..., 2])
    assert np.all(np.abs(sim.weights) <= 1.5) and np.all(np.abs(sim.offsets) <= 0.5)
    # GP variances 0.3, 0.5, 0.8 (GP3 offset by 1); the same int seed gives the same draw
    np.testing.assert_allclose(sim.gps.reshape(-1, 3).var(0), [0.3, 0.5, 0.8], rtol=0.35)
    assert abs(sim.gps[..., 2].mean() - 1.0) < 0.3
    again = simulate_mmgpvae(n_trials=30, n_bins=40, n_neurons=12, digit_size=12, pad=2, seed=32)
    np.testing.assert_array_equal(sim.spikes, again.spikes)
    digits = digit_images(3, 28)
    assert digits.shape == (183, 28, 28) and digits.max() == pytest.approx(255.0, abs=1.0)
    img = np.pad(digits[0], 4)
    for factor in (0.3, 0.77, 1.0, 1.6, 2.9):
        assert zoom_clipped(img, factor).shape == (36, 36)
    assert zoom_clipped(img, 0.01).sum() == 0.0
    train, test = split_trials(300, seed=10)
    assert len(train) == 240 and len(test) == 60 and not set(train) & set(test)


# ---------------------------------------------------------------------------------------------- NWB and CLI
HD_FILE = "nwb/spikes_behavior_A2929-200711.nwb"


def test_read_modalities_bins_units_and_head_direction(testdata):
    from neurodata.mmgpvae.io import read_modalities

    b = read_modalities(testdata / HD_FILE, ["units", "CompassDirection/ry"], bin_size=0.2, n_bins=30)
    assert b.data["units"].shape[1:] == (30, 15) and b.data["CompassDirection/ry"].shape[1:] == (30, 2)
    assert b.start >= 670.6  # the behaviour's support, shorter than the units'
    cos, sin = np.moveaxis(b.data["CompassDirection/ry"], 2, 0)
    assert np.all(cos ** 2 + sin ** 2 <= 1 + 1e-9)  # bin means of unit vectors
    assert b.features["CompassDirection/ry"] == ["cos CompassDirection/ry", "sin CompassDirection/ry"]
    with pytest.raises(Exception, match="Allowed values are units"):
        read_modalities(testdata / HD_FILE, ["units", "HeadDirection"])


def test_cli_writes_latents_and_gp_hyperparameters(testdata, tmp_path, one_thread):
    import argparse

    from neurodata import io
    from neurodata.mmgpvae import cli

    parser = argparse.ArgumentParser()
    cli.configure(parser.add_subparsers())
    out = tmp_path / "latents.nwb"
    args = parser.parse_args(["mmgpvae", str(testdata / HD_FILE), "--modality", "units", "--modality",
                              "CompassDirection/ry", "--bin-size", "0.5", "--n-trial-bins", "20", "--n-epochs", "2",
                              "--torch-device", "cpu", "--torch-threads", "1", "--out", str(out), "--quiet"])
    assert args.func(args) == 0
    res = io.read_results(out)
    assert res.analysis == "mmgpvae"
    assert res.parameters["latent_names"] == ["units/private0", "shared0", "CompassDirection/ry/private0"]
    assert res.traces["latents"].n_channels == 3
    assert res.traces["latents"].rate == pytest.approx(2.0)
    assert res.arrays["length_scale_s"].shape == (3,)
    assert "noise_variance_CompassDirection_ry" in res.arrays
    assert res.traces["reconstruction_units"].n_channels == 15
    assert res.parameters["modalities"] == ["units", "CompassDirection/ry"]
    assert res.sources and res.sources[0]["sha256"]
    with pytest.raises(Exception, match="already exists"):
        args.func(args)


# ------------------------------------------------------------------------------------------- ground truth
def test_recovers_planted_latents_on_a_small_simulation(one_thread):
    """The paper's simulation, small (60 trials × 40 bins, 30 neurons, 16 × 16 digits, narrower image MLP,
    image learning rate 1e-3), 100 epochs. Measured on training seeds 0, 1, 2 (held-out trials): neural-only
    latent ↔ GP2 R² 0.885 / 0.720 / 0.837, rate correlation 0.939 / 0.828 / 0.827; the thresholds below keep
    a margin under the worst seed. Shared ↔ angle (0.88 / 0.13 / 0.26) and image-only ↔ zoom (0.29 / 0.01 /
    0.29) are not identified this early on every seed, so they are not asserted here (see the model card)."""
    from neurodata.mmgpvae import MMGPVAE, rate_correlation
    from neurosim.groundtruth.mmgpvae import simulate_mmgpvae, split_trials

    sim = simulate_mmgpvae(n_trials=60, n_bins=40, n_neurons=30, digit_size=12, pad=2, seed=32)
    train, test = split_trials(60, seed=10)
    model = MMGPVAE(kinds={"images": "image"}, epochs=100, seed=0, lr={"images": (1e-3, 1e-3)},
                    encoder_hidden={"images": (128, 64)}, decoder_hidden={"images": (64, 128)}, restore_best=False)
    model.fit({k: v[train] for k, v in sim.modalities.items()})
    held_out = {k: v[test] for k, v in sim.modalities.items()}
    z = model.transform(held_out)
    assert model.latent_names_ == ["spikes/private0", "shared0", "images/private0"]
    assert affine_r2(z[..., 0], sim.gps[test, :, 1]) >= 0.6
    assert rate_correlation(model.reconstruct(held_out)["spikes"], sim.rates[test]) >= 0.7
    losses = [h["loss"] for h in model.history_]
    assert losses[-1] < losses[0]
    # the learned length scales moved from their initial 30 bins towards the truth (10 bins)
    assert np.all(model.length_scale_ < 25)
    # spikes alone still give the shared and neural latents; the images' private latent is then 0
    z_spikes = model.transform({"spikes": held_out["spikes"]})
    assert np.all(z_spikes[..., 2] == 0.0)


@pytest.mark.slow
def test_head_direction_shared_latents_decode_heading(testdata, one_thread):
    """Real data: 15 units + CompassDirection/ry (as cos, sin), 0.1 s bins, 60-bin trials, the last 20 % of trials
    held out. Shared latents inferred from the spikes alone, mapped affinely (fitted on the training trials),
    decode (cos θ, sin θ) after 80 epochs with a 30-epoch KL warm-up with R² 0.76/0.85, 0.75/0.88, 0.74/0.91,
    0.78/0.89 on seeds 0-3 (without the warm-up seed 0 collapses to the prior, R² ≈ 0; model card), so this
    checks the worst seed, 0, against 0.6."""
    from neurodata.mmgpvae import MMGPVAE
    from neurodata.mmgpvae.io import read_modalities

    b = read_modalities(testdata / HD_FILE, ["units", "CompassDirection/ry"], bin_size=0.1, n_bins=60)
    d, n = b.data, b.n_trials
    train, test = np.arange(n - n // 5), np.arange(n - n // 5, n)
    model = MMGPVAE(n_shared=2, n_private={"units": 1, "CompassDirection/ry": 0}, epochs=80, kl_warmup=30, seed=0)
    model.fit({k: v[train] for k, v in d.items()})
    shared, private = model.latent_index("shared"), model.latent_index("units")
    hd = d["CompassDirection/ry"]
    z_tr, z_te = (model.transform({"units": d["units"][i]}) for i in (train, test))
    r2_shared = affine_r2(z_te[..., shared], hd[test], fit_on=(z_tr[..., shared], hd[train]))
    r2_private = affine_r2(z_te[..., private], hd[test], fit_on=(z_tr[..., private], hd[train]))
    assert np.all(r2_shared >= 0.6), r2_shared
    assert r2_shared.mean() > r2_private.mean() + 0.3
