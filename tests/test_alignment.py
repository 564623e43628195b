"""Brain–model alignment: ridge encoding, ceilings, profiles, hierarchy scores, CKA, Procrustes, activations."""
import sys

import numpy as np
import pytest
from scipy.stats import ortho_group

import neurodata.alignment as al
from neurodata.errors import InvalidInputError
from neurosim.groundtruth import representations as gt


@pytest.fixture(scope="module")
def network():
    layers = gt.random_network(n_stimuli=400, width=40, n_layers=8, seed=0)
    return layers, gt.readout_regions(layers, n_channels=12, noise=0.5, seed=1)


# ---------------------------------------------------------------- ridge (unit: exact against closed forms)

@pytest.mark.parametrize("n_features", [30, 200])  # primal (p < n) and dual/kernel (p >= n) paths
def test_ridge_matches_closed_form_and_sklearn(n_features):
    from sklearn.linear_model import Ridge

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, n_features))
    Y = X @ rng.standard_normal((n_features, 6)) + rng.standard_normal((120, 6))
    enc = al.RidgeEncoder(alphas=[0.1, 10.0, 1000.0], cv=4).fit(X, Y)
    X_new = rng.standard_normal((15, n_features))
    pred = enc.predict(X_new)
    for j, a in enumerate(enc.alpha_):
        ref = Ridge(alpha=a).fit(X, Y[:, j]).predict(X_new)
        np.testing.assert_allclose(pred[:, j], ref, rtol=1e-6, atol=1e-8)


def test_alpha_per_target_follows_noise_level():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 50))
    signal = X @ rng.standard_normal((50, 2))
    Y = np.column_stack([signal[:, 0] + 0.01 * rng.standard_normal(300), signal[:, 1] + 20 * rng.standard_normal(300)])
    alpha = al.RidgeEncoder().fit(X, Y).alpha_
    assert alpha[1] > 100 * alpha[0]  # noisy target → much stronger regularisation


def test_encoding_negative_control_shuffled_stimuli(network):
    layers, regions = network
    perm = np.random.default_rng(5).permutation(regions[3].shape[0])
    res = al.encoding_scores(layers[3], regions[3][perm])
    assert abs(res.mean_r) < 0.05
    assert al.encoding_scores(layers[3], regions[3]).mean_r > 0.7


# ---------------------------------------------------------------- 5. positive controls (ground truth)

def test_layer_profile_best_layer_equals_region_and_spatial_score(network):
    layers, regions = network
    profile, lnames, rnames = al.layer_profile(layers, regions, verbose=False)
    assert profile.shape == (8, 8)
    np.testing.assert_array_equal(al.best_layers(profile), np.arange(8))
    assert al.spatial_score(profile) >= 0.95


def test_temporal_score_from_meg_like_latencies():
    layers = gt.random_network(n_stimuli=250, width=24, n_layers=8, seed=3)
    meg = gt.meg_like(layers, n_sensors=8, n_times=30, latency0=3, latency_step=3, seed=4)
    tc = al.temporal_profile(layers, meg, verbose=False)
    # neighbouring layers share variance, so a peak may shift by one sample; the score is what matters
    assert np.abs(np.argmax(tc, axis=1) - (3 + 3 * np.arange(8))).max() <= 1
    assert al.temporal_score(tc) >= 0.95


# ---------------------------------------------------------------- CKA and Procrustes controls

def test_cka_controls():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 50))
    Q = ortho_group.rvs(50, random_state=1)
    assert al.cka(X, 3.0 * X @ Q) == pytest.approx(1.0, abs=1e-10)
    assert al.cka(X, 3.0 * X @ Q, debiased=True) == pytest.approx(1.0, abs=1e-10)
    Y = rng.standard_normal((1000, 50))
    assert abs(al.cka(X, Y, debiased=True)) < 0.02
    assert al.cka(X, Y) == pytest.approx(0.05, abs=0.01)   # the biased estimator's inflation ≈ d / (n + d)
    assert isinstance(al.cka(X, Y), float)


