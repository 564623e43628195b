"""RSA and topological RSA: unit (exact), ground truth (planted structure), real MEG data through the CLI."""
import numpy as np
import pandas as pd
import pytest
from scipy.spatial.distance import pdist, squareform as sp_squareform
from scipy.stats import rankdata, spearmanr

import neurodata.rsa as rsa
from neurodata.errors import InvalidInputError, NeurosuiteWarning
from neurosim.groundtruth import representations as gt


def _rdm(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return pdist(rng.standard_normal((n, 5)))


# ---------------------------------------------------------------- 1. GT invariances (unit, exact)

@pytest.mark.parametrize("warp", [np.sqrt, np.log1p, lambda x: x ** 3])
@pytest.mark.parametrize("lu", [(0.4, 0.6), (0.0, 0.075), (0.2, 0.8), (0.5, 0.5)])
def test_gt_invariant_to_monotone_transforms(warp, lu):
    d = _rdm()
    np.testing.assert_array_equal(rsa.geotopological(d, *lu), rsa.geotopological(warp(d), *lu))


def test_gt_full_range_is_rank_normalised_rdm():
    d = _rdm()
    ranks = rankdata(d)
    expected = (ranks - ranks.min()) / (ranks.max() - ranks.min())
    np.testing.assert_array_equal(rsa.geotopological(d, 0.0, 1.0), expected)
    np.testing.assert_array_equal(rsa.rank_normalize(d), expected)


def test_gt_equal_bounds_is_binary():
    # the authors' polarity (utils_transform.gt_transform): below the l-quantile -> 0 ("close"), above the
    # u-quantile -> 1 ("far"); an inverted adjacency (short -> 1) has the same values and mean, so test each entry
    d = _rdm()
    out = rsa.geotopological(d, 0.3, 0.3)
    threshold = np.quantile(d, 0.3)  # the same entries as the quantile of the ranks (monotone)
    assert set(np.unique(out)) == {0.0, 1.0}
    np.testing.assert_array_equal(out[d < threshold], 0.0)
    np.testing.assert_array_equal(out[d > threshold], 1.0)
    assert out[np.argmin(d)] == 0.0 and out[np.argmax(d)] == 1.0
    assert np.mean(out) == pytest.approx(np.mean(d > threshold))


def test_gt_polarity_with_a_band():
    d = _rdm()
    out = rsa.geotopological(d, 0.2, 0.8)
    lo, hi = np.quantile(d, 0.2), np.quantile(d, 0.8)
    np.testing.assert_array_equal(out[d < lo], 0.0)
    np.testing.assert_array_equal(out[d > hi], 1.0)
    band = (d > lo) & (d < hi)
    assert np.all((out[band] > 0) & (out[band] < 1))
    assert spearmanr(out[band], d[band])[0] == pytest.approx(1.0)  # increasing inside the band


def test_gt_and_geodesic_never_modify_input_and_keep_form():
    vec = _rdm()
    sq = sp_squareform(vec)
    vec0, sq0 = vec.copy(), sq.copy()
    for f in (lambda r: rsa.geotopological(r, 0.2, 0.8), lambda r: rsa.geodesic(r, "k_nearest", k=3),
              rsa.rank_normalize, lambda r: rsa.geodesic(r, "gt", lower=0.1, upper=0.7)):
        out_v, out_s = f(vec), f(sq)
        assert out_v.shape == vec.shape and out_s.shape == sq.shape
        np.testing.assert_allclose(sp_squareform(out_v), out_s)
        np.testing.assert_array_equal(np.diag(out_s), 0.0)
    np.testing.assert_array_equal(vec, vec0)
    np.testing.assert_array_equal(sq, sq0)


# ---------------------------------------------------------------- 2. regression against the anchor bug

def test_gt_matches_formula_where_rsatoolbox_032_does_not():
    d = np.random.default_rng(0).uniform(0.0, 0.5, 45)
    r = rankdata(d)
    r = (r - r.min()) / (r.max() - r.min())
    q_l, q_u = np.quantile(r, 0.2), np.quantile(r, 0.8)
    expected = np.clip((r - q_l) / (q_u - q_l), 0.0, 1.0)
    np.testing.assert_allclose(rsa.geotopological(d, 0.2, 0.8), expected, rtol=0, atol=1e-15)
    # the anchor's bug (threshold applied to rescaled values, no rank step) would differ from the formula here:
    buggy = d.copy()
    lo, hi = np.quantile(buggy, 0.2), np.quantile(buggy, 0.8)
    buggy[buggy < lo] = 0
    mid = (buggy >= lo) & (buggy <= hi)
    buggy[mid] = (buggy[mid] - lo) / (hi - lo)
    buggy[buggy > hi] = 1
    assert np.abs(buggy - expected).max() > 0.1


# ---------------------------------------------------------------- 3. geodesic on a spiral (ground truth)

@pytest.mark.parametrize("method", ["p_shortest", "p_nearest", "k_nearest"])
def test_geodesic_recovers_arc_length_on_spiral(method):
    pts, arc = gt.spiral(120, turns=2.0)
    true = pdist(arc[:, None])
    euclid = pdist(pts)
    # dissimilarities as edge lengths approximate the arc length (Isomap); rank lengths (the default, the
    # authors' choice) keep the order along the curve but ramp the local steps, so a lower bar
    rgdm = rsa.geodesic(euclid, method, weights="dissimilarity")
    assert np.all(np.isfinite(rgdm))
    assert spearmanr(rgdm, true)[0] >= 0.98
    assert spearmanr(rsa.geodesic(euclid, method), true)[0] >= 0.9
    assert spearmanr(euclid, true)[0] <= 0.7


def test_geodesic_keeps_zero_weight_edges():
    # Points 1 and 2 coincide; under k=1 the zero-weight edge 1–2 is point 2's only link. A graph that
    # dropped zero weights (as networkx.from_numpy_array does) would leave point 2 disconnected.
    pts = np.array([[0.0], [1.0], [1.0], [2.1], [3.3]])
    for weights in ("rank", "dissimilarity"):
        out = sp_squareform(rsa.geodesic(pdist(pts), "k_nearest", k=1, rank=False, weights=weights))
        assert np.all(np.isfinite(out))
        assert out[1, 2] == 0.0 and out[0, 2] == out[0, 1]


def test_geodesic_warns_when_disconnected():
    pts = np.concatenate([np.arange(6)[:, None], 100 + np.arange(6)[:, None]])
    with pytest.warns(NeurosuiteWarning, match="disconnected.*connect=True"):
        out = rsa.geodesic(pdist(pts.astype(float)), "k_nearest", k=1, connect=False)
    assert np.all(np.isfinite(out)) and out.max() == 1.0
    # by default the one shortest bridge (5 -> 100) joins the two chains: every pair finite, no warning
    out = sp_squareform(rsa.geodesic(pdist(pts.astype(float)), "k_nearest", k=1, rank=False))
    assert np.all(np.isfinite(out))
    assert out[0, 11] == pytest.approx(out[0, 5] + out[5, 6] + out[6, 11])


# ---------------------------------------------------------------- 4. identification (ground truth)

def test_topology_statistic_identifies_regions_despite_warps():
    accs = {}
    for warp in (False, True):
        rdms, regions, subjects = gt.subject_rdms(n_subjects=10, n_points=40, noise=0.15, warp=warp, seed=0)
        gtm = np.array([rsa.geotopological(r, 0.4, 0.6) for r in rdms])
        accs[warp] = (rsa.identification_accuracy(rdms, regions, subjects),
                      rsa.identification_accuracy(gtm, regions, subjects))
    (rdm_plain, gt_plain), (rdm_warp, gt_warp) = accs[False], accs[True]
    assert gt_warp >= rdm_warp            # topology-sensitive statistic at least as good as the RDM
    assert gt_warp >= gt_plain            # and not hurt by the monotone warps (GT is warp-invariant)
    assert gt_warp >= 0.95
    assert rdm_warp < rdm_plain           # the warps do hurt the RDM: the comparison is informative


@pytest.mark.parametrize("resample", ["items", "subjects", "both"])
def test_bootstrap_identification_over_items_subjects_or_both(resample):
    rdms, regions, subjects = gt.subject_rdms(n_subjects=6, n_points=20, noise=0.15, seed=1)
    gtm = np.array([rsa.geotopological(r, 0.4, 0.6) for r in rdms])
    res = rsa.bootstrap_identification(gtm, regions, subjects, n_boot=40, resample=resample, seed=0, verbose=False)
    assert res.bootstrap.shape == (40,) and res.resample == resample
    assert 0.0 <= res.ci[0] <= res.ci[1] <= 1.0
    again = rsa.bootstrap_identification(gtm, regions, subjects, n_boot=40, resample=resample, seed=0,
                                         verbose=False)
    np.testing.assert_array_equal(res.bootstrap, again.bootstrap)


def test_identification_chance_on_unstructured_labels():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 45))
    acc = rsa.identification_accuracy(x, np.tile(np.arange(4), 10), np.repeat(np.arange(10), 4))
    assert acc < 0.5


