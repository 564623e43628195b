"""Exact combinatorics of dendritic segments on sparse distributed representations (SDRs).

Ahmad & Hawkins (2016), "How do neurons operate on sparse distributed representations? A mathematical theory
of sparsity, neurons and active dendrites", arXiv:1601.00720.

Notation (the paper's): a population of ``n`` cells of which ``a`` are active; a dendritic segment with ``s``
synapses fires an NMDA spike when at least ``theta`` of them are active; ``v`` of the ``a`` active cells of a
learned pattern are replaced by noise; ``m`` patterns are stored as a union on one segment.

Everything is evaluated in log space (``gammaln`` + ``logsumexp``) so that nothing overflows for ``n`` up to
10^6 and ``s`` up to 500; the public scalar functions return Python floats.
"""
import numbers

import numpy as np
from scipy.special import gammaln, gammasgn, logsumexp

from neurodata.errors import InvalidInputError

__all__ = [
    "log_binomial", "log_overlap_set_size", "log_p_false_positive", "p_false_positive", "p_false_negative",
    "union_on_bits", "p_union_false_positive", "union_size_distribution", "p_union_false_positive_exact",
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
# vectorised kernels (no validation; used by the public functions, the sweep and the benchmark)
def log_binomial(n, k):
    """log C(n, k) for real n >= k >= 0 (gamma-function generalisation); -inf where k < 0 or k > n (integers)."""
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    with np.errstate(invalid="ignore"):
        out = gammaln(n + 1.0) - gammaln(k + 1.0) - gammaln(n - k + 1.0)
    return np.where((k < 0) | (k > n), -np.inf, out)


def log_overlap_set_size(n, a, s, b):
    """log |Omega_n(a, b; s)| = log[C(s, b) C(n - s, a - b)]: patterns of ``a`` cells overlapping ``s`` in ``b``."""
    return log_binomial(s, b) + log_binomial(np.asarray(n) - np.asarray(s), np.asarray(a) - np.asarray(b))


def log_p_false_positive(n, a, s, theta):
    """Vectorised log P_FP (broadcasting over all four arguments); -inf where the probability is exactly 0.

    P_FP = sum_{b = theta}^{s} C(s, b) C(n - s, a - b) / C(n, a)   (Ahmad & Hawkins 2016, eq. 3).
    """
    n, a, s, theta = np.broadcast_arrays(*(np.asarray(x, dtype=np.int64) for x in (n, a, s, theta)))
    b_max = int(min(s.max(initial=0), a.max(initial=0))) if s.size else 0
    b = np.arange(b_max + 1).reshape((1,) * n.ndim + (-1,))
    n_, a_, s_, th_ = (x[..., None] for x in (n, a, s, theta))
    valid = (b >= th_) & (b <= np.minimum(s_, a_)) & (a_ - b <= n_ - s_)
    with np.errstate(invalid="ignore"):
        terms = np.where(valid, log_overlap_set_size(n_, a_, s_, b), -np.inf)
    out = logsumexp(terms, axis=-1) - log_binomial(n, a)
    return np.where(np.isfinite(out), np.minimum(out, 0.0), -np.inf)


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


def p_false_negative(a, s, theta, v):
    """Probability that a segment fails to recognise its learned pattern after ``v`` of its ``a`` cells are noise.

    The segment's ``s`` synapses subsample the ``a`` active cells of the learned pattern; ``v`` of those ``a``
    cells are replaced by cells outside the pattern. The segment misses when fewer than ``theta`` synapses
    remain active, i.e. when ``b >= s - theta + 1`` of its synapses are among the ``v`` removed cells::

        P_FN = sum_{b = s-theta+1}^{s} C(s, b) C(a - s, v - b) / C(a, v)     (independent of n)
    """
    owner = "p_false_negative"
    a, s, theta, v = (_check_count(x, k, owner) for x, k in ((a, "a"), (s, "s"), (theta, "theta"), (v, "v")))
    if s > a:
        raise InvalidInputError(f"{owner}: the segment subsamples the learned pattern, so s={s} synapses cannot "
                                f"exceed its a={a} active cells.")
    if theta > s:
        raise InvalidInputError(f"{owner}: the NMDA threshold theta={theta} exceeds the number of synapses "
                                f"s={s}; such a segment could never fire.")
    if v > a:
        raise InvalidInputError(f"{owner}: cannot replace v={v} cells of a pattern with only a={a} active cells.")
    b = np.arange(s - theta + 1, min(s, v) + 1)
    b = b[v - b <= a - s]
    if b.size == 0:
        return 0.0
    log_p = logsumexp(log_binomial(s, b) + log_binomial(a - s, v - b)) - log_binomial(a, v)
    return float(min(np.exp(log_p), 1.0))


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


def union_size_distribution(n, a, m):
    """Exact distribution of the number of ON bits in the union of ``m`` independent random a-of-n patterns.

    Returns an array ``p`` of length ``n + 1`` with ``p[k] = P(|union| = k)``. Markov chain on the union size:
    from ``k`` ON bits, a new pattern adds ``j`` new bits with probability C(n-k, j) C(k, a-j) / C(n, a).
    """
    n, a, _, m = _check_union_args(n, a, 0, m, "union_size_distribution")
    p = np.zeros(n + 1)
    p[0] = 1.0
    if a == 0 or m == 0:
        return p
    k = np.arange(n + 1)[:, None]
    j = np.arange(a + 1)[None, :]
    log_t = log_binomial(n - k, j) + log_binomial(k, a - j) - log_binomial(n, a)
    trans = np.exp(log_t)  # trans[k, j] = P(add j | size k)
    for _ in range(m):
        new = np.zeros(n + 1)
        occupied = np.nonzero(p > 0)[0]
        for jj in range(a + 1):
            tgt = occupied + jj
            ok = tgt <= n
            new[tgt[ok]] += p[occupied[ok]] * trans[occupied[ok], jj]
        p = new
    return p / p.sum()


def p_union_false_positive_exact(n, a, theta, m):
    """Like :func:`p_union_false_positive`, but averaged over the exact distribution of the union size.

    P = sum_k P(|union| = k) P_FP(n, a, k, theta). This is what a Monte Carlo of random unions measures; the
    expected-size formula of the paper is its approximation (close when ``theta`` is small relative to the
    union, and biased upward/downward by Jensen's inequality otherwise).
    """
    n, a, theta, m = _check_union_args(n, a, theta, m, "p_union_false_positive_exact")
    if theta > a:
        return 0.0
    p = union_size_distribution(n, a, m)
    k = np.nonzero(p > 1e-300)[0]
    k = k[k >= theta]
    if k.size == 0:
        return 0.0
    log_fp = log_p_false_positive(n, a, k, theta)
    return float(min(np.exp(logsumexp(log_fp + np.log(p[k]))), 1.0))


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
