"""Topological RSA: rank-normalised RDMs, the geo-topological transform and geodesic (graph) distances.

Reference: Lin, B. & Kriegeskorte, N. (2023). The topology and geometry of neural representations.
arXiv:2309.11028 (authors' code: github.com/doerlbh/TopologicalRSA).

Procedure (as in the authors' code): rank the dissimilarities (ties share their average rank), rescale the
ranks to [0, 1]; the quantiles ``q_l``, ``q_u`` are taken of these rank-normalised values, and
``GT(r) = clip((r - q_l) / (q_u - q_l), 0, 1)``. Unlike rsatoolbox 0.3.2 we compute every output entry from
the *input* values (no threshold applied to already-rescaled entries), always rank first, work on a copy, and
keep zero-weight edges in the graph used for geodesic distances (scipy's dense-graph conversion and
``networkx.from_numpy_array`` treat a zero as "no edge").
"""
from dataclasses import dataclass
import warnings

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path
from scipy.stats import rankdata

from ..errors import InvalidInputError, NeurosuiteWarning
from ..utils import check_option, check_scalar

__all__ = ["TopologyDefaults", "as_condensed", "restore_form", "rank_normalize", "geotopological", "geodesic"]


@dataclass(frozen=True)
class TopologyDefaults:
    """Paper defaults (Lin & Kriegeskorte 2023 and the authors' ``utils_transform.py``).

    ``topology_sensitive`` is the (l, u) band the paper calls "topology sensitive" (l >= 0.4, u <= 0.6);
    ``p`` is the fraction of shortest edges kept for the p-shortest / p-nearest geodesic variants and
    ``k`` the neighbour count of the k-nearest variant.
    """

    topology_sensitive: tuple = (0.4, 0.6)
    geodesic_method: str = "p_shortest"
    p: float = 0.05
    k: int = 1


DEFAULTS = TopologyDefaults()
GEODESIC_METHODS = ("p_shortest", "p_nearest", "k_nearest", "gt")


def as_condensed(rdm, name="rdm"):
    """Return ``(vector, n_conditions, was_square)`` for a square RDM or a condensed (upper-triangle) vector.

    The vector is a new float array; the caller's array is never touched.
    """
    arr = np.array(rdm, dtype=float, copy=True)
    if arr.ndim == 2:
        n = arr.shape[0]
        if arr.shape != (n, n):
            raise InvalidInputError(f"{name} must be square (n × n) or a condensed vector; got shape {arr.shape}.")
        if n < 3:
            raise InvalidInputError(f"{name} needs at least 3 conditions; got {n}.")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"{name} contains NaN or infinite values.")
        scale = max(np.abs(arr).max(), 1e-300)
        if not np.allclose(arr, arr.T, rtol=1e-8, atol=1e-10 * scale):
            raise InvalidInputError(f"{name} is not symmetric; pass a dissimilarity matrix (or a condensed vector).")
        iu = np.triu_indices(n, k=1)
        return arr[iu], n, True
    if arr.ndim == 1:
        m = arr.size
        n = int(round((1 + np.sqrt(1 + 8 * m)) / 2))
        if n * (n - 1) // 2 != m:
            raise InvalidInputError(
                f"{name} has {m} entries, which is not n(n-1)/2 for any n; pass a square RDM or its upper triangle."
            )
        if n < 3:
            raise InvalidInputError(f"{name} needs at least 3 conditions (3 distances); got {m} distance(s).")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError(f"{name} contains NaN or infinite values.")
        return arr, n, False
    raise InvalidInputError(f"{name} must be a square matrix or a condensed vector; got {arr.ndim} dimensions.")


def restore_form(vector, n, square):
    """Inverse of :func:`as_condensed`: a square matrix with zero diagonal, or the vector itself."""
    if not square:
        return vector
    out = np.zeros((n, n), dtype=vector.dtype)
    iu = np.triu_indices(n, k=1)
    out[iu] = vector
    out[(iu[1], iu[0])] = vector
    return out


def _rank01(vec, name="rdm"):
    ranks = rankdata(vec)  # average ranks for ties, as in the authors' code
    lo, hi = ranks.min(), ranks.max()
    if hi == lo:
        raise InvalidInputError(f"{name} has all dissimilarities equal; its rank normalisation is undefined.")
    return (ranks - lo) / (hi - lo)


def rank_normalize(rdm):
    """Rank-transform the dissimilarities and rescale the ranks to [0, 1]; same form as the input."""
    vec, n, square = as_condensed(rdm)
    return restore_form(_rank01(vec), n, square)


def _check_bounds(lower, upper, owner):
    check_scalar(lower, "lower", owner, low=0.0, high=1.0)
    check_scalar(upper, "upper", owner, low=0.0, high=1.0)
    if upper < lower:
        raise InvalidInputError(f"{owner}: 'lower' ({lower}) must not exceed 'upper' ({upper}).")


def _gt_vector(ranked, lower, upper):
    q_l = np.quantile(ranked, lower)
    q_u = np.quantile(ranked, upper)
    if q_u > q_l:
        return np.clip((ranked - q_l) / (q_u - q_l), 0.0, 1.0)
    # l == u (or a tie plateau): the binary adjacency — dissimilarities above the threshold are "far" (1)
    return (ranked > q_l).astype(float)


