"""Exact combinatorics of dendritic segments on sparse distributed representations (SDRs).

Ahmad & Hawkins (2016), "How do neurons operate on sparse distributed representations? A mathematical theory
of sparsity, neurons and active dendrites", arXiv:1601.00720.

Notation (the paper's): a population of ``n`` cells of which ``a`` are active; a dendritic segment with ``s``
synapses fires an NMDA spike when at least ``theta`` of them are active; ``v`` of the ``a`` active cells of a
learned pattern are replaced by noise; ``m`` patterns are stored as a union on one segment.

Everything is evaluated in log space: log-sum-exp over exact log pmfs written in Loader's saddle-point form
(no gamma-function differences, so no cancellation: relative error ~1e-12 for ``n`` up to 10^15 and beyond).
The ``log_*`` functions are finite wherever the probability is not exactly 0; the float functions return
their exp (0.0 only below the float range, about exp(-745)) as Python floats.
"""
import numbers

import numpy as np
from scipy.special import gammaln, gammasgn, logsumexp

from neurodata.errors import InvalidInputError

__all__ = [
    "log_binomial", "log_overlap_set_size", "log_p_false_positive", "p_false_positive", "log_p_false_negative",
    "p_false_negative", "union_on_bits", "log_p_union_false_positive_exact", "p_union_false_positive", "union_size_distribution", "p_union_false_positive_exact",
    "p_mixed_segment_false_positive", "p_neuron_false_positive", "threshold_sweep", "optimal_threshold",
    "SWEEP_GRID",
]

# The grid of the paper's NMDA-threshold analysis (Numenta's compute_optimal_threshold.py): theta = 3..24,
# n = 1000..17000 step 4000, sparsity 0.5 %..3 % step 0.5 % (a = round(sparsity * n)), s = 20..50 step 5.
SWEEP_GRID = {
    "thetas": tuple(range(3, 25)),
    "ns": (1000, 5000, 9000, 13000, 17000),
    "sparsities": (0.005, 0.010, 0.015, 0.020, 0.025, 0.030),
    "ss": (20, 25, 30, 35, 40, 45, 50),
}


# ----------------------------------------------------------------------------------------------------------
# argument checks
def _check_count(value, name, owner):
    """A non-negative integer count (plain int or numpy integer); returns a Python int."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer() and value >= 0:
            return int(value)  # 300.0 is accepted as 300; 300.5 is not
        raise InvalidInputError(
            f"The {name!r} parameter of {owner} must be a non-negative int. Got {value!r} instead.")
    if value < 0:
        raise InvalidInputError(
            f"The {name!r} parameter of {owner} must be a non-negative int. Got {value!r} instead.")
    return int(value)


def _check_fp_args(n, a, s, theta, owner):
    n, a, s, theta = (_check_count(v, k, owner) for v, k in ((n, "n"), (a, "a"), (s, "s"), (theta, "theta")))
    if a > n:
        raise InvalidInputError(f"{owner}: the number of active cells a={a} exceeds the population size n={n}.")
    if s > n:
        raise InvalidInputError(f"{owner}: a segment cannot have more synapses (s={s}) than there are cells "
                                f"(n={n}).")
    if theta > s:
        raise InvalidInputError(f"{owner}: the NMDA threshold theta={theta} exceeds the number of synapses "
                                f"s={s}; such a segment could never fire.")
    return n, a, s, theta


# ----------------------------------------------------------------------------------------------------------
# cancellation-free log-binomial and hypergeometric kernels (no validation)
#
# log C(n, k) as gammaln(n+1) - gammaln(k+1) - gammaln(n-k+1) subtracts numbers of size n log n: at n = 1e15 the
# absolute error is ~10 in the log. Instead every pmf is written as Loader's (2000) saddle-point form, where the
# large parts cancel analytically: a hypergeometric pmf is a ratio of three binomial pmfs evaluated at a common
# success probability p = d / n (as R's dhyper does), and each binomial pmf is
# stirlerr terms (< 1/(12 x)) - deviance terms bd0 (summed as a series near the mean) - 1/2 log(2 pi x (1-x/n)).
# Every piece is small or exactly positive, so the result has relative error ~1e-14 whatever n.

_LN_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_S = (1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188)


def _stirlerr(x):
    """log(x!) - [(x + 1/2) log x - x + log sqrt(2 pi)] for x > 0 (Loader 2000); the series above 15."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        small = gammaln(x + 1.0) - (x + 0.5) * np.log(x) + x - _LN_SQRT_2PI
        xx = x * x
        S0, S1, S2, S3, S4 = _S
        big = np.where(x > 500, (S0 - S1 / xx) / x,
              np.where(x > 80, (S0 - (S1 - S2 / xx) / xx) / x,
              np.where(x > 35, (S0 - (S1 - (S2 - S3 / xx) / xx) / xx) / x,
                       (S0 - (S1 - (S2 - (S3 - S4 / xx) / xx) / xx) / xx) / x)))
    return np.where(x > 15, big, small)