# ---------------------------------------------------------------- RDMs and comparisons (unit)

def test_rdm_methods_match_scipy():
    x = np.random.default_rng(0).standard_normal((9, 30))
    np.testing.assert_allclose(rsa.compute_rdm(x, "euclidean"), sp_squareform(pdist(x)), atol=1e-10)
    np.testing.assert_allclose(rsa.compute_rdm(x, "sqeuclidean"), sp_squareform(pdist(x, "sqeuclidean")), atol=1e-10)
    np.testing.assert_allclose(rsa.compute_rdm(x, "correlation"), sp_squareform(pdist(x, "correlation")), atol=1e-12)
    stack = rsa.time_resolved_rdms(np.stack([x, 2 * x], axis=2))
    np.testing.assert_allclose(stack[1], 2 * pdist(x), atol=1e-10)


def test_crossnobis_is_unbiased():
    rng = np.random.default_rng(0)
    n_cond, n_rep, n_ch = 6, 10, 100
    means = rng.standard_normal((n_cond, n_ch))
    means[1] = means[0]  # conditions 0 and 1 do not differ
    # noise sd 1: the estimate of a zero distance has sd ≈ 0.03 (identity) around 0; true distances ≈ 2
    trials = np.repeat(means, n_rep, axis=0) + rng.standard_normal((n_cond * n_rep, n_ch))
    labels = np.repeat(np.arange(n_cond), n_rep)
    for noise in ("identity", "diagonal", "shrinkage"):
        d = rsa.crossnobis(trials, labels, noise=noise)
        assert abs(d[0, 1]) < 0.1 * d[0, 2]
    d = rsa.crossnobis(trials, labels, noise="identity")
    true = sp_squareform(pdist(means, "sqeuclidean")) / n_ch
    # unbiased: close to the true squared distance per channel, unlike the plain (biased) estimate
    plain = rsa.compute_rdm(np.stack([trials[labels == c].mean(0) for c in range(n_cond)]), "sqeuclidean") / n_ch
    iu = np.triu_indices(n_cond, 1)
    assert np.abs(d[iu] - true[iu]).mean() < 0.5 * np.abs(plain[iu] - true[iu]).mean()