def test_cka_matches_explicit_gram_formulas():
    rng = np.random.default_rng(2)
    X, Y = rng.standard_normal((30, 80)), rng.standard_normal((30, 5)) + 0.3 * rng.standard_normal((30, 1))
    n = 30
    H = np.eye(n) - 1.0 / n
    K, L = H @ X @ X.T @ H, H @ Y @ Y.T @ H
    assert al.cka(X, Y) == pytest.approx(np.sum(K * L) / np.sqrt(np.sum(K * K) * np.sum(L * L)))

    def hsic_u(K, L):
        K, L = K.copy(), L.copy()
        np.fill_diagonal(K, 0)
        np.fill_diagonal(L, 0)
        one = np.ones(n)
        return (np.trace(K @ L) + one @ K @ one * (one @ L @ one) / ((n - 1) * (n - 2))
                - 2 / (n - 2) * one @ K @ L @ one) / (n * (n - 3))

    Kc, Lc = X @ X.T, Y @ Y.T
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    Kc, Lc = Xc @ Xc.T, Yc @ Yc.T
    expected = hsic_u(Kc, Lc) / np.sqrt(hsic_u(Kc, Kc) * hsic_u(Lc, Lc))
    assert al.cka(X, Y, debiased=True) == pytest.approx(expected)


def test_procrustes_distance():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    Q = ortho_group.rvs(10, random_state=3)
    assert al.procrustes_distance(X, 2 * X @ Q + 5) == pytest.approx(0.0, abs=1e-6)
    d_ind = al.procrustes_distance(X, rng.standard_normal((200, 10)))
    assert 0.5 < d_ind <= np.pi / 2
    wide = rng.standard_normal((200, 500))  # features > stimuli uses the other path; must agree
    Z = wide[:, :10] + 0.5 * rng.standard_normal((200, 10))
    a = al.procrustes_distance(wide, Z)
    b = al.procrustes_distance(Z, wide)
    assert a == pytest.approx(b)
    assert al.procrustes_distance(X, Z, kind="euclidean") == pytest.approx(
        np.sqrt(2 - 2 * np.cos(al.procrustes_distance(X, Z))))


# ---------------------------------------------------------------- 6. Spearman–Brown and real split halves

def test_spearman_brown():
    assert al.spearman_brown(0.5) == pytest.approx(2 / 3)
    np.testing.assert_allclose(al.spearman_brown(np.array([0.0, 1.0])), [0.0, 1.0])
    with pytest.raises(InvalidInputError):
        al.spearman_brown(1.5)


def test_spearman_brown_is_finite_and_bounded_for_negative_r():
    """#30: spearman_brown(-1) was -inf, and r < -1/3 left [-1, 1]; negative r is extended by symmetry."""
    r = np.linspace(-1, 1, 201)
    for k in (0.5, 2.0, 3.0):
        c = al.spearman_brown(r, factor=k)
        assert np.all(np.isfinite(c)) and np.all(np.abs(c) <= 1 + 1e-12)
        np.testing.assert_allclose(c, -al.spearman_brown(-r, factor=k))  # odd
        pos = r >= 0
        np.testing.assert_allclose(c[pos], k * r[pos] / (1 + (k - 1) * r[pos]))  # the prophecy where defined
    assert al.spearman_brown(-1.0) == -1.0