def _bd0(x, mu):
    """Deviance term x log(x / mu) + mu - x >= 0 without cancellation (Loader 2000); x >= 0, mu > 0."""
    x, mu = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(mu, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.array(np.where(x > 0, x * np.log(x / mu), 0.0) + mu - x, dtype=float)
        near = np.abs(x - mu) < 0.1 * (x + mu)
        if near.any():  # series in v = (x - mu)/(x + mu), |v| < 0.1: each term < 1e-2 of the previous
            xn, mn = x[near], mu[near]
            d = xn - mn
            v = d / (xn + mn)
            s = d * v
            ej = 2 * xn * v
            v2 = v * v
            for j in range(1, 12):
                ej = ej * v2
                s = s + ej / (2 * j + 1)
            out[near] = s
    return out


def _log_dbinom(x, size, mu, nu):
    """log of the binomial pmf at x for `size` trials with mean mu = size p and nu = size q (Loader's dbinom_raw)."""
    x, size, mu, nu = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, size, mu, nu)))
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = (_stirlerr(size) - _stirlerr(x) - _stirlerr(size - x) - _bd0(x, mu) - _bd0(size - x, nu)
                 - 0.5 * (2 * _LN_SQRT_2PI + np.log(x) + np.log1p(-x / size)))
        # q^size and p^size: log1p of the smaller of p, q keeps the tiny one exact
        at0 = size * np.where(mu < nu, np.log1p(-mu / size), np.log(nu / size))
        atn = size * np.where(mu < nu, np.log(mu / size), np.log1p(-nu / size))
    out = np.where(x == 0, np.where(mu == 0, 0.0, at0), np.where(x == size, np.where(nu == 0, 0.0, atn), inner))
    out = np.where((mu == 0) & (x > 0), -np.inf, out)
    out = np.where((nu == 0) & (x < size), -np.inf, out)
    return np.where((x < 0) | (x > size), -np.inf, out)


def _log_hyper_pmf(b, n, k, d):
    """log P(X = b), X the overlap of d random cells of n with a fixed set of k cells (hypergeometric)."""
    b, n, k, d = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (b, n, k, d)))
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = _log_dbinom(b, k, k * d / n, k * (n - d) / n)
        p2 = _log_dbinom(d - b, n - k, (n - k) * d / n, (n - k) * (n - d) / n)
        p3 = _log_dbinom(d, n, d, n - d)
    out = p1 + p2 - p3
    ok = (b >= 0) & (b <= k) & (b <= d) & (d - b <= n - k)
    return np.where(ok, out, -np.inf)


