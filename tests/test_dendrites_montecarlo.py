"""Monte Carlo of random SDRs and segments agrees with the exact theory (ground truth: sampled statistics)."""
import numpy as np
import pytest

import neurosim.dendrites as nd
from neurodata.errors import InvalidInputError
from neurosim.dendrites.montecarlo import (importance_estimate, mc_false_negative, mc_false_positive,
                                           mc_false_positive_importance, mc_union_false_positive, random_sdrs,
                                           tilted_overlap_patterns)

# Threshold stated: every estimate within 3 binomial standard errors of the theory (all settings P >= 1e-5).


@pytest.mark.parametrize("n,a,s,theta", [(1000, 50, 20, 3), (10000, 300, 24, 4), (2000, 40, 16, 3),
                                         (10000, 300, 24, 6)])
def test_false_positive_within_3_se(n, a, s, theta):
    p = nd.p_false_positive(n, a, s, theta)
    assert p >= 1e-5
    est = mc_false_positive(n, a, s, theta, n_segments=3000, n_patterns=3000, seed=11)
    assert est.trials == 9_000_000
    assert abs(est.z_score(p)) < 3, (est.p, p)
    lo, hi = est.ci
    assert lo <= est.p <= hi


@pytest.mark.parametrize("n,a,s,theta,v", [(1000, 40, 20, 10, 20), (1000, 40, 20, 10, 16),
                                           (2000, 128, 30, 12, 64)])
def test_noise_false_negative_within_3_se(n, a, s, theta, v):
    p = nd.p_false_negative(a, s, theta, v)
    assert p >= 1e-5
    est = mc_false_negative(n, a, s, theta, v, n_trials=40_000, seed=12)
    assert abs(est.z_score(p)) < 3, (est.p, p)


@pytest.mark.parametrize("n,a,theta,m", [(1024, 20, 10, 20), (1000, 30, 10, 10), (2000, 40, 8, 10)])
def test_union_false_positive_within_3_se(n, a, theta, m):
    exact = nd.p_union_false_positive_exact(n, a, theta, m)
    approx = nd.p_union_false_positive(n, a, theta, m)
    est = mc_union_false_positive(n, a, theta, m, n_unions=400, n_patterns=2000, seed=13)
    assert exact >= 1e-5
    assert abs(est.z_score(exact)) < 3, (est.p, exact)
    # the paper's expected-size formula is close to the exact union-size average here
    assert approx == pytest.approx(exact, rel=0.02)


@pytest.mark.parametrize("n,a,s,theta", [(2000, 40, 20, 8), (10000, 300, 24, 12), (100000, 2000, 24, 12),
                                         (1000, 50, 20, 3)])
def test_importance_sampling_reaches_rare_false_positives(n, a, s, theta):
    # theta >= 8: P_FP 1e-9 .. 1e-15, out of reach of plain trials. Random segments, patterns tilted towards
    # overlap ~theta (uniform given the overlap), matches counted from the cell sets, weights p(b)/q(b):
    # within 3 SE of the exact theory; 4000 trials give ~3.5 % relative SE. The last case (plain regime)
    # checks the estimator where plain Monte Carlo agrees too.
    p = nd.p_false_positive(n, a, s, theta)
    est = mc_false_positive_importance(n, a, s, theta, n_trials=4000, seed=21)
    assert abs(est.z_score(p)) < 3, (est, p)
    assert est.se < 0.06 * p and 0 < est.hits < est.trials


def test_tilted_patterns_are_valid_and_weights_normalised():
    rng = np.random.default_rng(0)
    syn = np.sort(rng.choice(500, 20, replace=False))
    pats, b, log_w = tilted_overlap_patterns(500, 25, syn, 8, 3000, seed=1)
    assert pats.shape == (3000, 25) and np.all(np.diff(pats, axis=1) > 0) and pats.max() < 500
    assert np.array_equal([np.intersect1d(x, syn).size for x in pats], b)
    assert abs(b.mean() - 8.5) < 0.2  # tilted to overlap theta + 1/2
    # exponential tilt: log w = log Z - lam * b is linear and decreasing in b
    coef = np.polyfit(b, log_w, 1)
    assert coef[0] < 0 and np.allclose(np.polyval(coef, b), log_w, atol=1e-8)
    # the weighted upper tail against an independent implementation (scipy's hypergeometric survival function)
    from scipy.stats import hypergeom

    est = importance_estimate(b >= 8, log_w)
    assert abs(est.z_score(hypergeom.sf(7, 500, 20, 25))) < 3
    with pytest.raises(InvalidInputError):
        tilted_overlap_patterns(100, 10, [5, 200], 1, 3)


def test_random_sdrs_are_uniform_distinct_and_sorted():
    x = random_sdrs(50, 10, 20000, seed=0)
    assert x.shape == (20000, 10)
    assert np.all(np.diff(x, axis=1) > 0)
    freq = np.bincount(x.ravel(), minlength=50) / x.size
    assert np.all(np.abs(freq - 1 / 50) < 5 * np.sqrt((1 / 50) / x.size))
    dense = random_sdrs(20, 15, 100, seed=1)  # dense branch
    assert np.all(np.diff(dense, axis=1) > 0) and dense.max() < 20


def test_monte_carlo_speed_is_reported_and_seeded():
    a = mc_false_positive(1000, 50, 20, 3, n_segments=200, n_patterns=200, seed=3)
    b = mc_false_positive(1000, 50, 20, 3, n_segments=200, n_patterns=200, seed=3)
    assert a.matches == b.matches and a.comparisons_per_second > 0


def test_monte_carlo_rejects_bad_input():
    with pytest.raises(InvalidInputError):
        mc_false_positive(100, 10, 20, 21)
    with pytest.raises(InvalidInputError):
        mc_false_negative(100, 10, 20, 5, 3)  # s > a
    with pytest.raises(InvalidInputError):
        mc_union_false_positive(100, 10, 5, 0)