def geotopological(rdm, lower, upper):
    """Geo-topological transform GT(l, u) of one RDM (Lin & Kriegeskorte 2023).

    Parameters
    ----------
    rdm : array, square (n × n) or condensed (n(n-1)/2,)
        Dissimilarities. Any monotone transform of them gives the same result.
    lower, upper : float in [0, 1]
        Quantiles of the rank-normalised dissimilarities. Entries below ``q_lower`` become 0 (topologically
        "close"), above ``q_upper`` become 1 ("far"), and the band in between is rescaled linearly.
        ``lower=0, upper=1`` returns the rank-normalised RDM; ``lower == upper`` a binary adjacency (1 = far).

    Returns
    -------
    ndarray of the same form as ``rdm`` (a new array; the input is not modified).
    """
    _check_bounds(lower, upper, "geotopological")
    vec, n, square = as_condensed(rdm)
    return restore_form(_gt_vector(_rank01(vec), lower, upper), n, square)


def _knn_mask(weights_sq, k):
    """Symmetric k-nearest-neighbour edge mask (an edge is kept if either end counts the other as a neighbour)."""
    n = weights_sq.shape[0]
    w = weights_sq.copy()
    np.fill_diagonal(w, np.inf)
    nearest = np.argsort(w, axis=1, kind="stable")[:, :k]
    mask = np.zeros((n, n), dtype=bool)
    mask[np.repeat(np.arange(n), k), nearest.ravel()] = True
    return mask | mask.T


def geodesic(rdm, method=DEFAULTS.geodesic_method, *, p=DEFAULTS.p, k=DEFAULTS.k, lower=None, upper=None,
             weights="dissimilarity", rank=True):
    """Representational geodesic distance matrix (RGDM): shortest paths on a graph of short dissimilarities.

    A graph keeps only the "short" edges (chosen by rank, so the choice is invariant to monotone transforms
    of the dissimilarities; zero-weight edges are kept), and the result is the all-pairs shortest path length.

    Parameters
    ----------
    rdm : array, square or condensed
    method : {"p_shortest", "p_nearest", "k_nearest", "gt"}
        ``p_shortest`` (paper default): keep the fraction ``p`` of shortest edges. ``p_nearest``: keep each
        node's ``max(1, int(p * n))`` nearest neighbours. ``k_nearest``: each node's ``k`` nearest neighbours.
        ``gt``: the paper's two-step RGDM — edges are weighted by GT(lower, upper) and those equal to 1 are
        removed.
    p, k : fraction in (0, 1] / int >= 1, see ``method``.
    lower, upper : quantiles for ``method="gt"``.
    weights : {"dissimilarity", "rank"}
        Edge lengths for the p-/k-nearest variants: the dissimilarities divided by their maximum (default;
        path lengths then approximate distances along the manifold, as in Isomap), or the rank-normalised
        dissimilarities exactly as in the authors' code — which turns near-equal local distances into a
        ramp of ranks and so distorts path lengths (Spearman with the true arc length of a 2-turn spiral
        0.91 instead of 0.99+). ``method="gt"`` always uses the GT values.
    rank : bool
        Rank-normalise the geodesic distances to [0, 1] (as the authors rank after the transform). Pairs in
        different graph components are infinitely far: with ``rank=True`` they share the top rank, with
        ``rank=False`` they are ``inf``. Either way a warning names the knob that reconnects the graph.

    Returns
    -------
    ndarray of the same form as ``rdm`` (a new array).
    """
    check_option(method, "method", GEODESIC_METHODS)
    check_option(weights, "weights", ("dissimilarity", "rank"))
    vec, n, square = as_condensed(rdm)
    ranked = _rank01(vec)
    lengths = ranked if weights == "rank" else vec / np.abs(vec).max()
    if weights == "dissimilarity" and vec.min() < 0:
        raise InvalidInputError("geodesic: negative dissimilarities (e.g. crossnobis estimates) cannot be edge "
                                "lengths; use weights='rank'.")
    if method == "gt":
        if lower is None or upper is None:
            raise InvalidInputError("geodesic(method='gt') needs both 'lower' and 'upper'.")
        _check_bounds(lower, upper, "geodesic")
        edge = _gt_vector(ranked, lower, upper)
        keep = edge < 1.0
        knob = "raise 'upper'"
    elif method == "p_shortest":
        check_scalar(p, "p", "geodesic", low=0.0, high=1.0, low_inclusive=False)
        edge = lengths
        keep = ranked <= np.quantile(ranked, p)
        knob = "raise 'p'"
    else:
        if method == "p_nearest":
            check_scalar(p, "p", "geodesic", low=0.0, high=1.0, low_inclusive=False)
            kk = max(1, int(p * n))
            knob = "raise 'p'"
        else:
            check_scalar(k, "k", "geodesic", kind=int, low=1, high=n - 1)
            kk = k
            knob = "raise 'k'"
        edge = lengths
        keep = _knn_mask(restore_form(ranked, n, True), kk)[np.triu_indices(n, k=1)]
    iu, ju = np.triu_indices(n, k=1)
    # A CSR matrix with explicit entries: scipy.sparse.csgraph treats explicit zeros as edges.
    graph = csr_matrix((edge[keep], (iu[keep], ju[keep])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)[iu, ju]
    n_inf = int(np.count_nonzero(~np.isfinite(dist)))
    if n_inf:
        warnings.warn(f"geodesic: the graph of kept edges is disconnected ({n_inf} pair(s) have no path); "
                      f"{knob} to connect it.", NeurosuiteWarning, stacklevel=2)
    if rank:
        # all-equal distances (e.g. every kept edge has weight 0) carry no order: all pairs equally close
        dist = _rank01(dist) if dist.max() > dist.min() else np.zeros_like(dist)
    return restore_form(dist, n, square)