def test_noise_ceiling_from_real_head_direction_trials(testdata):
    """Conditions = head-direction bins, trials = 1 s windows of a real recording (15 units)."""
    import pandas as pd

    from neurodata.io import Intervals, read_behavior, read_spikes
    from neurodata.rsa import condition_responses

    path = testdata / "nwb" / "spikes_behavior_A2929-200711.nwb"
    hd = read_behavior(path)["CompassDirection/ry"]
    spikes = read_spikes(path)
    starts = np.arange(hd.start, hd.end - 1.0, 1.0)
    t = np.asarray(hd.times)
    angle = np.asarray(hd.data[:, 0])
    idx = np.searchsorted(t, starts + 0.5)
    bins = (np.mod(angle[idx], 2 * np.pi) // (2 * np.pi / 12)).astype(int) % 12
    trials = Intervals(starts, starts + 1.0, table=pd.DataFrame({"condition": bins}))
    resp = condition_responses(spikes, trials)
    assert len(resp.conditions) == 12 and resp.trials.shape == (starts.size, 15)
    half = al.split_half_reliability(resp.trials, resp.trial_conditions, n_splits=20, seed=0)
    ceiling = al.noise_ceiling(resp.trials, resp.trial_conditions, n_splits=20, seed=0)
    np.testing.assert_allclose(ceiling, al.spearman_brown(half))
    assert np.all(ceiling >= half - 1e-12) or np.any(half < 0)
    # head-direction cells: tuning to the bins is reliable for most units
    assert np.median(ceiling) > 0.5 and np.all(ceiling <= 1.0)
    # normalised scores: sign(r)·r²/c per target, clipped to [-1, 1]; trials of one bin stay in one fold
    X = np.column_stack([np.cos(np.arange(12) * np.pi / 6), np.sin(np.arange(12) * np.pi / 6)])
    Xt = X[np.asarray(resp.trial_conditions)]
    c = np.clip(ceiling, 0.01, None)
    res = al.encoding_scores(Xt, resp.trials, ceiling=c, groups=resp.trial_conditions, cv=4, inner_cv=3)
    np.testing.assert_allclose(res.normalized, np.clip(np.sign(res.r) * res.r ** 2 / c, -1, 1))
    for k in range(4):  # no bin is split between a training and a test set
        assert not set(np.asarray(resp.trial_conditions)[res.folds == k]) & \
            set(np.asarray(resp.trial_conditions)[res.folds != k])


# ---------------------------------------------------------------- activations

def test_record_activations_from_torch_and_arrays():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model.train()
    x = np.random.default_rng(0).standard_normal((10, 6)).astype(np.float32)
    acts = al.record_activations(model, x, ["0", "2"], batch_size=4)
    assert list(acts) == ["0", "2"] and acts["0"].shape == (10, 8) and acts["2"].shape == (10, 3)
    with torch.no_grad():
        np.testing.assert_allclose(acts["2"], model(torch.as_tensor(x)).numpy(), rtol=1e-5, atol=1e-6)
    assert model.training  # mode restored
    assert all(not m._forward_hooks for m in model.modules())
    with pytest.raises(InvalidInputError, match="Did you mean"):
        al.record_activations(model, x, ["00"])
    with pytest.raises(InvalidInputError, match="Allowed values are 'cpu', 'cuda', 'auto', but got 'gpu'"):
        al.record_activations(model, x, ["0"], device="gpu")  # the suite's one torch-device check
    assert model.training and all(not m._forward_hooks for m in model.modules())
    arrays = al.as_activations({"a": np.zeros((10, 2, 3)), "b": np.ones((10, 4))})
    assert arrays["a"].shape == (10, 6)
    with pytest.raises(InvalidInputError, match="different numbers of stimuli"):
        al.as_activations([np.zeros((10, 2)), np.zeros((9, 2))])


def test_import_stays_light():
    import subprocess

    code = "import neurodata.alignment, neurodata.rsa, sys; print('torch' in sys.modules, 'brian2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_bad_input():
    with pytest.raises(InvalidInputError, match="samples"):
        al.encoding_scores(np.zeros((10, 2)), np.zeros((9, 2)))
    with pytest.raises(InvalidInputError, match="alphas"):
        al.RidgeEncoder(alphas=[-1.0]).fit(np.ones((10, 2)), np.ones((10, 1)))
    with pytest.raises(InvalidInputError, match="NaN"):
        al.cka(np.full((5, 2), np.nan), np.ones((5, 2)))
    with pytest.raises(InvalidInputError, match="not fitted"):
        al.RidgeEncoder().predict(np.ones((3, 2)))


# ---------------------------------------------------------------- CLI

def test_cli_encode_temporal_similarity(tmp_path):
    from neurodata.cli import build_parser, run
    from neurodata.io import read_results

    layers = gt.random_network(n_stimuli=200, width=16, n_layers=4, seed=0)
    regions = gt.readout_regions(layers, n_channels=6, noise=0.3, seed=1)
    np.savez(tmp_path / "layers.npz", **{f"l{i}": a for i, a in enumerate(layers)})
    np.savez(tmp_path / "regions.npz", **{f"r{i}": a for i, a in enumerate(regions)})
    np.save(tmp_path / "meg.npy", gt.meg_like(layers, n_sensors=4, n_times=18, seed=2))
    parser = lambda: build_parser(modules=["neurodata.alignment.cli"])  # noqa: E731
    out = tmp_path / "enc.nwb"
    assert run(parser(), ["align", "encode", "--features", str(tmp_path / "layers.npz"), "--responses",
                          str(tmp_path / "regions.npz"), "--out", str(out), "--figure", str(out.with_suffix(".png")),
                          "--quiet"]) == 0
    res = read_results(out)
    np.testing.assert_array_equal(np.argmax(res.arrays["profile"], axis=0), np.arange(4))
    assert res.parameters["spatial_score"] >= 0.95 and out.with_suffix(".png").exists()
    out = tmp_path / "tmp.nwb"
    assert run(parser(), ["align", "temporal", "--features", str(tmp_path / "layers.npz"), "--meg",
                          str(tmp_path / "meg.npy"), "--sfreq", "100", "--out", str(out), "--quiet"]) == 0
    res = read_results(out)
    np.testing.assert_allclose(res.arrays["peak_latency"], (3 + 3 * np.arange(4)) / 100, atol=0.021)
    assert res.parameters["temporal_score"] >= 0.95
    out = tmp_path / "sim.nwb"
    np.save(tmp_path / "a.npy", layers[0])
    assert run(parser(), ["align", "similarity", str(tmp_path / "a.npy"), str(tmp_path / "a.npy"), "--out",
                          str(out), "--quiet"]) == 0
    assert read_results(out).parameters["cka"] == pytest.approx(1.0)
    assert run(parser(), ["align", "similarity", str(tmp_path / "missing.npy"), str(tmp_path / "a.npy"),
                          "--out", str(tmp_path / "x.nwb"), "--quiet"]) == 1


# ---------------------------------------------------------------- #30: scores that cannot flatter noise

def _noise_region(seed, n=120, n_features=30, n_targets=50):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_features)), rng.standard_normal((n, n_targets))


