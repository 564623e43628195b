"""Description length (minus log posterior, in nats) of weighted stochastic block models, flat or nested,
with or without degree correction: the objective the paper's tool (graph-tool's
``minimize_nested_blockmodel_dl``) minimises, written out from the papers.

The graph is a simple undirected graph (an edge where the weight exceeds a threshold) with a positive real
weight on each edge. For a partition ``b`` of the N nodes into B non-empty blocks let ``n_r`` be the block
sizes, ``e_rs`` the number of edge ends between blocks (``e_rr`` = twice the edges inside r), ``e_r`` the
sum of the degrees in r, ``m_rs`` the edges of a block pair and ``X_rs`` their summed weight. Then

    DL = S_partition + S_edge_counts + S_adjacency + S_degrees (degree-corrected only) + S_weights

- partition (Peixoto 2017, PRE 95:012317, eq. 17): ln N + ln C(N-1, B-1) + ln N! - sum_r ln n_r!
- edge counts, flat: ln multiset(B(B+1)/2, E); nested (Peixoto 2014, PRX 4:011047; 2017 eq. 25): the block
  graph is itself the multigraph of an SBM one level up, and so on until one block, each level paying
  ln multiset(n_r n_s, e_rs) per pair of groups (ln multiset(n_r(n_r+1)/2, e_rr/2) inside) plus its own
  partition term; the flat prior is the one-level case.
- adjacency, microcanonical (Peixoto 2017 eqs. 5 and 9):
  non-degree-corrected  sum_r e_r ln n_r - sum_{r<s} ln e_rs! - sum_r ln e_rr!!,
  degree-corrected (Karrer & Newman 2011)  sum_r ln e_r! - sum_{r<s} ln e_rs! - sum_r ln e_rr!! - sum_i ln k_i!
- degrees ("distributed" hyperprior, Peixoto 2017 eq. 27): sum_r [ln n_r! - sum_k ln n_r^k! + ln q(e_r, n_r)],
  n_r^k the nodes of degree k in r, q(m, n) the number of partitions of m into at most n parts.
- weights ("real-exponential", Peixoto 2018, PRE 97:012306): w ~ Exponential(lambda_rs) for the edges of each
  block pair, lambda_rs integrated out under a Gamma(1, beta) prior with beta the mean edge weight:
  -ln p = -ln beta - ln m_rs! + (m_rs + 1) ln(beta + X_rs).

The flat-vs-degree-corrected choice is the comparison of the two totals, as in the paper.
"""
import numpy as np
from scipy.special import gammaln

#: The largest (n + 1) × (m + 1) table of ln q(m, n) computed exactly; beyond it the asymptotic form is used.
_EXACT_Q_CELLS = 4_000_000
_C = np.pi * np.sqrt(2.0 / 3.0)


def lbinom(n, k):
    """ln C(n, k) (elementwise; 0 where k == 0 or k == n)."""
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def lmultiset(n, k):
    """ln of the number of multisets of size k from n kinds, C(n + k - 1, k); 0 where k == 0."""
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    safe_n = np.where(k > 0, n, 1.0)
    return np.where(k > 0, lbinom(safe_n + k - 1, k), 0.0)


def log_q_approx(m, n):
    """Asymptotic ln q(m, n) (partitions of m into at most n parts): Hardy–Ramanujan's p(m) with the
    Erdős–Lehner correction for the number of parts when n is large, and ln C(m-1, n-1) - ln n! when n is
    below m^(1/4) (the parts then are almost surely distinct)."""
    m = np.asarray(m, dtype=float)
    n = np.minimum(np.asarray(n, dtype=float), m)
    safe_m = np.maximum(m, 1.0)
    safe_n = np.maximum(n, 1.0)
    big = _C * np.sqrt(safe_m) - np.log(4 * np.sqrt(3) * safe_m)
    x = safe_n / np.sqrt(safe_m) - np.log(safe_m) / _C
    big = big - np.where(safe_n < safe_m, (2 / _C) * np.exp(-_C * x / 2), 0.0)
    small = lbinom(safe_m - 1, safe_n - 1) - gammaln(safe_n + 1)
    out = np.where(safe_n < safe_m ** 0.25, small, big)
    return np.where(m <= 1, 0.0, out)


def log_q_table(max_m, max_n):
    """Exact ln q(m, n) for 0 <= m <= max_m, 0 <= n <= max_n, as a (max_n + 1) × (max_m + 1) array.

    q(m, n) = q(m, n - 1) + q(m - n, n): for each n, a cumulative sum with stride n over q(., n - 1).
    Extended precision keeps q up to m ~ 10^6 finite.
    """
    table = np.empty((max_n + 1, max_m + 1))
    q = np.zeros(max_m + 1, dtype=np.longdouble)
    q[0] = 1.0
    with np.errstate(divide="ignore"):
        table[0] = np.log(q.astype(float))
        for n in range(1, max_n + 1):
            pad = (-(max_m + 1)) % n
            q = np.cumsum(np.concatenate([q, np.zeros(pad, dtype=np.longdouble)]).reshape(-1, n), axis=0)
            q = q.reshape(-1)[:max_m + 1]
            table[n] = np.log(q).astype(float)
    return table