def _log_tail_ge(n, k, d, theta, *, chunk=1 << 20):
    """log P(X >= theta), X the overlap of ``d`` random cells of ``n`` with a fixed set of ``k`` (broadcasting).

    The tail not containing the mode is summed (log-sum-exp of exact log pmfs) and the other one is obtained as
    log1p(-that sum), so neither a probability near 0 nor one near 1 loses digits. The pmf is log-concave, so
    the summed terms decrease away from the mode; the sum stops once the remaining terms (at most ``count`` of
    them, each below the last) are below exp(-40) of it.
    """
    n, k, d, theta = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, k, d, theta)))
    shape = n.shape
    n, k, d, theta = (x.ravel() for x in (n, k, d, theta))
    lo = np.maximum(0.0, d - (n - k))
    hi = np.minimum(k, d)
    out = np.where(theta <= lo, 0.0, -np.inf)
    todo = np.nonzero((theta > lo) & (theta <= hi))[0]
    if todo.size:
        mode = np.floor((d[todo] + 1) * (k[todo] + 1) / (n[todo] + 2))
        upper = theta[todo] > mode                          # sum b = theta, theta+1, ... (decreasing terms)
        first = np.where(upper, theta[todo], theta[todo] - 1)
        count = np.where(upper, hi[todo] - theta[todo] + 1, theta[todo] - lo[todo])
        step = np.where(upper, 1.0, -1.0)
        acc = np.full(todo.size, -np.inf)
        done = 0.0
        live = np.arange(todo.size)
        width = 64
        while live.size:
            width = int(min(max(width, 1), max(1, chunk // live.size)))
            j = done + np.arange(width)
            b = first[live, None] + step[live, None] * j
            valid = j < count[live, None]
            idx = todo[live, None]
            with np.errstate(invalid="ignore"):
                terms = np.where(valid, _log_hyper_pmf(b, n[idx], k[idx], d[idx]), -np.inf)
            acc[live] = np.logaddexp(acc[live], logsumexp(terms, axis=1))
            left = count[live] - done - width
            last = terms[:, -1]
            with np.errstate(divide="ignore"):
                more = (left > 0) & (last + np.log(np.maximum(left, 1.0)) > acc[live] - 40.0)
            live = live[more]
            done += width
            width *= 2
        out[todo] = np.where(upper, acc, np.log1p(-np.exp(np.minimum(acc, 0.0))))
    return np.minimum(out, 0.0).reshape(shape)


def log_binomial(n, k):
    """log C(n, k) for real n >= k >= 0, without cancellation at any n; -inf where k < 0 or k > n.

    C(n, k) = exp(stirlerr(n) - stirlerr(k) - stirlerr(n-k)) * exp(k log(n/k) - (n-k) log1p(-k/n))
    / sqrt(2 pi k (n-k) / n): both exponents' terms are positive and the Stirling remainders are small, so
    the relative error is ~1e-15 (the gamma-function difference loses ~log10(n log n) digits).
    """
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.minimum(k, n - k)  # C(n, k) = C(n, n-k); the smaller one keeps log1p(-m/n) exact
        inner = (_stirlerr(n) - _stirlerr(m) - _stirlerr(n - m) + m * np.log(n / m) - (n - m) * np.log1p(-m / n)
                 - 0.5 * (2 * _LN_SQRT_2PI + np.log(m) + np.log1p(-m / n)))
    out = np.where((k == 0) | (k == n), 0.0, inner)
    return np.where((k < 0) | (k > n), -np.inf, out)


def log_overlap_set_size(n, a, s, b):
    """log |Omega_n(a, b; s)| = log[C(s, b) C(n - s, a - b)]: patterns of ``a`` cells overlapping ``s`` in ``b``."""
    return log_binomial(s, b) + log_binomial(np.asarray(n) - np.asarray(s), np.asarray(a) - np.asarray(b))


def log_p_false_positive(n, a, s, theta):
    """Vectorised log P_FP (broadcasting over all four arguments); -inf only where the probability is exactly 0.

    P_FP = sum_{b = theta}^{s} C(s, b) C(n - s, a - b) / C(n, a)   (Ahmad & Hawkins 2016, eq. 3), the upper
    tail of a hypergeometric overlap. Summed in log space over exact (cancellation-free) log pmfs: relative
    error ~1e-12 in the log and in the probability for n up to 1e15 (tests/test_dendrites_theory.py), and
    finite however small the probability (a float64 exp underflows below about exp(-745)).
    """
    n, a, s, theta = np.broadcast_arrays(*(np.asarray(x, dtype=np.int64) for x in (n, a, s, theta)))
    return _log_tail_ge(n, s, a, theta)


# ----------------------------------------------------------------------------------------------------------
# public scalar functions (stable names)
def p_false_positive(n, a, s, theta):
    """Probability that a segment with ``s`` synapses and NMDA threshold ``theta`` matches a random SDR.

    The random pattern has ``a`` active cells out of ``n``; the segment's synapses form a fixed set of ``s``
    cells. Exact: P_FP = sum_{b>=theta} |Omega_n(a, b; s)| / C(n, a), evaluated in log space.

    Examples
    --------
    >>> p_false_positive(10000, 300, 24, 12)  # doctest: +ELLIPSIS
    8.3758...e-13
    """
    n, a, s, theta = _check_fp_args(n, a, s, theta, "p_false_positive")
    return float(np.exp(log_p_false_positive(n, a, s, theta)))


def _check_fn_args(a, s, theta, v, owner):
    a, s, theta, v = (_check_count(x, k, owner) for x, k in ((a, "a"), (s, "s"), (theta, "theta"), (v, "v")))
    if s > a:
        raise InvalidInputError(f"{owner}: the segment subsamples the learned pattern, so s={s} synapses cannot "
                                f"exceed its a={a} active cells.")
    if theta > s:
        raise InvalidInputError(f"{owner}: the NMDA threshold theta={theta} exceeds the number of synapses "
                                f"s={s}; such a segment could never fire.")
    if v > a:
        raise InvalidInputError(f"{owner}: cannot replace v={v} cells of a pattern with only a={a} active cells.")
    return a, s, theta, v


def log_p_false_negative(a, s, theta, v):
    """log of :func:`p_false_negative`; finite wherever the probability is not exactly 0 (then -inf)."""
    a, s, theta, v = _check_fn_args(a, s, theta, v, "log_p_false_negative")
    # b = synapses among the v removed cells: hypergeometric (population a, s marked, v drawn); miss if b > s-theta
    return float(_log_tail_ge(a, s, v, s - theta + 1))


def p_false_negative(a, s, theta, v):
    """Probability that a segment fails to recognise its learned pattern after ``v`` of its ``a`` cells are noise.

    The segment's ``s`` synapses subsample the ``a`` active cells of the learned pattern; ``v`` of those ``a``
    cells are replaced by cells outside the pattern. The segment misses when fewer than ``theta`` synapses
    remain active, i.e. when ``b >= s - theta + 1`` of its synapses are among the ``v`` removed cells::

        P_FN = sum_{b = s-theta+1}^{s} C(s, b) C(a - s, v - b) / C(a, v)     (independent of n)

    Returned as the exp of :func:`log_p_false_negative` (0.0 only below the float range).
    """
    a, s, theta, v = _check_fn_args(a, s, theta, v, "p_false_negative")
    return float(np.exp(_log_tail_ge(a, s, v, s - theta + 1)))


def union_on_bits(n, a, m):
    """Expected number of ON bits in the union of ``m`` random patterns of ``a`` cells: n (1 - (1 - a/n)^m)."""
    return n * (1.0 - (1.0 - a / n) ** m) if n else 0.0


def _check_union_args(n, a, theta, m, owner):
    n, a, theta, m = (_check_count(x, k, owner) for x, k in ((n, "n"), (a, "a"), (theta, "theta"), (m, "m")))
    if a > n:
        raise InvalidInputError(f"{owner}: the number of active cells a={a} exceeds the population size n={n}.")
    return n, a, theta, m


def p_union_false_positive(n, a, theta, m):
    """False-positive probability of a segment storing the union of ``m`` random patterns (the union property).

    A random pattern of ``a`` active cells out of ``n`` is tested against the ON bits of the union of ``m``
    random patterns of ``a`` cells; it matches when at least ``theta`` of its cells are ON in the union. As in
    Numenta's notebook (sdr_math.ipynb, "Inexact Matches with Unions"), the union is given its expected size
    ``s_u = n (1 - (1 - a/n)^m)`` (the fraction of OFF bits is (1 - a/n)^m) and the binomials are generalised
    through the gamma function::

        P = sum_{b = theta}^{a} C(s_u, b) C(n - s_u, a - b) / C(n, a)

    For very full unions (n - s_u < a - theta) some generalised binomials are negative; the sum is then taken
    with signs and clipped to [0, 1]. :func:`p_union_false_positive_exact` averages over the exact distribution
    of the union size instead.
    """
    n, a, theta, m = _check_union_args(n, a, theta, m, "p_union_false_positive")
    if theta > a:
        return 0.0  # a pattern of a cells cannot overlap anything in more than a cells
    s_u = union_on_bits(n, a, m)
    b = np.arange(theta, a + 1, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_abs = (gammaln(s_u + 1) - gammaln(b + 1) - gammaln(s_u - b + 1)
                   + gammaln(n - s_u + 1) - gammaln(a - b + 1) - gammaln(n - s_u - (a - b) + 1))
        sign = gammasgn(s_u - b + 1) * gammasgn(n - s_u - (a - b) + 1)
    keep = np.isfinite(log_abs) & (sign != 0)
    if not keep.any():
        return 0.0
    log_sum, total_sign = logsumexp(log_abs[keep], b=sign[keep], return_sign=True)
    if total_sign <= 0:
        return 0.0
    return float(np.clip(np.exp(log_sum - log_binomial(n, a)), 0.0, 1.0))


def _log_hyper_rows(n, k, d, j0, width):
    """log pmf of the hypergeometric overlap at j = j0 + 0 .. width-1, one row per entry of ``k`` / ``j0``.

    Each row is anchored at one point of its support by the exact kernel and extended by the exact pmf ratio
    p(j+1)/p(j) = (k-j)(d-j) / ((j+1)(n-k-d+j+1)) (a cumulative sum of logs of integers: absolute error
    ~width * 1e-15), which costs a few flops per entry instead of a full saddle-point evaluation.
    """
    k = np.asarray(k, dtype=float)[:, None]
    j0 = np.asarray(j0, dtype=float)[:, None]
    n, d = float(n), float(d)
    j = j0 + np.arange(width)[None, :]
    j_lo, j_hi = np.maximum(0.0, d - (n - k)), np.minimum(k, d)
    inside = (j >= j_lo) & (j <= j_hi)
    step_ok = (j >= j_lo) & (j + 1 <= j_hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(step_ok, np.log((k - j) * (d - j)) - np.log((j + 1) * (n - k - d + j + 1)), 0.0)
    cum = np.concatenate([np.zeros((k.shape[0], 1)), np.cumsum(r[:, :-1], axis=1)], axis=1)
    anchor_j = np.clip(j0, j_lo, j_hi)                      # a support point, inside the row where possible
    pos = np.clip(anchor_j - j0, 0, width - 1).astype(np.int64)
    anchor = _log_hyper_pmf(j0 + pos, n, k, d)
    out = anchor + cum - np.take_along_axis(cum, pos, axis=1)
    return np.where(inside, out, -np.inf)


def _chain_step(logp, states, n, white_of_state, d, targets, *, chunk):
    """One step of a chain that moves from state x to x + j, j hypergeometric (n, white_of_state(x), d)."""
    live = np.isfinite(logp)
    x, lp = states[live], logp[live]
    white = white_of_state(x)
    new = np.full(targets.size, -np.inf)
    block = int(max(1, min(targets.size, chunk // max(min(x.size, d + 1), 1))))
    for t0 in range(0, targets.size, block):
        tg = targets[t0:t0 + block]
        # only sources with 0 <= target - source <= d reach this block (states are sorted)
        lo, hi = np.searchsorted(x, tg[0] - d), np.searchsorted(x, tg[-1], side="right")
        if hi > lo:
            terms = lp[lo:hi, None] + _log_hyper_rows(n, white[lo:hi], d, tg[0] - x[lo:hi], tg.size)
            new[t0:t0 + block] = logsumexp(terms, axis=0)
    return new - logsumexp(new)  # renormalise away the rounding of the step


def _log_union_size_distribution(n, a, m, *, chunk=1 << 18):
    """(k, log P(|union| = k)) over the support k = a .. min(n, m a) of the union of m random a-of-n patterns.

    Markov chain on the union size in log space: from k ON bits a new pattern adds j new bits with the
    hypergeometric probability C(n-k, j) C(k, a-j) / C(n, a). Only the support is stored (at most (m-1) a + 1
    states) and each step works on blocks of at most ``chunk`` (state, target) pairs, so memory is
    O(chunk + m a) instead of the dense (n+1) x (a+1) transition matrix.
    """
    if a == 0 or m == 0:
        return np.zeros(1, dtype=np.int64), np.zeros(1)
    states, logp = np.array([a]), np.zeros(1)  # after one pattern the union has exactly a cells
    for step in range(2, m + 1):
        targets = np.arange(a, min(n, step * a) + 1)
        logp = _chain_step(logp, states, n, lambda k: n - k, a, targets, chunk=chunk)
        states = targets
    return states, logp


def union_size_distribution(n, a, m):
    """Exact distribution of the number of ON bits in the union of ``m`` independent random a-of-n patterns.

    Returns an array ``p`` of length ``n + 1`` with ``p[k] = P(|union| = k)``. Markov chain on the union size:
    from ``k`` ON bits, a new pattern adds ``j`` new bits with probability C(n-k, j) C(k, a-j) / C(n, a),
    evaluated in log space on the support a .. min(n, m a) only (no (n+1) x (a+1) matrix); entries below
    the float range are 0.
    """
    n, a, _, m = _check_union_args(n, a, 0, m, "union_size_distribution")
    k, logp = _log_union_size_distribution(n, a, m)
    p = np.zeros(n + 1)
    p[k] = np.exp(logp)
    return p


def _log_union_covered(n, a, m, *, chunk=1 << 18):
    """log P(c = 0..a): cells of a fixed a-cell test pattern covered by the union of m random a-of-n patterns.

    Markov chain on the covered count c (a + 1 states): a new random pattern covers j more of the a - c
    uncovered test cells with the hypergeometric probability C(a-c, j) C(n-a+c, a-j) / C(n, a). Each step
    works on blocks of at most ``chunk`` (c, c') pairs: memory O(chunk + a), time O(m a^2) cheap flops.
    """
    states = np.arange(a + 1)
    logp = np.full(a + 1, -np.inf)
    logp[0] = 0.0
    for _ in range(m):
        logp = _chain_step(logp, states, n, lambda c: a - c, a, states, chunk=chunk)
    return logp


def log_p_union_false_positive_exact(n, a, theta, m):
    """log of :func:`p_union_false_positive_exact`; finite wherever the probability is not exactly 0."""
    n, a, theta, m = _check_union_args(n, a, theta, m, "log_p_union_false_positive_exact")
    if theta > a:
        return -np.inf
    if theta == 0:
        return 0.0
    logp = _log_union_covered(n, a, m)
    upper, lower = logsumexp(logp[theta:]), logsumexp(logp[:theta])
    # the smaller tail is summed directly, the other one taken as its complement (no digits lost near 1)
    return float(min(upper if upper <= lower else np.log1p(-np.exp(min(lower, 0.0))), 0.0))


def p_union_false_positive_exact(n, a, theta, m):
    """Like :func:`p_union_false_positive`, but exact: averaged over the exact distribution of the union.

    P = sum_k P(|union| = k) P_FP(n, a, k, theta). This is what a Monte Carlo of random unions measures; the
    expected-size formula of the paper is its approximation (close when ``theta`` is small relative to the
    union, and biased upward/downward by Jensen's inequality otherwise). Computed as P(c_m >= theta) for the
    number c_m of the test pattern's a cells that the m stored patterns cover (a Markov chain with a + 1
    states, in log space), which equals the sum over union sizes without storing anything of size n:
    Table-1 scale (n = 100000, a = 2000) needs a few MB. Returns the exp of
    :func:`log_p_union_false_positive_exact`.
    """
    return float(np.exp(log_p_union_false_positive_exact(n, a, theta, m)))


def p_mixed_segment_false_positive(n, a, theta, m, s_per_pattern):
    """False-positive rate of a segment mixing synapses of ``m`` patterns, ``s_per_pattern`` synapses each.

    The paper's Table 1D: the segment holds s = m * s_per_pattern synapses (sparse patterns rarely share
    cells) and keeps its threshold ``theta``; each stored pattern still reaches ``theta`` when
    ``s_per_pattern >= theta``. Returns P_FP(n, a, m * s_per_pattern, theta).
    """
    owner = "p_mixed_segment_false_positive"
    m = _check_count(m, "m", owner)
    s_per_pattern = _check_count(s_per_pattern, "s_per_pattern", owner)
    n, a, s, theta = _check_fp_args(n, a, m * s_per_pattern, theta, owner)
    return float(np.exp(log_p_false_positive(n, a, s, theta)))


def p_neuron_false_positive(n, a, s, theta, n_segments):
    """Probability that a neuron with ``n_segments`` independent random segments is falsely predicted.

    For a random test pattern each segment's overlap is hypergeometric whatever the pattern, so the segments
    match independently: P = 1 - (1 - P_FP)^k, bounded above by k * P_FP (the M-patterns classification bound
    of the paper: a neuron recognising M patterns on M segments has error at most M times a segment's).
    """
    n, a, s, theta = _check_fp_args(n, a, s, theta, "p_neuron_false_positive")
    k = _check_count(n_segments, "n_segments", "p_neuron_false_positive")
    log_fp = float(log_p_false_positive(n, a, s, theta))
    return float(-np.expm1(k * np.log1p(-np.exp(log_fp)))) if np.isfinite(log_fp) else 0.0


# ----------------------------------------------------------------------------------------------------------
# the NMDA-threshold sweep
def threshold_sweep(thetas=None, ns=None, sparsities=None, ss=None):
    """P_FP over the paper's grid for each theta; returns a dict of arrays keyed by statistic.

    Keys: ``theta``, ``median``, ``mean``, ``min``, ``max`` (over the grid of n x sparsity x s for each
    theta) and ``table`` (a structured array with one row per grid point). Grid points with theta > s count
    as probability 0, as in Numenta's script (an empty sum).
    """
    g = SWEEP_GRID
    thetas = np.asarray(g["thetas"] if thetas is None else thetas, dtype=np.int64)
    ns = np.asarray(g["ns"] if ns is None else ns, dtype=np.int64)
    sparsities = np.asarray(g["sparsities"] if sparsities is None else sparsities, dtype=float)
    ss = np.asarray(g["ss"] if ss is None else ss, dtype=np.int64)
    T, N, SP, S = np.meshgrid(thetas, ns, sparsities, ss, indexing="ij")
    A = np.floor(SP * N + 0.5).astype(np.int64)  # round half up, like Python 2's round()
    log_p = log_p_false_positive(N, A, S, T)
    P = np.where(T <= S, np.exp(log_p), 0.0)
    flat = P.reshape(len(thetas), -1)
    table = np.rec.fromarrays([T.ravel(), N.ravel(), A.ravel(), SP.ravel(), S.ravel(), P.ravel()],
                              names="theta,n,a,sparsity,s,p_fp")
    return {"theta": thetas, "median": np.median(flat, axis=1), "mean": flat.mean(axis=1),
            "min": flat.min(axis=1), "max": flat.max(axis=1), "table": table}


def optimal_threshold(level=1e-7, **grid):
    """The smallest theta at which the median P_FP over the sweep grid falls below ``level`` (paper: 8)."""
    sweep = threshold_sweep(**grid)
    below = np.nonzero(sweep["median"] < level)[0]
    if below.size == 0:
        raise InvalidInputError(f"The median false-positive rate never falls below {level:g} on this grid; "
                                f"extend the thetas.")
    return int(sweep["theta"][below[0]])