def test_noise_region_normalised_score_is_zero_on_average():
    """#30: on a pure-noise region (120 stimuli, 50 targets, ceiling 0.1) the unsigned r²/c averaged 0.18; the
    signed, capped score averages 0 (20 noise regions: one region's mean has a spread of about 0.04)."""
    signed, unsigned, mean_r = [], [], []
    for seed in range(20):
        X, Y = _noise_region(100 + seed)
        res = al.encoding_scores(X, Y, ceiling=np.full(50, 0.1), seed=seed)
        assert np.all(np.abs(res.normalized) <= 1)
        signed.append(np.mean(res.normalized))
        unsigned.append(np.mean(np.minimum(res.r ** 2 / 0.1, 1)))
        mean_r.append(res.mean_r)
    assert abs(np.mean(signed)) < 0.02
    assert abs(np.mean(mean_r)) < 0.01        # pooled out-of-fold r is not biased on noise
    assert np.mean(unsigned) > 0.1            # what dropping the sign gave: chance correlations add up


def test_layer_profile_with_ceilings_uses_the_signed_capped_score():
    """#30: layer_profile(ceilings=…) inherited r²/c; now each cell is the mean signed, capped score."""
    rng = np.random.default_rng(7)
    layers = [rng.standard_normal((120, 20)) for _ in range(3)]
    regions = {"a": rng.standard_normal((120, 40)), "b": rng.standard_normal((120, 40))}
    profile, _, _ = al.layer_profile(layers, regions, ceilings={"b": np.full(40, 0.1), "a": 0.1}, verbose=False)
    assert np.all(np.abs(profile) <= 1) and abs(profile.mean()) < 0.06
    # a reliable region predicted better than its ceiling is capped at 1, not above
    X = rng.standard_normal((120, 5))
    Y = X @ rng.standard_normal((5, 4))
    res = al.encoding_scores(X, Y, ceiling=np.full(4, 0.5))
    np.testing.assert_allclose(res.normalized, 1.0)
    assert np.all(np.isnan(al.normalized_score([0.3, -0.2], [0.0, -0.1])))  # unreliable targets: no score
    np.testing.assert_allclose(al.normalized_score([-0.3, 0.3], [0.5, 0.5], "r/sqrt(c)"), [-0.3 / 0.5 ** 0.5,
                                                                                          0.3 / 0.5 ** 0.5])
    with pytest.raises(InvalidInputError, match="Did you mean 'r2/c'"):
        al.normalized_score([0.1], [0.5], "r2c")