def test_compare_rdms_methods():
    a, b = _rdm(10, 0), _rdm(10, 1)
    assert rsa.compare_rdms(a, b, "spearman") == pytest.approx(spearmanr(a, b)[0])
    assert rsa.compare_rdms(a, b, "pearson") == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert rsa.compare_rdms(a, b, "cosine") == pytest.approx(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    model = np.round(b * 2) / 2  # many ties, where tau-a and tau-b differ
    s = np.sign(a[:, None] - a[None, :]) * np.sign(model[:, None] - model[None, :])
    tau_a = s[np.triu_indices(a.size, 1)].sum() / (a.size * (a.size - 1) / 2)
    assert rsa.compare_rdms(a, model, "kendall_tau_a") == pytest.approx(tau_a)
    series = rsa.compare_rdms(np.stack([a, b]), b)
    assert series.shape == (2,) and series[1] == pytest.approx(1.0)


def test_bad_input_errors():
    with pytest.raises(InvalidInputError, match="n\\(n-1\\)/2"):
        rsa.geotopological(np.ones(7), 0.2, 0.8)
    with pytest.raises(InvalidInputError, match="symmetric"):
        rsa.geodesic(np.arange(16.0).reshape(4, 4))
    with pytest.raises(InvalidInputError, match="lower"):
        rsa.geotopological(_rdm(), 0.8, 0.2)
    with pytest.raises(InvalidInputError, match="Did you mean 'p_shortest'"):
        rsa.geodesic(_rdm(), "p_shortes")
    with pytest.raises(InvalidInputError, match="NaN"):
        rsa.geotopological(np.r_[_rdm()[:-1], np.nan], 0.2, 0.8)


# ---------------------------------------------------------------- responses from the spine's objects

def test_condition_responses_from_spikes_and_traces():
    from neurodata.io import Intervals, SpikeTrains, Traces

    starts = np.arange(12) * 1.0
    cond = np.tile(["a", "b", "c"], 4)
    trials = Intervals(starts, starts + 0.5, table=pd.DataFrame({"condition": cond}))
    rates = {"a": 10, "b": 20, "c": 40}
    times = [np.sort(np.concatenate([s + np.linspace(0.01, 0.49, rates[c] // 2) for s, c in zip(starts, cond)]))]
    resp = rsa.condition_responses(SpikeTrains(times), trials)
    assert resp.conditions == ["a", "b", "c"]
    np.testing.assert_allclose(resp.means[:, 0], [10, 20, 40])
    assert resp.trials.shape == (12, 1)
    tr = Traces(np.column_stack([np.arange(1200.0), np.ones(1200)]), rate=100.0)
    resp = rsa.condition_responses(tr, trials, window=(0.0, 0.1))
    np.testing.assert_allclose(resp.trials[0], [4.5, 1.0])
    a, b = resp.split_halves(seed=0)
    assert a.shape == b.shape == (3, 2)


# ---------------------------------------------------------------- 7. real MEG: time-resolved RDMs and CLI

def test_meg_time_resolved_rdms(testdata):
    resp = rsa.responses_from_mne(testdata / "meg" / "sample_evoked-ave.fif.gz")
    assert resp.means.shape == (4, 306, 421)
    assert resp.conditions == ["Left Auditory", "Right Auditory", "Left visual", "Right visual"]  # file order
    rdms = rsa.time_resolved_rdms(resp.means)
    assert rdms.shape == (421, 6) and np.all(rdms >= 0)
    t = resp.times
    # the conditions separate most after stimulus onset (peak ≈ 0.18 s, about twice the baseline level)
    mean_distance = rdms.mean(axis=1)
    assert 0.05 < t[np.argmax(mean_distance)] < 0.3
    assert mean_distance.max() > 1.8 * mean_distance[t < 0].mean()


def test_cli_model_vs_meg_time_course(testdata, tmp_path):
    from neurodata.cli import build_parser, run
    from neurodata.io import read_results

    model = np.array([[1, 0, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1]], float)  # modality + side
    np.save(tmp_path / "model.npy", model)
    out = tmp_path / "meg_rsa.nwb"
    argv = ["rsa", "compare", str(testdata / "meg" / "sample_evoked-ave.fif.gz"), "--model",
            str(tmp_path / "model.npy"), "--model-order", "Left Auditory,Right Auditory,Left visual,Right visual",
            "--out", str(out), "--figure", str(out.with_suffix(".png")), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), argv) == 0
    res = read_results(out)
    # results with a time axis are TimeSeries on the MEG times; the model RDM has none
    sim, t = res.traces["similarity"].data[:, 0], res.traces["similarity"].times
    assert sim.shape == (421,) and res.traces["rdms"].data.shape == (421, 6)
    assert res.arrays["model_rdm"].shape == (6,)
    np.testing.assert_array_equal(res.traces["rdms"].times, t)
    assert sim[(t > 0.05) & (t < 0.2)].mean() > sim[t < 0].mean() + 0.1
    assert out.with_suffix(".png").stat().st_size > 1000
    assert str(testdata / "meg" / "sample_evoked-ave.fif.gz") in str(res.sources)


def test_cli_rdm_from_nwb_trials(tmp_path):
    from neurodata.cli import build_parser, run
    from neurodata.io import Intervals, SpikeTrains, read_results, write_simulation

    rng = np.random.default_rng(0)
    starts = np.arange(30) * 1.0
    cond = np.tile(["c0", "c1", "c2", "c3", "c4"], 6)
    rate = {f"c{i}": 5 + 10 * i for i in range(5)}
    trains = []
    for u in range(4):
        t = np.concatenate([s + np.sort(rng.uniform(0, 0.5, rng.poisson(rate[c] * (u + 1) / 4 / 2 + 1)))
                            for s, c in zip(starts, cond)])
        trains.append(np.sort(t))
    src = tmp_path / "sim.nwb"
    write_simulation(src, spikes={"cells": SpikeTrains(trains)},
                     intervals={"trials": Intervals(starts, starts + 0.5, table=pd.DataFrame({"condition": cond}))})
    out = tmp_path / "rdm.nwb"
    argv = ["rsa", "rdm", str(src), "--gt", "0.4", "0.6", "--out", str(out), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), argv) == 0
    res = read_results(out)
    assert res.arrays["rdms"].shape == (1, 10) and res.arrays["rgtm"].shape == (1, 10)
    geo = tmp_path / "geo.nwb"
    argv = ["rsa", "rdm", str(src), "--geodesic", "--geodesic-method", "k_nearest", "--n-neighbours", "2",
            "--out", str(geo), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), argv) == 0
    np.testing.assert_array_equal(read_results(geo).arrays["rgdm"][0],
                                  rsa.geodesic(res.arrays["rdms"][0], "k_nearest", k=2))
    bad_p = ["rsa", "rdm", str(src), "--geodesic", "--p", "1.5", "--out", str(tmp_path / "p.nwb"), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), bad_p) == 1
    bad = ["rsa", "rdm", str(src), "--trials-table", "nope", "--out", str(tmp_path / "x.nwb"), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), bad) == 1
    assert not (tmp_path / "x.nwb").exists()


def test_demo_writes_nwb_and_figure(testdata, tmp_path, demo_steps):
    from neurodata.io import read_results
    from demo_steps.rsa import demo

    summary = demo(tmp_path, testdata=testdata)
    assert summary["spearman_geodesic_vs_arc"] >= 0.98 > 0.7 >= summary["spearman_euclidean_vs_arc"]
    assert summary["meg_model_similarity_50_200ms"] > summary["meg_model_similarity_baseline"]
    assert summary["png"].stat().st_size > 1000
    assert "meg_model_similarity" in read_results(tmp_path / "rsa_demo.nwb").arrays


def test_responses_from_mne_epochs_keep_trials():
    import mne

    rng = np.random.default_rng(0)
    info = mne.create_info(["MEG 0111", "MEG 0112", "MEG 0113"], 100.0, ["mag", "grad", "grad"])
    events = np.column_stack([np.arange(12) * 100, np.zeros(12, int), np.tile([1, 2, 3], 4)])
    data = rng.standard_normal((12, 3, 20)) * np.array([1e-13, 1e-11, 1e-11])[None, :, None]
    epochs = mne.EpochsArray(data, info, events=events, event_id={"a": 1, "b": 2, "c": 3}, tmin=-0.05,
                             verbose="error")
    resp = rsa.responses_from_mne(epochs, picks="meg")
    assert resp.conditions == ["a", "b", "c"]
    assert resp.means.shape == (3, 3, 20) and resp.trials.shape == (12, 3, 20)
    assert list(resp.trial_conditions[:3]) == ["a", "b", "c"]
    # channel-type scaling puts magnetometers and gradiometers on a common scale
    assert 0.1 < np.abs(resp.trials[:, 0]).mean() / np.abs(resp.trials[:, 1:]).mean() < 10
    np.testing.assert_allclose(resp.means[0], resp.trials[resp.trial_conditions == "a"].mean(axis=0))
