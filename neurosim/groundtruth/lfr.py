"""Weighted LFR benchmark graphs (Lancichinetti & Fortunato 2009, PRE 80:016118), written from the paper.

Degrees follow a power law of exponent ``tau1`` on [k_min, ``max_degree``] with k_min set so the mean is
``average_degree``; community sizes a power law of exponent ``tau2`` on [``min_community``,
``max_community``] (by default the smallest and largest degree, as the authors' program does). Each node
has a fraction 1 - ``mu_t`` of its edges inside its community (nodes are placed so that every internal
degree fits), wired by a configuration model inside each community and another between communities
(self-loops, multi-edges and internal pairs of the external model are rewired, then dropped). Each node's
strength is s_i = k_i ** ``beta``, a fraction 1 - ``mu_w`` of it inside its community; the weights are the
non-negative least-squares fit of those internal and external strengths, the variance the authors' program
minimises edge by edge (edges the fit would leave at 0 keep a floor of 1e-3 of the median weight).
"""
import numpy as np
from scipy import sparse
from scipy.optimize import lsq_linear

from neurodata.errors import InvalidInputError
from neurodata.utils import check_random_state, check_scalar


def _power_law_support(low, high, tau):
    k = np.arange(low, high + 1, dtype=float)
    p = k ** -tau
    return k, p / p.sum()


def _min_degree_for_mean(mean, max_degree, tau):
    """Smallest degree k_min whose truncated power law on [k_min, max_degree] has mean closest to ``mean``."""
    best = None
    for low in range(1, max_degree + 1):
        k, p = _power_law_support(low, max_degree, tau)
        gap = abs(float(k @ p) - mean)
        if best is None or gap < best[0]:
            best = (gap, low)
    return best[1]


def _community_sizes(n, low, high, tau, rng):
    k, p = _power_law_support(low, high, tau)
    for _ in range(1000):
        sizes = []
        while sum(sizes) < n:
            sizes.append(int(rng.choice(k, p=p)))
        excess = sum(sizes) - n
        if sizes[-1] - excess >= low:
            sizes[-1] -= excess
            return np.array(sizes)
    raise InvalidInputError(f"Could not split {n} nodes into communities of sizes {low}..{high}; widen the range.")


def _assign(internal, sizes, rng):
    """Node → community, every node in a community larger than its internal degree."""
    n = internal.size
    free = sizes.copy()
    labels = np.full(n, -1)
    for i in np.argsort(-internal, kind="stable"):
        fits = np.flatnonzero((sizes > internal[i]) & (free > 0))
        if fits.size == 0:  # no community with room is big enough: the largest with room, degree trimmed
            fits = np.flatnonzero(free > 0)
            fits = fits[[np.argmax(sizes[fits])]]
            internal[i] = sizes[fits[0]] - 1
        c = rng.choice(fits)
        labels[i] = c
        free[c] -= 1
    return labels


def _wire(stubs_of, allowed, rng, n_rounds=50):
    """Configuration-model pairing of node stubs; pairs not ``allowed`` (or repeated) are re-paired with
    random other stubs for ``n_rounds``, then dropped. Returns a set of edges (i < j)."""
    stubs = np.repeat(np.arange(stubs_of.size), stubs_of)
    if stubs.size % 2:
        stubs = stubs[:-1]
    rng.shuffle(stubs)
    pairs = stubs.reshape(-1, 2)
    edges, pending = set(), []
    for a, b in pairs:
        key = (min(a, b), max(a, b))
        if a != b and allowed(a, b) and key not in edges:
            edges.add(key)
        else:
            pending.extend([a, b])
    for _ in range(n_rounds):
        if len(pending) < 2:
            break
        pending = list(rng.permutation(pending))
        left = []
        for a, b in zip(pending[0::2], pending[1::2]):
            key = (min(a, b), max(a, b))
            if a != b and allowed(a, b) and key not in edges:
                edges.add(key)
            elif edges and rng.random() < 0.5:  # swap with a random existing edge to escape dead ends
                u, v = list(edges)[rng.integers(len(edges))]
                k1, k2 = (min(a, u), max(a, u)), (min(b, v), max(b, v))
                if a != u and b != v and allowed(a, u) and allowed(b, v) and k1 not in edges and k2 not in edges \
                        and k1 != k2:
                    edges.discard((u, v))
                    edges.update([k1, k2])
                else:
                    left.extend([a, b])
            else:
                left.extend([a, b])
        pending = left
    return edges