def test_small_folds_are_scored_on_pooled_predictions():
    """#30: n = 10, cv = 5 gives test folds of 2, where every per-fold r is ±1; the score is pooled."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 4))
    Y = X @ rng.standard_normal((4, 20)) + rng.standard_normal((10, 20))
    res = al.encoding_scores(X, Y, cv=5, inner_cv=4)
    np.testing.assert_allclose(np.abs(res.r_folds), 1.0)       # the old score averaged these
    assert np.all(np.abs(np.abs(res.r) - 1) > 1e-3)             # the pooled r is not ±1
    assert np.mean(res.r) > 0.3                                  # and still sees the signal
    assert res.predictions.shape == Y.shape and sorted(np.bincount(res.folds)) == [2] * 5
    noise = al.encoding_scores(X, rng.standard_normal((10, 200)), cv=5, inner_cv=4)
    assert np.mean(np.abs(np.abs(noise.r) - 1) < 1e-6) == 0 and abs(noise.mean_r) < 0.1


def test_folds_are_shuffled_with_a_seed_and_respect_groups():
    """#30: folds were contiguous, so stimuli stored concept by concept were held out category by category."""
    rng = np.random.default_rng(3)
    concept = np.repeat(np.arange(5), 24)            # stored concept by concept
    X = rng.standard_normal((120, 10))
    Y = X @ rng.standard_normal((10, 3)) + rng.standard_normal((120, 3))
    res = al.encoding_scores(X, Y)
    for k in range(5):
        assert np.unique(concept[res.folds == k]).size >= 4   # every fold mixes the categories
    again = al.encoding_scores(X, Y, seed=0)
    np.testing.assert_array_equal(res.folds, again.folds)
    np.testing.assert_array_equal(res.r, again.r)
    assert not np.array_equal(res.folds, al.encoding_scores(X, Y, seed=1).folds)
    contiguous = al.encoding_scores(X, Y, shuffle=False)
    np.testing.assert_array_equal(contiguous.folds, concept)  # the old behaviour, still available
    items = np.repeat(np.arange(30), 4)                     # four views of each of 30 items
    grouped = al.encoding_scores(X, Y, groups=items, seed=2)
    for k in range(5):
        assert not set(items[grouped.folds == k]) & set(items[grouped.folds != k])
    with pytest.raises(InvalidInputError, match="distinct groups"):
        al.encoding_scores(X, Y, groups=np.repeat([0, 1, 2], 40))
    with pytest.raises(InvalidInputError, match="one label per stimulus"):
        al.encoding_scores(X, Y, groups=items[:-1])
    enc = al.RidgeEncoder(seed=4).fit(X, Y, groups=items)
    assert enc.alpha_.shape == (3,)


def test_profiles_docstring_makes_no_unsourced_pearson_claim():
    """#30: the module said the paper reports Pearson correlations for both scores; nothing we read says so."""
    import neurodata.alignment.profiles as profiles

    assert "report Pearson" not in profiles.__doc__ and "not stated" in profiles.__doc__


@pytest.fixture(scope="module")
def small_network():
    layers = gt.random_network(n_stimuli=160, width=16, n_layers=5, seed=0)
    return layers, gt.readout_regions(layers, n_channels=6, noise=0.5, seed=1)


def test_shuffled_hierarchy_control(network):
    layers, regions = network
    profile, _, _ = al.layer_profile(layers, regions, verbose=False)
    ctl = al.shuffled_hierarchy_control(profile, n_permutations=500, seed=0)
    assert ctl.observed >= 0.95 and ctl.p_value < 0.01 and ctl.null.shape == (500,)
    assert abs(np.mean(ctl.null)) < 0.1                      # a shuffled hierarchy scores about 0
    again = al.shuffled_hierarchy_control(profile, n_permutations=500, seed=0)
    np.testing.assert_array_equal(ctl.null, again.null)
    tc = np.eye(6)[:, ::-1]                                   # peaks later for shallower layers: score -1
    t = al.shuffled_hierarchy_control(tc, kind="temporal", n_permutations=200, seed=1)
    assert t.observed == pytest.approx(-1.0) and t.p_value > 0.9


def test_shuffled_stimuli_control_spatial_and_temporal(small_network):
    layers, regions = small_network
    ctl = al.shuffled_stimuli_control(layers, regions, n_permutations=3, seed=0, verbose=False)
    assert ctl.observed >= 0.95 and ctl.profile.shape == (5, 5)
    assert np.abs(ctl.null_profile).max() < 0.15 and ctl.profile.max() > 0.5   # no encoding left
    assert np.all(np.nan_to_num(ctl.null, nan=0.0) < ctl.observed) and ctl.p_value == pytest.approx(0.25)
    meg = gt.meg_like(layers, n_sensors=4, n_times=20, latency0=2, latency_step=3, seed=2)
    tctl = al.shuffled_stimuli_control(layers, meg, kind="temporal", n_permutations=2, seed=0, verbose=False)
    assert tctl.observed >= 0.9 and np.abs(tctl.null_profile).max() < 0.15
    assert np.all(np.nan_to_num(tctl.null, nan=0.0) < tctl.observed)


