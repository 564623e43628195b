"""tRSA (Lin & Kriegeskorte 2023): the (l, u) grid search, GT categories, sigmoid GT, geodesic defaults.

Ground truth: examples/rsa_grid.py simulates regions of different topology seen by subjects whose
idiosyncrasies (deformation, rotation, scaling, noise, monotone warps) leave the topology intact.
"""
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

import neurodata.rsa as rsa
from neurodata.errors import InvalidInputError, NeurosuiteWarning


def _example():
    path = Path(__file__).resolve().parents[1] / "examples" / "rsa_grid.py"
    spec = importlib.util.spec_from_file_location("rsa_grid_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rdm(n=12, dim=5, seed=0):
    return pdist(np.random.default_rng(seed).standard_normal((n, dim)))


# ---------------------------------------------------------------- geodesic defaults (unit, exact)

@pytest.mark.parametrize("method", ["p_shortest", "p_nearest", "k_nearest"])
def test_geodesic_invariant_to_monotone_warps(method):
    d = _rdm()
    for warp in (lambda x: x ** 3, np.sqrt, np.log1p):
        assert np.max(np.abs(rsa.geodesic(d, method) - rsa.geodesic(warp(d), method))) == 0.0
    # the old default (raw dissimilarities as lengths) is not: 0.37 on this RDM for p_shortest
    raw = np.max(np.abs(rsa.geodesic(d, method, weights="dissimilarity")
                        - rsa.geodesic(d ** 3, method, weights="dissimilarity")))
    assert raw > 0.05


def test_small_design_stays_connected_by_default():
    d = _rdm(n=8, dim=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the default graph is connected
        out = rsa.geodesic(d, rank=False)
    assert np.all(np.isfinite(out))
    # the authors' graph at p = 0.05: 2 of 28 edges, 26 pairs without a path (the regression)
    with pytest.warns(NeurosuiteWarning, match=r"26 of 28 pair\(s\) have no path.*raise 'p'"):
        bare = rsa.geodesic(d, rank=False, connect=False)
    assert np.count_nonzero(~np.isfinite(bare)) == 26
    # pairs already joined keep their distances; bridging only adds paths
    finite = np.isfinite(bare)
    np.testing.assert_array_equal(out[finite], bare[finite])


def test_bridging_leaves_connected_graphs_alone():
    d = _rdm(n=40, dim=2, seed=3)
    a = rsa.geodesic(d, "k_nearest", k=4, rank=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = rsa.geodesic(d, "k_nearest", k=4, rank=False, connect=False)
    if np.all(np.isfinite(b)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(InvalidInputError, match="connect"):
        rsa.geodesic(d, connect="yes")


# ---------------------------------------------------------------- tie plateaus

def test_categorical_rdm_at_a_plateau_warns_and_names_the_fix():
    cat = pdist(np.repeat([0.0, 1.0], 4)[:, None])  # 12 within (0) and 16 between (1) pairs
    with pytest.warns(NeurosuiteWarning, match=r"plateau of 16 tied.*constant \(all 0\).*'lower' below 0.429"):
        out = rsa.geotopological(cat, 0.5, 0.5)
    assert np.all(out == 0)
    with pytest.warns(NeurosuiteWarning, match="plateau"):
        rsa.geotopological(cat, 0.5, 0.9)  # l < u on one plateau collapses to the (here constant) adjacency
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(rsa.geotopological(cat, 0.0, 1.0), cat)  # the fix it names
        rsa.geotopological(cat, 0.3, 0.6)  # the threshold between the levels: a faithful adjacency
        rsa.geotopological(_rdm(), 0.5, 0.5)  # no ties: no warning


# ---------------------------------------------------------------- sigmoid GT

def test_sigmoid_gt_is_smooth_monotone_and_warp_invariant():
    d = _rdm()
    out = rsa.geotopological_sigmoid(d)
    assert spearmanr(out, d)[0] == pytest.approx(1.0) and np.all((out > 0) & (out < 1))
    np.testing.assert_array_equal(out, rsa.geotopological_sigmoid(d ** 3))
    r = rsa.rank_normalize(d)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-10 * (r - 0.5))), rtol=1e-14)  # the authors' alpha, beta
    center, slope = rsa.sigmoid_from_bounds(0.4, 0.6)
    assert center == pytest.approx(0.5) and slope == pytest.approx(20.0)
    assert rsa.sigmoid_from_bounds(0.5, 0.5)[1] == 1e3
    with pytest.raises(InvalidInputError, match="slope"):
        rsa.geotopological_sigmoid(d, slope=0.0)


# ---------------------------------------------------------------- categories of (l, u)

def test_categories_follow_the_authors_boundaries():
    assert rsa.gt_category(0.0, 0.3) == "local"
    assert rsa.gt_category(0.7, 1.0) == "global"
    assert rsa.gt_category(0.0, 1.0) == "geometry_sensitive"
    assert rsa.gt_category(0.45, 0.55) == "topology_sensitive"
    assert rsa.gt_category(0.1, 0.6) == "intermediate"
    for category in rsa.CATEGORIES:
        bounds = rsa.sample_bounds(category, 25, seed=0)
        assert bounds.shape == (25, 2) and np.all(bounds[:, 0] <= bounds[:, 1])
        assert {rsa.gt_category(lo, up) for lo, up in bounds} == {category}
    np.testing.assert_array_equal(rsa.sample_bounds("local", 5, seed=1), rsa.sample_bounds("local", 5, seed=1))
    with pytest.raises(InvalidInputError, match="degenerate"):
        rsa.gt_category(0.0, 0.0)
    with pytest.raises(InvalidInputError, match="Did you mean 'topology_sensitive'"):
        rsa.sample_bounds("topology")


# ---------------------------------------------------------------- the grid search (unit)

def test_grid_cells_match_direct_identification():
    rdms, regions, subjects = _example().simulate_regions(4, 12, seed=0)
    res = rsa.grid_identification(rdms, regions, subjects, resolution=0.25, verbose=False)
    assert res.bounds.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    finite = np.isfinite(res.accuracy)
    assert not finite[np.tril_indices(5, -1)].any() and not finite[0, 0] and not finite[-1, -1]
    assert finite.sum() == 13  # 15 cells with l <= u, less the two degenerate corners
    direct = rsa.identification_accuracy([rsa.geotopological(r, 0.25, 0.75) for r in rdms], regions, subjects)
    assert res.accuracy[1, 3] == direct
    assert res.ranked_rdm_accuracy == rsa.identification_accuracy([rsa.rank_normalize(r) for r in rdms],
                                                                  regions, subjects)
    assert res.rdm_accuracy == rsa.identification_accuracy(rdms, regions, subjects)
    assert res.category_mean("topology_sensitive") == res.accuracy[2, 2]
    lo, up, acc = res.best
    assert acc == np.nanmax(res.accuracy) and lo <= up
    cats = rsa.category_identification(rdms, regions, subjects, n_samples=3, seed=0)
    assert list(cats) == ["rdm", *rsa.CATEGORIES]
    assert cats["rdm"].mean == res.rdm_accuracy
    assert all(0.0 <= c.mean <= 1.0 and c.accuracies.shape == (3,) for k, c in cats.items() if k != "rdm")


def test_grid_bad_input_names_the_problem():
    rdms, regions, subjects = _example().simulate_regions(3, 10, seed=0)
    with pytest.raises(InvalidInputError, match="whole number"):
        rsa.grid_identification(rdms, regions, subjects, resolution=0.3, verbose=False)
    with pytest.raises(InvalidInputError, match="Did you mean 'sigmoid'"):
        rsa.grid_identification(rdms, regions, subjects, transform="sigmoidal", verbose=False)
    with pytest.raises(InvalidInputError, match="at least 2 regions"):
        rsa.grid_identification(rdms, np.zeros(len(rdms)), subjects, verbose=False)
    with pytest.raises(InvalidInputError, match="one entry per RDM"):
        rsa.grid_identification(rdms, regions[:-1], subjects, verbose=False)
    with pytest.raises(InvalidInputError, match="at least 2 subjects"):
        rsa.grid_identification(rdms, regions, np.zeros(len(rdms)), verbose=False)
    with pytest.raises(InvalidInputError, match="all dissimilarities equal"):
        rsa.grid_identification(np.ones_like(rdms), regions, subjects, verbose=False)
    with pytest.raises(InvalidInputError, match="resample='both'"):
        rsa.bootstrap_identification(rdms, regions, subjects, resample=("subjects", "stimuli"), verbose=False)
    with pytest.raises(InvalidInputError, match="Did you mean 'items'"):
        rsa.bootstrap_identification(rdms, regions, subjects, resample="item", verbose=False)


def test_grid_heatmap_figure(tmp_path):
    from neurodata.rsa.figures import plot_grid_search

    rdms, regions, subjects = _example().simulate_regions(4, 12, seed=0)
    res = rsa.grid_identification(rdms, regions, subjects, resolution=0.1, transform="sigmoid", verbose=False)
    path = plot_grid_search(res, tmp_path / "grid.png")
    assert Path(path).stat().st_size > 1000


# ---------------------------------------------------------------- the paper's qualitative result (ground truth)

def test_topology_band_identifies_regions_under_warps_and_noise():
    """5 seeds x 4 RDM-noise levels (0, 0.2, 0.4, 0.8: the authors' noise on the RDM entries), 10 subjects,
    24 stimuli, grid step 0.1, per-subject monotone warps.

    Measured (examples/rsa_grid.py, small configuration, linear GT): the topology band (l >= 0.4, u <= 0.6)
    beats the RDM as measured on every seed and level (worst +0.067, at noise 0.8; seed means 0.93/0.92/0.88/
    0.77 vs 0.63/0.62/0.62/0.64). It does not beat GT(0, 1), the rank-normalised RDM, which the warps cannot
    touch either: seed-mean gap -0.017/-0.014/-0.028/-0.060 (per-seed worst -0.075), so the bound below is a
    "matches within 0.08", and the gap widens with i.i.d. noise on the entries.
    """
    example = _example()
    table, _ = example.noise_sweep(example.SMALL)
    rdm, ranked, topo = table[..., 0], table[..., 1], table[..., 2]
    assert table.shape == (4, 5, 3)
    assert np.all(topo >= rdm + 0.05)                         # every seed, every noise level
    assert np.all(topo.mean(axis=1) >= ranked.mean(axis=1) - 0.08)
    assert topo[0].mean() >= 0.9                              # well above chance (0.25) without RDM noise
    assert topo[-1].mean() < topo[0].mean() - 0.05            # the sweep is informative: noise hurts


# ---------------------------------------------------------------- the command line

def test_cli_grid_writes_results_and_heatmap(tmp_path):
    from neurodata.cli import build_parser, run
    from neurodata.io import read_results

    rdms, regions, subjects = _example().simulate_regions(4, 12, seed=0)
    np.savez(tmp_path / "rdms.npz", rdms=rdms, regions=regions, subjects=subjects)
    out, fig = tmp_path / "grid.nwb", tmp_path / "grid.png"
    argv = ["rsa", "grid", str(tmp_path / "rdms.npz"), "--resolution", "0.25", "--n-samples", "2",
            "--out", str(out), "--figure", str(fig), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), argv) == 0
    res = read_results(out)
    direct = rsa.grid_identification(rdms, regions, subjects, resolution=0.25, verbose=False)
    np.testing.assert_array_equal(res.arrays["grid_accuracy"], direct.accuracy)
    assert res.arrays["category_accuracy"].shape == (6,) and fig.stat().st_size > 1000
    np.savez(tmp_path / "bad.npz", rdms=rdms, regions=regions)
    bad = ["rsa", "grid", str(tmp_path / "bad.npz"), "--out", str(tmp_path / "bad.nwb"), "--quiet"]
    assert run(build_parser(modules=["neurodata.rsa.cli"]), bad) == 1
    assert not (tmp_path / "bad.nwb").exists()


def test_cli_choices_match_the_library():
    from neurodata.rsa import cli, gridsearch, topology

    assert cli.GT_TRANSFORMS == gridsearch.TRANSFORMS
    assert set(cli.GEODESIC_METHODS) == set(topology.GEODESIC_METHODS) - {"gt"}
