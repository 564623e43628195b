"""Monte Carlo estimates of segment error rates from sampled SDRs, to check the exact theory.

Patterns and segments are sparse 0/1 matrices; the overlap of every (pattern, segment) pair is one sparse
matrix product, whose cost grows with the *expected overlap* a*s/n rather than with n — so a 2-core laptop
does well over 10^7 segment-pattern comparisons per second. All pairs of a block are used: for random
patterns (or random segments) the match indicators of two pairs sharing a pattern or a segment are
uncorrelated, so the binomial standard error sqrt(p(1-p)/N) of the pooled count is exact.
"""
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.stats import beta

from neurodata.errors import InvalidInputError
from neurodata.utils import check_random_state

from .theory import _check_count, _check_fp_args, _log_hyper_pmf

__all__ = ["MonteCarloEstimate", "ImportanceEstimate", "random_sdrs", "mc_false_positive", "mc_false_negative",
           "mc_union_false_positive", "tilted_overlap_patterns", "importance_estimate",
           "mc_false_positive_importance"]


@dataclass(frozen=True)
class MonteCarloEstimate:
    """A binomial estimate: ``matches`` successes out of ``trials``, with a Clopper-Pearson interval."""

    matches: int
    trials: int
    seconds: float
    confidence: float = 0.95

    @property
    def p(self):
        return self.matches / self.trials

    @property
    def se(self):
        """Binomial standard error sqrt(p (1 - p) / N) of the estimate."""
        return float(np.sqrt(self.p * (1.0 - self.p) / self.trials))

    @property
    def ci(self):
        """Exact (Clopper-Pearson) two-sided interval at ``confidence``."""
        alpha = 1.0 - self.confidence
        k, n = self.matches, self.trials
        lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
        hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
        return lo, hi

    @property
    def comparisons_per_second(self):
        return self.trials / self.seconds if self.seconds > 0 else float("inf")

    def z_score(self, p_theory):
        """(estimate - theory) / standard error under the theory (binomial with p = p_theory)."""
        sd = np.sqrt(p_theory * (1.0 - p_theory) / self.trials)
        return float((self.p - p_theory) / sd) if sd > 0 else (0.0 if self.p == p_theory else float("inf"))


