"""Exact theory of active dendrites on SDRs (Ahmad & Hawkins 2016): unit tests against exact arithmetic."""
import subprocess
import sys
import tracemalloc
from fractions import Fraction
from math import comb, log

import numpy as np
import pytest

import neurosim.dendrites as nd
from neurodata.errors import InvalidInputError


def exact_fp(n, a, s, theta):
    """P_FP with integer arithmetic: sum_b C(s,b) C(n-s,a-b) / C(n,a)."""
    return Fraction(sum(comb(s, b) * comb(n - s, a - b) for b in range(theta, min(s, a) + 1)), comb(n, a))


def exact_fn(a, s, theta, v):
    return Fraction(sum(comb(s, b) * comb(a - s, v - b) for b in range(s - theta + 1, s + 1)), comb(a, v))


def log_fraction(p, q):
    """log(p / q) of two non-negative integers, to float precision, however small (no float underflow)."""
    if p == 0:
        return -np.inf
    if 2 * p > q:  # near 1: log1p of the correctly rounded complement (the shifted form below cancels there)
        return float(np.log1p(-float(Fraction(q - p, q))))
    shift = q.bit_length() - p.bit_length() + 64
    return log((p << shift) // q) - shift * log(2)


def exact_log_fp(n, a, s, theta):
    """log P_FP from integer arithmetic (math.comb), exact up to the final rounding."""
    return log_fraction(sum(comb(s, b) * comb(n - s, a - b) for b in range(theta, min(s, a) + 1)), comb(n, a))


@pytest.mark.parametrize("n,a,s,theta,paper", [
    (10000, 300, 24, 12, 8.3758e-13),     # paper / notebook ("A small subsample can be very reliable")
    (200000, 2000, 10, 10, 9.78e-21),     # paper
    (200000, 2000, 20, 10, 1.65e-15),     # the formula (the Frontiers text prints 1.6e-18: a typo)
    (100000, 2000, 6, 6, 6.35308872941916e-11),   # notebook, Table 1B
    (100000, 2000, 10, 10, 1.00163216178113e-17),  # notebook, Table 1B
    (100000, 2000, 12, 6, 5.29386836275369e-8),   # notebook, Table 1C (s = 2 theta)
    (100000, 2000, 24, 12, 8.58694100276592e-15),  # notebook, Table 1C
    (10000, 300, 30, 15, 1.04919182521237e-15),   # notebook
    (300, 64, 64, 12, 0.767798046805888),         # notebook, effect of n
])
def test_false_positive_matches_exact_arithmetic_and_paper(n, a, s, theta, paper):
    got = nd.p_false_positive(n, a, s, theta)
    assert type(got) is float
    assert got == pytest.approx(float(exact_fp(n, a, s, theta)), rel=1e-6)
    assert got == pytest.approx(paper, rel=5e-3)  # the paper prints 3-5 significant digits


def test_false_positive_large_population_no_overflow():
    # n = 10^6, s = 500: binomials far beyond float range, still exact to 1e-6 in log space
    got = nd.p_false_positive(10**6, 5000, 500, 20)
    assert got == pytest.approx(float(exact_fp(10**6, 5000, 500, 20)), rel=1e-6)
    assert 0.0 < nd.p_false_positive(10**6, 20000, 500, 60) <= 1.0


def test_false_positive_edge_cases():
    assert nd.p_false_positive(1000, 50, 20, 0) == pytest.approx(1.0)
    assert nd.p_false_positive(1000, 5, 20, 6) == 0.0  # more than a coincident inputs impossible
    assert nd.p_false_positive(100, 100, 20, 20) == pytest.approx(1.0)  # everything active
    assert nd.p_false_positive(np.int64(10000), 300.0, 24, 12) == pytest.approx(8.375845e-13, rel=1e-6)


@pytest.mark.parametrize("args", [(100, 10, 20, 21), (100, 101, 20, 5), (-1, 10, 5, 2), (100, 10, -5, 2),
                                  (100, 10, 5, -1), (100, 10, 5, 2.5), (100, 10, 200, 2), ("100", 10, 5, 2)])
def test_false_positive_rejects_invalid_arguments(args):
    with pytest.raises(InvalidInputError):
        nd.p_false_positive(*args)


@pytest.mark.parametrize("a,s,theta,v", [(128, 30, 8, 64), (128, 30, 12, 51), (128, 30, 16, 38), (40, 20, 10, 20),
                                         (300, 24, 12, 150)])
def test_false_negative_matches_exact_arithmetic(a, s, theta, v):
    assert nd.p_false_negative(a, s, theta, v) == pytest.approx(float(exact_fn(a, s, theta, v)), rel=1e-6)


def test_false_negative_notebook_values():
    # notebook "Impact of noise on false negatives": a = 128, s = 30, theta = 8, 12, 16
    assert nd.p_false_negative(128, 30, 8, 64) == pytest.approx(0.000735429456875121, rel=1e-6)
    assert nd.p_false_negative(128, 30, 12, 64) == pytest.approx(0.0716985160403564, rel=1e-6)
    assert nd.p_false_negative(128, 30, 16, 64) == pytest.approx(0.582501773030327, rel=1e-6)
    assert nd.p_false_negative(128, 30, 12, 0) == 0.0
    assert nd.p_false_negative(128, 30, 12, 128) == pytest.approx(1.0)


@pytest.mark.parametrize("args", [(20, 30, 10, 5), (40, 20, 21, 5), (40, 20, 10, 41), (40, -1, 0, 0)])
def test_false_negative_rejects_invalid_arguments(args):
    with pytest.raises(InvalidInputError):
        nd.p_false_negative(*args)


def test_union_false_positive_notebook_values():
    # sdr_math.ipynb, "Inexact Matches with Unions" (gamma-generalised binomials, expected union size)
    assert nd.p_union_false_positive(1024, 20, 20, 20) == pytest.approx(1.23782572305677e-10, rel=1e-6)
    assert nd.p_union_false_positive(1024, 20, 19, 20) == pytest.approx(5.55166122237973e-9, rel=1e-6)
    assert nd.p_union_false_positive(1024, 20, 18, 20) == pytest.approx(1.18086573478834e-7, rel=1e-6)
    assert nd.p_union_false_positive(2048, 20, 18, 20) == pytest.approx(3.08795140545437e-12, rel=1e-6)
    assert type(nd.p_union_false_positive(1024, 20, 18, 20)) is float


def test_union_properties():
    # m = 1: the union is one pattern of a cells, so the formula is P_FP with s = a
    assert nd.p_union_false_positive(1000, 30, 10, 1) == pytest.approx(nd.p_false_positive(1000, 30, 30, 10),
                                                                       rel=1e-9)
    assert nd.union_on_bits(1000, 30, 5) == pytest.approx(1000 * (1 - 0.97 ** 5))
    vals = [nd.p_union_false_positive(2000, 40, 8, m) for m in range(1, 15)]
    assert np.all(np.diff(vals) > 0)  # more stored patterns -> more false positives
    p = nd.union_size_distribution(200, 10, 4)
    assert p.sum() == pytest.approx(1.0)
    assert (p * np.arange(201)).sum() == pytest.approx(nd.union_on_bits(200, 10, 4), rel=1e-9)
    assert nd.p_union_false_positive(100, 10, 11, 3) == 0.0
    for args in [(100, 101, 5, 2), (100, 10, -1, 2), (100, 10, 5, -2)]:
        with pytest.raises(InvalidInputError):
            nd.p_union_false_positive(*args)


def test_mixed_segment_table_1d_and_classification_bound():
    # notebook Table 1D: n = 100000, a = 2000, s = 2 m theta
    assert nd.p_mixed_segment_false_positive(100000, 2000, 10, 2, 20) == pytest.approx(4.91541864813209e-9,
                                                                                       rel=1e-6)
    assert nd.p_mixed_segment_false_positive(100000, 2000, 10, 4, 20) == pytest.approx(4.62568448037595e-6,
                                                                                       rel=1e-6)
    assert nd.p_mixed_segment_false_positive(100000, 2000, 20, 6, 40) == pytest.approx(1.07990763941591e-7,
                                                                                       rel=1e-6)
    p = nd.p_false_positive(1000, 40, 20, 4)
    q = nd.p_neuron_false_positive(1000, 40, 20, 4, 10)
    assert q == pytest.approx(1 - (1 - p) ** 10, rel=1e-12)
    assert p < q <= 10 * p


def test_threshold_sweep_median_first_below_1e7_at_theta_8():
    sweep = nd.threshold_sweep()
    assert sweep["table"].shape == (22 * 5 * 6 * 7,)
    med = dict(zip(sweep["theta"].tolist(), sweep["median"]))
    assert med[7] >= 1e-7 > med[8]
    assert nd.optimal_threshold(1e-7) == 8
    assert np.all(np.diff(sweep["median"]) < 0)


def test_monotonicity():
    # falls with n at fixed a, rises with a at fixed n, falls with theta
    by_n = [nd.p_false_positive(n, 200, 24, 8) for n in range(2000, 40001, 2000)]
    by_a = [nd.p_false_positive(10000, a, 24, 8) for a in range(50, 1001, 50)]
    by_theta = [nd.p_false_positive(10000, 300, 24, t) for t in range(1, 25)]
    assert np.all(np.diff(by_n) < 0)
    assert np.all(np.diff(by_a) > 0)
    assert np.all(np.diff(by_theta) < 0)
    by_v = [nd.p_false_negative(128, 30, 12, v) for v in range(0, 129, 8)]
    assert np.all(np.diff(by_v) >= 0)


def test_vectorised_log_kernel_matches_scalars():
    n = np.array([1000, 10000, 200000])
    got = np.exp(nd.log_p_false_positive(n, [50, 300, 2000], [20, 24, 10], [3, 12, 10]))
    want = [nd.p_false_positive(1000, 50, 20, 3), nd.p_false_positive(10000, 300, 24, 12),
            nd.p_false_positive(200000, 2000, 10, 10)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ----------------------------------------------------------------------------------------------------------
# precision at scale (issue 28): log-space sums of cancellation-free log pmfs against exact arithmetic
def _grid():
    for n in (10**3, 10**4, 10**5, 10**6, 10**9, 10**12, 10**15):
        for a in (20, 40, 300, 2000):
            if 2 * a > n or (a == 2000 and n > 10**6):  # comb(1e15, 2000) is slow to form; dense a is below
                continue
            for s in (10, 24, 50, 128):
                for theta in sorted({1, 2, 3, 8, 12, s // 2, s}):
                    if theta <= s:
                        yield n, a, s, theta


def test_log_false_positive_within_1e6_of_exact_arithmetic_up_to_1e15():
    # Measured (this grid, 500+ points, n = 1e3 .. 1e15): worst relative error 2e-14 of the log and 5e-13 of
    # the probability; the bound asserted is the 1e-6 on both.
    worst_log = worst_p = 0.0
    for n, a, s, theta in _grid():
        want = exact_log_fp(n, a, s, theta)
        got = float(nd.log_p_false_positive(n, a, s, theta))
        if want == -np.inf:
            assert got == -np.inf, (n, a, s, theta)
            continue
        assert np.isfinite(got), (n, a, s, theta)
        worst_log = max(worst_log, abs(got - want) / max(abs(want), 1e-300))
        worst_p = max(worst_p, abs(np.expm1(got - want)))
    assert worst_log < 1e-6 and worst_p < 1e-6, (worst_log, worst_p)


@pytest.mark.parametrize("n,a,s,theta", [(10**15, 2 * 10**13, 24, 12), (10**15, 2 * 10**13, 50, 3),
                                         (10**15, 10**14, 128, 8), (10**15, 5 * 10**14, 50, 30),
                                         (10**15, 2 * 10**13, 500, 60), (10**12, 3 * 10**10, 40, 20)])
def test_log_false_positive_dense_patterns_at_1e15_against_mpmath(n, a, s, theta):
    # a ~ 1e13 active cells: C(n, a) has ~1e14 digits, so the reference is mpmath at 60 digits
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        lc = lambda N, K: mp.loggamma(N + 1) - mp.loggamma(K + 1) - mp.loggamma(N - K + 1)  # noqa: E731
        term = lambda b: mp.exp(lc(s, b) + lc(n - s, a - b) - lc(n, a))  # noqa: E731
        up = mp.fsum(term(b) for b in range(theta, min(s, a) + 1))
        want = float(mp.log(up)) if up < 0.5 else float(mp.log1p(-mp.fsum(term(b) for b in range(theta))))
    got = float(nd.log_p_false_positive(n, a, s, theta))
    assert got == pytest.approx(want, rel=1e-6)
    assert abs(got - want) < 1e-6  # i.e. the probability itself within 1e-6 relative


def test_regression_gammaln_cancellation_at_n_1e15():
    # was 4.46e-42 (gammaln(1e15) ~ 3.4e16 leaves ~7 of absolute error in the log); exact: 8.208e-40
    exact = exact_fp(10**15, 20, 10, 3)
    assert float(exact) == pytest.approx(8.208e-40, rel=1e-3)
    assert nd.p_false_positive(10**15, 20, 10, 3) == pytest.approx(float(exact), rel=1e-9)
    assert float(nd.log_p_false_positive(10**15, 20, 10, 3)) == pytest.approx(exact_log_fp(10**15, 20, 10, 3),
                                                                              rel=1e-12)


def test_log_binomial_has_no_cancellation():
    for n, k in [(10**15, 20), (10**15, 3), (10**15, 10**15 - 7), (10**6, 5000), (30, 12), (10**15, 1)]:
        assert float(nd.theory.log_binomial(n, k)) == pytest.approx(log(comb(n, k)), rel=1e-13), (n, k)
    assert float(nd.theory.log_binomial(10, 0)) == 0.0 and float(nd.theory.log_binomial(10, 10)) == 0.0
    assert nd.theory.log_binomial(10, 11) == -np.inf and nd.theory.log_binomial(10, -1) == -np.inf


def test_regression_log_functions_never_underflow():
    # log P_FP = -771.6 here: the log is finite and exact; the float API returns its exp, 0.0 below ~exp(-745)
    n, a, s, theta = 10**6, 5000, 500, 208
    got = float(nd.log_p_false_positive(n, a, s, theta))
    assert got == pytest.approx(exact_log_fp(n, a, s, theta), rel=1e-12)
    assert -775 < got < -770
    assert nd.p_false_positive(n, a, s, theta) == 0.0
    sub = float(nd.log_p_false_positive(n, a, s, 201))  # -736.9: a subnormal float, still returned
    assert nd.p_false_positive(n, a, s, 201) == np.exp(sub) > 0.0
    # far below the float range: still finite, and exact (P_FP with theta = s: C(n-s, a-s) / C(n, a))
    deep = float(nd.log_p_false_positive(10**15, 300, 128, 128))
    assert deep == pytest.approx(exact_log_fp(10**15, 300, 128, 128), rel=1e-12) and deep < -3000
    # false negatives: exact, finite, and -inf only where the event is impossible
    lfn = nd.theory.log_p_false_negative(2000, 500, 480, 1500)
    want = log_fraction(*(lambda f: (f.numerator, f.denominator))(exact_fn(2000, 500, 480, 1500)))
    assert lfn == pytest.approx(want, rel=1e-10)
    assert nd.p_false_negative(2000, 500, 480, 1500) == pytest.approx(float(exact_fn(2000, 500, 480, 1500)),
                                                                      rel=1e-10)
    assert nd.theory.log_p_false_negative(2000, 500, 10, 100) == -np.inf  # needs 491 of 500 among 100 removed
    # union: every stored cell must match (theta = a) at Table-1 scale: about exp(-4880), finite
    deep_u = nd.theory.log_p_union_false_positive_exact(100000, 2000, 2000, 5)
    assert np.isfinite(deep_u) and deep_u < -4000
    assert nd.p_union_false_positive_exact(100000, 2000, 2000, 5) == 0.0


# ----------------------------------------------------------------------------------------------------------
# exact union (issue 28): no (n+1) x (a+1) matrix
def dense_union_reference(n, a, theta, m):
    """The previous implementation (dense (n+1) x (a+1) transition matrix), kept as a reference for small n."""
    from scipy.special import gammaln, logsumexp

    def lb(N, K):
        N, K = np.asarray(N, dtype=float), np.asarray(K, dtype=float)
        with np.errstate(invalid="ignore"):
            out = gammaln(N + 1.0) - gammaln(K + 1.0) - gammaln(N - K + 1.0)
        return np.where((K < 0) | (K > N), -np.inf, out)

    p = np.zeros(n + 1)
    p[0] = 1.0
    k = np.arange(n + 1)[:, None]
    j = np.arange(a + 1)[None, :]
    trans = np.exp(lb(n - k, j) + lb(k, a - j) - lb(n, a))
    for _ in range(m):
        new = np.zeros(n + 1)
        occ = np.nonzero(p > 0)[0]
        for jj in range(a + 1):
            tgt = occ + jj
            ok = tgt <= n
            new[tgt[ok]] += p[occ[ok]] * trans[occ[ok], jj]
        p = new
    p /= p.sum()
    kk = np.nonzero(p > 1e-300)[0]
    kk = kk[kk >= theta]
    bb = np.arange(a + 1)
    log_fp = [logsumexp(np.where(bb >= theta, lb(x, bb) + lb(n - x, a - bb), -np.inf)) - lb(n, a) for x in kk]
    return p, float(np.exp(logsumexp(np.array(log_fp) + np.log(p[kk]))))


def exact_union(n, a, theta, m):
    """P(|X & union| >= theta) with Fractions: the union-size chain and exact P_FP per size."""
    dist = {0: Fraction(1)}
    for _ in range(m):
        new = {}
        for k, pk in dist.items():
            for j in range(0, a + 1):
                if a - j <= k and j <= n - k:
                    new[k + j] = new.get(k + j, 0) + pk * Fraction(comb(n - k, j) * comb(k, a - j), comb(n, a))
        dist = new
    total = sum(pk * exact_fp(n, a, k, theta) if k >= theta else 0 for k, pk in dist.items())
    return dist, total


@pytest.mark.parametrize("n,a,theta,m", [(60, 8, 4, 3), (100, 10, 6, 4), (40, 12, 10, 5), (50, 5, 5, 2),
                                         (30, 10, 3, 1), (200, 10, 8, 6)])
def test_union_exact_matches_fractions_and_previous_dense(n, a, theta, m):
    dist, total = exact_union(n, a, theta, m)
    got = nd.p_union_false_positive_exact(n, a, theta, m)
    assert got == pytest.approx(float(total), rel=1e-10)
    assert nd.theory.log_p_union_false_positive_exact(n, a, theta, m) == pytest.approx(
        log_fraction(total.numerator, total.denominator), rel=1e-10)
    p_dense, fp_dense = dense_union_reference(n, a, theta, m)
    assert got == pytest.approx(fp_dense, rel=1e-9)
    p = nd.union_size_distribution(n, a, m)
    np.testing.assert_allclose(p, p_dense, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(p[list(dist)], [float(v) for v in dist.values()], rtol=1e-10)


def test_union_exact_edge_cases():
    assert nd.p_union_false_positive_exact(100, 10, 11, 3) == 0.0  # theta > a
    assert nd.p_union_false_positive_exact(100, 10, 0, 3) == 1.0
    assert nd.p_union_false_positive_exact(100, 10, 1, 0) == 0.0  # nothing stored
    assert nd.p_union_false_positive_exact(100, 0, 0, 3) == 1.0
    assert nd.p_union_false_positive_exact(10, 10, 10, 1) == 1.0  # everything active
    p = nd.union_size_distribution(100, 0, 3)
    assert p[0] == 1.0 and p.sum() == 1.0


def test_regression_union_exact_at_table_1_scale_fits_in_memory():
    # was MemoryError: the dense (n+1) x (a+1) float64 transition matrix alone is 1.6 GB here. The covered-cell
    # chain keeps a + 1 states and blocks of 2^18 pairs; measured ~15 MB traced peak and ~2 s on one core.
    tracemalloc.start()
    try:
        log_p = nd.theory.log_p_union_false_positive_exact(100000, 2000, 10, 5)
        p = nd.p_union_false_positive_exact(100000, 2000, 10, 5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, peak
    # the union has ~9600 cells, a test pattern ~192 of them on average: P(< 10) is ~7e-74
    assert p == 1.0 and -1e-72 < log_p < -1e-75


@pytest.mark.slow
def test_union_exact_table_1_scale_agrees_with_union_size_route():
    # two exact computations that share nothing but the hypergeometric kernel: the covered-cell chain and
    # sum_k P(|union| = k) P_FP(n, a, k, theta) over the union-size chain (~10 s on one core)
    from scipy.special import logsumexp

    k, log_pk = nd.theory._log_union_size_distribution(100000, 2000, 5)
    assert np.exp(logsumexp(log_pk + np.log(k))) == pytest.approx(nd.union_on_bits(100000, 2000, 5), rel=1e-9)
    for theta in (300, 1000, 1500):
        via_sizes = logsumexp(log_pk + nd.log_p_false_positive(100000, 2000, k, theta))
        assert nd.theory.log_p_union_false_positive_exact(100000, 2000, theta, 5) == pytest.approx(via_sizes,
                                                                                                    rel=1e-9)


def test_import_is_light():
    code = "import sys, neurosim.dendrites; assert 'brian2' not in sys.modules and 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_model_card_documents_the_neuron_defaults():
    from dataclasses import asdict

    from neurodata.cards import load_card
    from neurosim.dendrites.neurons import NeuronParams

    card = load_card("ahmad_hawkins_2016")["defaults"]
    p = asdict(NeuronParams())
    for key in ("tau_m", "v_rest", "v_threshold", "v_reset", "refractory", "plateau", "ff_drive", "ff_onset", "dt"):
        assert card[key]["value"] == pytest.approx(p[key]), key
    assert card["integration_window"]["value"] == pytest.approx(p["period"])
    assert card["input_timing"]["value"] == {"offset": p["input_offset"], "jitter": p["input_jitter"]}
    pred, unpred = NeuronParams().latencies()
    assert unpred == pytest.approx(0.0161, abs=1e-4) and pred < 0.0084