def _fit_strengths(edges, n, target):
    """Non-negative weights on ``edges`` whose node sums best match ``target`` (least squares)."""
    if not edges:
        return np.zeros(0)
    e = np.array(sorted(edges))
    rows = np.r_[e[:, 0], e[:, 1]]
    cols = np.r_[np.arange(len(e)), np.arange(len(e))]
    incidence = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, len(e)))
    return e, lsq_linear(incidence, target, bounds=(0, np.inf), method="trf", tol=1e-10, max_iter=2000).x


def weighted_lfr(*, n_nodes=125, average_degree=25, max_degree=100, mu_t=0.5, mu_w=0.5, beta=2.0, tau1=2.0,
                 tau2=1.0, min_community=None, max_community=None, seed=None):
    """A weighted LFR benchmark graph.

    Parameters
    ----------
    n_nodes : int
        Number of nodes N.
    average_degree, max_degree : int
        Mean degree k and largest degree maxk.
    mu_t, mu_w : float
        Topological and weight mixing: fractions of each node's edges and strength that leave its community.
    beta : float
        Strength exponent: s_i = k_i ** beta.
    tau1, tau2 : float
        Exponents of the degree and community-size power laws.
    min_community, max_community : int, optional
        Community size range; default: the smallest and the largest degree drawn.
    seed : None, int or numpy.random.Generator

    Returns
    -------
    weights : ndarray of shape (n_nodes, n_nodes)
        Symmetric non-negative weights (0 = no edge).
    labels : ndarray of shape (n_nodes,)
        Planted community of each node.
    """
    owner = "weighted_lfr"
    check_scalar(n_nodes, "n_nodes", owner, kind=int, low=4)
    check_scalar(average_degree, "average_degree", owner, low=1.0, high=n_nodes - 1)
    check_scalar(max_degree, "max_degree", owner, kind=int, low=int(np.ceil(average_degree)), high=n_nodes - 1)
    for name in ("mu_t", "mu_w"):
        check_scalar(locals()[name], name, owner, low=0.0, high=1.0)
    check_scalar(beta, "beta", owner, low=0.0)
    check_scalar(tau1, "tau1", owner, low=0.0)
    check_scalar(tau2, "tau2", owner, low=0.0)
    rng = check_random_state(seed)
    k_min = _min_degree_for_mean(average_degree, max_degree, tau1)
    support, p = _power_law_support(k_min, max_degree, tau1)
    degree = rng.choice(support, size=n_nodes, p=p).astype(int)
    low = int(degree.min()) if min_community is None else int(min_community)
    high = int(degree.max()) if max_community is None else int(max_community)
    high = min(high, n_nodes)
    if not 1 <= low <= high:
        raise InvalidInputError(f"weighted_lfr: community sizes must satisfy 1 <= min <= max; got {low}..{high}.")
    sizes = _community_sizes(n_nodes, low, high, tau2, rng)
    internal = np.rint((1 - mu_t) * degree).astype(int)
    labels = _assign(internal, sizes, rng)
    external = degree - internal
    inside = set()
    for c in range(sizes.size):
        members = np.flatnonzero(labels == c)
        stubs = np.zeros(n_nodes, int)
        stubs[members] = internal[members]
        inside |= _wire(stubs, lambda a, b: True, rng)
    between = _wire(external, lambda a, b: labels[a] != labels[b], rng)
    strength = degree.astype(float) ** beta
    weights = np.zeros((n_nodes, n_nodes))
    for edges, share in ((inside, 1 - mu_w), (between, mu_w)):
        if edges:
            e, w = _fit_strengths(edges, n_nodes, share * strength)
            weights[e[:, 0], e[:, 1]] = w
    weights = weights + weights.T
    # The least-squares fit leaves some edges at (or a hair above) 0; keep every edge, with a floor of 1e-3 of
    # the median weight (an edge of the topology has a positive weight in the authors' program too).
    edge = np.zeros_like(weights, dtype=bool)
    for edges in (inside, between):
        if edges:
            e = np.array(sorted(edges))
            edge[e[:, 0], e[:, 1]] = edge[e[:, 1], e[:, 0]] = True
    floor = 1e-3 * float(np.median(weights[edge])) if edge.any() else 0.0
    weights = np.where(edge, np.maximum(weights, floor), 0.0)
    return weights, labels