def random_sdrs(n, a, count, seed=None):
    """``count`` random SDRs: an int array (count, a) of distinct, sorted active-cell indices out of ``n``.

    Sparse case (a <= n/4): draw with replacement and redraw the duplicates until none is left. The procedure
    commutes with every relabelling of the cells, so each a-subset is equally likely; it costs O(a log a) per
    pattern instead of O(n).
    """
    rng = check_random_state(seed)
    if a == 0 or count == 0:
        return np.zeros((count, a), dtype=np.int64)
    if 4 * a <= n:
        idx = np.sort(rng.integers(0, n, size=(count, a)), axis=1)
        while True:
            dup = np.zeros(idx.shape, dtype=bool)
            dup[:, 1:] = idx[:, 1:] == idx[:, :-1]
            k = int(np.count_nonzero(dup))
            if k == 0:
                return idx
            idx[dup] = rng.integers(0, n, size=k)
            idx.sort(axis=1)
    out = np.empty((count, a), dtype=np.int64)
    rows_per_block = max(1, 2_000_000 // n)  # keep the random block near 16 MB
    for start in range(0, count, rows_per_block):
        stop = min(count, start + rows_per_block)
        keys = rng.random((stop - start, n))
        out[start:stop] = np.sort(np.argpartition(keys, a - 1, axis=1)[:, :a] if a < n else
                                  np.argsort(keys, axis=1), axis=1)
    return out


def _rows_to_csr(indices, n):
    """(count, k) index rows -> sparse 0/1 matrix (count, n); rows may differ in length if given as a list."""
    if isinstance(indices, np.ndarray):
        count, k = indices.shape
        indptr = np.arange(0, count * k + 1, k)
        cols = indices.ravel()
    else:
        lengths = np.array([len(r) for r in indices])
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        cols = np.concatenate(indices) if len(indices) else np.zeros(0, dtype=np.int64)
        count = len(indices)
    data = np.ones(len(cols), dtype=np.int32)
    return sp.csr_matrix((data, cols, indptr), shape=(count, n))


def _count_matches(patterns, segments, theta):
    """Number of (pattern, segment) pairs whose overlap is >= theta (patterns, segments: sparse rows)."""
    overlap = (patterns @ segments.T).tocsr()
    if theta <= 0:
        return patterns.shape[0] * segments.shape[0]
    return int(np.count_nonzero(overlap.data >= theta))


def _outside(pattern, n, v, rng):
    """For each row of ``pattern``, ``v`` distinct random cells of ``n`` that are not in the row."""
    size, a = pattern.shape
    # rank k among the n - a cells outside the pattern -> cell index (shift past the sorted pattern cells)
    ranks = random_sdrs(n - a, v, size, rng)
    cells = ranks.copy()
    for col in range(a):  # pattern rows are sorted, so one pass of shifts maps ranks to cells
        cells += cells >= pattern[:, col:col + 1]
    return cells


def _blocks(total, block):
    return [min(block, total - i) for i in range(0, total, block)]


def mc_false_positive(n, a, s, theta, *, n_segments=1000, n_patterns=1000, block=1000, seed=None):
    """Estimate P_FP: random segments of ``s`` synapses against random patterns of ``a`` of ``n`` cells.

    Every segment is compared with every pattern (n_segments * n_patterns comparisons).
    """
    n, a, s, theta = _check_fp_args(n, a, s, theta, "mc_false_positive")
    n_segments = _check_count(n_segments, "n_segments", "mc_false_positive")
    n_patterns = _check_count(n_patterns, "n_patterns", "mc_false_positive")
    if n_segments == 0 or n_patterns == 0:
        raise InvalidInputError("mc_false_positive needs at least one segment and one pattern.")
    rng = check_random_state(seed)
    t0 = time.perf_counter()
    segments = _rows_to_csr(random_sdrs(n, s, n_segments, rng), n)
    matches = 0
    for size in _blocks(n_patterns, block):
        matches += _count_matches(_rows_to_csr(random_sdrs(n, a, size, rng), n), segments, theta)
    return MonteCarloEstimate(matches, n_segments * n_patterns, time.perf_counter() - t0)


def mc_false_negative(n, a, s, theta, v, *, n_trials=100_000, block=20_000, seed=None):
    """Estimate P_FN: a segment subsampling a learned pattern, tested on the pattern with ``v`` cells replaced.

    Each trial draws a pattern of ``a`` of ``n`` cells, a segment of ``s`` of its cells, and replaces ``v`` of
    the pattern's cells by ``v`` cells drawn from the ``n - a`` inactive ones.
    """
    owner = "mc_false_negative"
    n, a, s, theta = _check_fp_args(n, a, s, theta, owner)
    v = _check_count(v, "v", owner)
    n_trials = _check_count(n_trials, "n_trials", owner)
    if s > a or v > a or v > n - a:
        raise InvalidInputError(f"{owner}: need s <= a, v <= a and v <= n - a; got n={n}, a={a}, s={s}, v={v}.")
    rng = check_random_state(seed)
    t0 = time.perf_counter()
    misses = 0
    for size in _blocks(n_trials, block):
        pattern = random_sdrs(n, a, size, rng)
        seg_pos = random_sdrs(a, s, size, rng)  # which of the pattern's cells carry the segment's synapses
        removed_pos = random_sdrs(a, v, size, rng)  # which of the pattern's cells the noise switches off
        incoming = _outside(pattern, n, v, rng)  # the v cells that become active instead
        noisy = np.zeros((size, n), dtype=bool)
        rows = np.arange(size)[:, None]
        noisy[rows, pattern] = True
        noisy[rows, np.take_along_axis(pattern, removed_pos, axis=1)] = False
        noisy[rows, incoming] = True
        segment = np.take_along_axis(pattern, seg_pos, axis=1)
        overlap = np.take_along_axis(noisy, segment, axis=1).sum(axis=1)
        misses += int(np.count_nonzero(overlap < theta))
    return MonteCarloEstimate(misses, n_trials, time.perf_counter() - t0)


def mc_union_false_positive(n, a, theta, m, *, n_unions=500, n_patterns=2000, block=1000, seed=None):
    """Estimate the union false-positive rate: random patterns against the union of ``m`` random patterns.

    A test pattern matches a union when at least ``theta`` of its ``a`` cells are ON in the union. Compare
    with :func:`~neurosim.dendrites.theory.p_union_false_positive_exact` (exact union-size distribution) and
    :func:`~neurosim.dendrites.theory.p_union_false_positive` (the paper's expected-size formula).
    """
    owner = "mc_union_false_positive"
    n, a, theta = (_check_count(x, k, owner) for x, k in ((n, "n"), (a, "a"), (theta, "theta")))
    m = _check_count(m, "m", owner)
    if a > n or m == 0:
        raise InvalidInputError(f"{owner}: need a <= n and m >= 1; got n={n}, a={a}, m={m}.")
    rng = check_random_state(seed)
    t0 = time.perf_counter()
    members = random_sdrs(n, a, n_unions * m, rng).reshape(n_unions, m * a)
    unions = [np.unique(row) for row in members]
    union_mat = _rows_to_csr(unions, n)
    matches = 0
    for size in _blocks(n_patterns, block):
        matches += _count_matches(_rows_to_csr(random_sdrs(n, a, size, rng), n), union_mat, theta)
    return MonteCarloEstimate(matches, n_unions * n_patterns, time.perf_counter() - t0)


# ----------------------------------------------------------------------------------------------------------
# importance sampling for rare false positives (theta >= 8, where P_FP is 1e-9 .. 1e-20)
@dataclass(frozen=True)
class ImportanceEstimate:
    """A self-normalised-free importance-sampling estimate: the mean of ``w * hit`` over ``trials`` draws."""

    p: float
    se: float
    trials: int
    hits: int
    seconds: float = float("nan")

    def z_score(self, p_theory):
        """(estimate - theory) / the estimate's standard error (sample variance of the weighted hits)."""
        return float((self.p - p_theory) / self.se) if self.se > 0 else (0.0 if self.p == p_theory else np.inf)


def _tilt(n, a, s, theta):
    """Overlap grid b, log p(b) (hypergeometric) and log q(b) ∝ log p(b) + lam b with E_q[b] = theta + 1/2."""
    b = np.arange(max(0, a - (n - s)), min(s, a) + 1)
    log_p = _log_hyper_pmf(b, n, s, a)
    target = min(theta + 0.5, b[-1] - 0.25) if b[-1] > b[0] else float(b[0])

    def log_q(lam):
        z = log_p + lam * b
        return z - np.logaddexp.reduce(z)

    lo, hi = -50.0, 50.0  # E_q[b] increases with lam: bisection
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if float(np.exp(log_q(mid)) @ b) < target else (lo, mid)
    return b, log_p, log_q(0.5 * (lo + hi))


def tilted_overlap_patterns(n, a, synapses, theta, count, seed=None):
    """Random patterns of ``a`` of ``n`` cells tilted towards overlapping ``synapses`` in about ``theta`` cells.

    The overlap b with the synapse set (s cells) of a uniformly random pattern is hypergeometric, p(b); here it
    is drawn from the exponentially tilted q(b) ∝ p(b) exp(lam b) with mean theta + 1/2, and the pattern is b
    random synapse cells plus a - b random other cells, which is uniform given b. So for any event E,
    P_uniform(E) = E_q[w 1_E] with w = p(b) / q(b): the rare matches (b >= theta) are drawn about half the
    time and their weights are ~P_FP. Returns ``(patterns (count, a) sorted, overlaps (count,), log_w (count,))``.
    """
    rng = check_random_state(seed)
    synapses = np.unique(np.asarray(synapses, dtype=np.int64))
    s = synapses.size
    n, a, s, theta = _check_fp_args(n, a, s, theta, "tilted_overlap_patterns")
    count = _check_count(count, "count", "tilted_overlap_patterns")
    if s and (synapses[0] < 0 or synapses[-1] >= n):
        raise InvalidInputError(f"tilted_overlap_patterns: synapses must be cell indices in [0, {n}).")
    b_grid, log_p, log_q = _tilt(n, a, s, theta)
    q = np.exp(log_q)
    pick = rng.choice(b_grid.size, size=count, p=q / q.sum())
    overlaps, log_w = b_grid[pick], (log_p - log_q)[pick]
    others = np.setdiff1d(np.arange(n), synapses)  # O(n), once: fine for the test-sized populations
    out = np.empty((count, a), dtype=np.int64)
    for i, b in enumerate(overlaps):
        inside = synapses[random_sdrs(s, b, 1, rng)[0]] if b else np.zeros(0, dtype=np.int64)
        outside = others[random_sdrs(n - s, a - b, 1, rng)[0]]
        out[i] = np.sort(np.concatenate([inside, outside]))
    return out, overlaps, log_w


def importance_estimate(hits, log_w, seconds=float("nan")):
    """Importance-sampling estimate of P(hit) from boolean ``hits`` and log weights ``log_w`` of the draws."""
    hits = np.asarray(hits, dtype=bool)
    x = np.where(hits, np.exp(np.asarray(log_w, dtype=float)), 0.0)
    n = x.size
    se = float(x.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return ImportanceEstimate(float(x.mean()), se, n, int(hits.sum()), seconds)


def mc_false_positive_importance(n, a, s, theta, *, n_trials=20_000, seed=None):
    """Importance-sampling estimate of P_FP for rare matches (theta >= 8): random segment, tilted patterns.

    Each trial draws a random segment of ``s`` synapses and a pattern from :func:`tilted_overlap_patterns`;
    the match (overlap >= theta) is counted from the two cell sets themselves, weighted by p(b) / q(b).
    """
    n, a, s, theta = _check_fp_args(n, a, s, theta, "mc_false_positive_importance")
    n_trials = _check_count(n_trials, "n_trials", "mc_false_positive_importance")
    rng = check_random_state(seed)
    t0 = time.perf_counter()
    segments = random_sdrs(n, s, n_trials, rng)
    hits, log_w = np.zeros(n_trials, dtype=bool), np.zeros(n_trials)
    # the tilt depends only on (n, a, s, theta); draw the overlaps once, build each pattern for its segment
    b_grid, log_p, log_q = _tilt(n, a, s, theta)
    q = np.exp(log_q)
    pick = rng.choice(b_grid.size, size=n_trials, p=q / q.sum())
    for i in range(n_trials):
        b = b_grid[pick[i]]
        seg = segments[i]
        inside = seg[random_sdrs(s, b, 1, rng)[0]] if b else np.zeros(0, dtype=np.int64)
        rest = random_sdrs(n - s, a - b, 1, rng)[0]
        for cell in seg:  # rank among the n - s non-synapse cells -> cell index (seg is sorted)
            rest = rest + (rest >= cell)
        pattern = np.concatenate([inside, rest])
        hits[i] = np.intersect1d(pattern, seg).size >= theta
        log_w[i] = log_p[pick[i]] - log_q[pick[i]]
    return importance_estimate(hits, log_w, time.perf_counter() - t0)