class LogQ:
    """ln q(m, n) lookups for one graph: exact table when small enough, else :func:`log_q_approx`."""

    def __init__(self, max_m, max_n):
        max_n = min(max_n, max_m) if max_m > 0 else 0
        self.max_n = max_n
        self.table = log_q_table(max_m, max_n) if (max_m + 1) * (max_n + 1) <= _EXACT_Q_CELLS else None

    def __call__(self, m, n):
        m = np.asarray(m, dtype=np.int64)
        n = np.minimum(np.asarray(n, dtype=np.int64), np.maximum(m, 0))
        if self.table is not None:
            return self.table[np.minimum(n, self.max_n), m]
        return log_q_approx(m, n)


def log_double_factorial_even(e):
    """ln e!! for even e (e = twice an edge count): (e/2) ln 2 + ln (e/2)!."""
    half = np.asarray(e, dtype=float) / 2
    return half * np.log(2.0) + gammaln(half + 1)


def partition_dl(sizes, n_total):
    """ln N + ln C(N-1, B-1) + ln N! - sum ln n_r! for the non-empty ``sizes`` (B = their number)."""
    sizes = np.asarray(sizes, dtype=float)
    sizes = sizes[sizes > 0]
    b = sizes.size
    return float(np.log(n_total) + lbinom(n_total - 1, b - 1) + gammaln(n_total + 1) - gammaln(sizes + 1).sum())


def flat_edge_dl(n_blocks, n_edges):
    """ln multiset(B(B+1)/2, E): E edges spread over the unordered block pairs, uniformly."""
    return float(lmultiset(n_blocks * (n_blocks + 1) / 2, n_edges))


def _level_edge_dl(e, sizes):
    """ln P(e_level | e_up, groups)^-1 of one nested level: e (G × G, diagonal doubled) between groups of
    ``sizes`` lower-level nodes."""
    iu = np.triu_indices(len(sizes), 1)
    off = lmultiset(np.outer(sizes, sizes)[iu], e[iu]).sum()
    diag = lmultiset(sizes * (sizes + 1) / 2, np.diag(e) / 2).sum()
    return float(off + diag)


def _group(e, labels, n_groups):
    z = np.eye(n_groups)[labels]
    return z.T @ e @ z, z.sum(axis=0)


def _best_level(e, n_edges):
    """Greedy agglomeration of the B nodes of the block graph ``e`` into fewer groups, each candidate scored
    by its own level's cost plus a flat one-level top above it; returns (labels, groups) of the best B' < B."""
    b = e.shape[0]
    labels = np.arange(b)
    best = None
    for n_groups in range(b - 1, 0, -1):
        choice = None
        for u in range(n_groups + 1):
            for v in range(u + 1, n_groups + 1):
                trial = labels.copy()
                trial[trial == v] = u
                trial[trial > v] -= 1
                eg, sizes = _group(e, trial, n_groups)
                cost = (partition_dl(sizes, b) + _level_edge_dl(eg, sizes)
                        + (np.log(n_groups) + flat_edge_dl(n_groups, n_edges) if n_groups > 1 else 0.0))
                if choice is None or cost < choice[0]:
                    choice = (cost, trial)
        labels = choice[1]
        if best is None or choice[0] < best[0]:
            best = (choice[0], labels.copy(), n_groups)
    return best[1], best[2]


def nested_edge_dl(e, n_edges):
    """Description length of the level-0 block graph ``e`` (B × B edge ends, diagonal doubled) under the
    nested prior, with the hierarchy above it found greedily. Returns (dl, [labels of each level's groups])."""
    total, levels = 0.0, []
    e = np.asarray(e, dtype=float)
    while e.shape[0] > 1:
        labels, n_groups = _best_level(e, n_edges)
        eg, sizes = _group(e, labels, n_groups)
        total += partition_dl(sizes, e.shape[0]) + _level_edge_dl(eg, sizes)
        levels.append(labels)
        e = eg  # the last level has one group: its edge term is E edges among B_L(B_L + 1)/2 pairs
    return float(total), levels


def weight_terms(m, x, beta):
    """-ln p(weights of m edges summing to x) under Exponential(lambda), lambda ~ Gamma(1, beta); 0 if m = 0."""
    m = np.asarray(m, dtype=float)
    x = np.asarray(x, dtype=float)
    return np.where(m > 0, -np.log(beta) - gammaln(m + 1) + (m + 1) * np.log(beta + x), 0.0)