def test_aggregate_subjects_mean_and_sem():
    scores = np.array([0.9, 0.7, 0.8, np.nan])
    s = al.aggregate_subjects(scores)
    ok = scores[:3]
    assert s.mean == pytest.approx(ok.mean()) and s.sem == pytest.approx(ok.std(ddof=1) / np.sqrt(3))
    assert s.n_subjects == 3
    profiles = np.random.default_rng(0).normal(size=(6, 4, 3))
    p = al.aggregate_subjects(list(profiles))
    np.testing.assert_allclose(p.mean, profiles.mean(0))
    np.testing.assert_allclose(p.sem, profiles.std(0, ddof=1) / np.sqrt(6))
    assert np.isnan(al.aggregate_subjects([0.5]).sem)
    with pytest.raises(InvalidInputError, match="inf"):
        al.aggregate_subjects([0.5, np.inf])


def test_cli_takes_hierarchy_depths_ceilings_and_groups(tmp_path, small_network):
    """#30: the CLI took layers and regions in column order only, with no depths or ceilings."""
    from neurodata.cli import build_parser, run
    from neurodata.io import read_results

    layers, regions = small_network
    order = [3, 0, 4, 1, 2]                                   # regions saved out of hierarchy order
    np.savez(tmp_path / "layers.npz", **{f"l{i}": a for i, a in enumerate(layers)})
    np.savez(tmp_path / "regions.npz", **{f"r{j}": regions[j] for j in order})
    np.savez(tmp_path / "ceil.npz", **{f"r{j}": np.full(6, 0.6) for j in order})
    np.save(tmp_path / "groups.npy", np.repeat(np.arange(40), 4))
    parser = lambda: build_parser(modules=["neurodata.alignment.cli"])  # noqa: E731
    base = ["align", "encode", "--features", str(tmp_path / "layers.npz"), "--responses",
            str(tmp_path / "regions.npz"), "--quiet", "--n-permutations", "200"]
    assert run(parser(), base + ["--out", str(tmp_path / "plain.nwb")]) == 0
    assert read_results(tmp_path / "plain.nwb").parameters["spatial_score"] < 0.9
    argv = base + ["--hierarchy", ",".join(map(str, order)), "--ceilings", str(tmp_path / "ceil.npz"),
                   "--groups", str(tmp_path / "groups.npy"), "--seed", "3", "--out", str(tmp_path / "h.nwb")]
    assert run(parser(), argv) == 0
    res = read_results(tmp_path / "h.nwb")
    assert res.parameters["spatial_score"] >= 0.95 and res.parameters["spatial_p_value"] < 0.05
    assert res.parameters["profile_score"] == "normalized" and np.nanmax(res.arrays["profile"]) <= 1
    assert res.parameters["hierarchy"] == [float(j) for j in order] and res.parameters["seed"] == 3
    argv = base + ["--hierarchy", ",".join(map(str, order)), "--layer-depths", "4,3,2,1,0", "--method",
                   "spearman", "--out", str(tmp_path / "d.nwb")]
    assert run(parser(), argv) == 0
    assert read_results(tmp_path / "d.nwb").parameters["spatial_score"] <= -0.95   # depths reversed
    bad = base + ["--hierarchy", "0,1", "--out", str(tmp_path / "bad.nwb")]
    assert run(parser(), bad) == 1 and not (tmp_path / "bad.nwb").exists()
    with pytest.raises(SystemExit) as exc:
        run(parser(), base + ["--hierarchy", "a,b", "--out", str(tmp_path / "bad.nwb")])
    assert exc.value.code == 2
    np.save(tmp_path / "meg.npy", gt.meg_like(layers, n_sensors=4, n_times=18, seed=2))
    argv = ["align", "temporal", "--features", str(tmp_path / "layers.npz"), "--meg", str(tmp_path / "meg.npy"),
            "--layer-depths", "0,1,2,3,4", "--n-permutations", "100", "--out", str(tmp_path / "t.nwb"), "--quiet"]
    assert run(parser(), argv) == 0
    res = read_results(tmp_path / "t.nwb")
    assert res.parameters["temporal_score"] >= 0.9 and res.parameters["temporal_p_value"] < 0.05
