"""Topological RSA: rank-normalised RDMs, the geo-topological transform and geodesic (graph) distances.

Reference: Lin, B. & Kriegeskorte, N. (2023). The topology and geometry of neural representations.
arXiv:2309.11028 (authors' code: github.com/doerlbh/TopologicalRSA).

Procedure (as in the authors' code): rank the dissimilarities (ties share their average rank), rescale the
ranks to [0, 1]; the quantiles ``q_l``, ``q_u`` are taken of these rank-normalised values, and
``GT(r) = clip((r - q_l) / (q_u - q_l), 0, 1)``: below ``q_l`` → 0 ("close"), above ``q_u`` → 1 ("far"), the
authors' polarity (``gt_transform``: ``data < gt_min → 0``, ``data > gt_max → 1``). The sigmoid variant of the
same code is ``1 / (1 + exp(-alpha (r - beta)))`` on the rank-normalised values (alpha 10, beta 0.5). Unlike rsatoolbox 0.3.2 we compute every output entry from
the *input* values (no threshold applied to already-rescaled entries), always rank first, work on a copy, and
keep zero-weight edges in the graph used for geodesic distances (scipy's dense-graph conversion and
``networkx.from_numpy_array`` treat a zero as "no edge").
"""
from dataclasses import dataclass
import warnings

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, shortest_path
from scipy.special import expit
from scipy.stats import rankdata

from ..errors import InvalidInputError, NeurosuiteWarning
from ..utils import check_option, check_scalar

__all__ = ["TopologyDefaults", "as_condensed", "restore_form", "rank_normalize", "geotopological",
           "geotopological_sigmoid", "sigmoid_from_bounds", "geodesic"]


@dataclass(frozen=True)
class TopologyDefaults:
    """Paper defaults (Lin & Kriegeskorte 2023 and the authors' ``utils_transform.py``).

    ``topology_sensitive`` is the (l, u) band the paper calls "topology sensitive" (l >= 0.4, u <= 0.6);
    ``p`` is the fraction of shortest edges kept for the p-shortest / p-nearest geodesic variants and
    ``k`` the neighbour count of the k-nearest variant; ``weights`` the geodesic edge lengths (ranks, as in the
    authors' ``geodesic_transform``); ``connect`` whether a disconnected graph is completed by its shortest
    bridging edges (ours: with p = 0.05 the paper's graph of 8 conditions keeps 2 of 28 edges); ``sigmoid_slope``
    and ``sigmoid_center`` the authors' sigmoid GT (alpha = 10, beta = 0.5).
    """

    topology_sensitive: tuple = (0.4, 0.6)
    geodesic_method: str = "p_shortest"
    p: float = 0.05
    k: int = 1
    weights: str = "rank"
    connect: bool = True
    sigmoid_slope: float = 10.0
    sigmoid_center: float = 0.5


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


def _plateau_advice(ranked, value):
    """Quantile range [a, b] covered by the tie plateau at ``value``: bounds outside it avoid the plateau."""
    below = np.count_nonzero(ranked < value) / ranked.size
    upto = np.count_nonzero(ranked <= value) / ranked.size
    return below, upto


def _gt_vector(ranked, lower, upper, owner="geotopological", warn=True):
    q_l = np.quantile(ranked, lower)
    q_u = np.quantile(ranked, upper)
    if q_u > q_l:
        return np.clip((ranked - q_l) / (q_u - q_l), 0.0, 1.0)
    # l == u, or both quantiles on one plateau of tied values: the binary adjacency — above the threshold "far" (1)
    out = (ranked > q_l).astype(float)
    n_tied = int(np.count_nonzero(ranked == q_l))
    if warn and n_tied > 1 and (lower < upper or out.min() == out.max()):
        a, b = _plateau_advice(ranked, q_l)
        what = f"the transform is constant (all {out[0]:g})" if out.min() == out.max() else \
            "the transform collapses to a binary adjacency"
        fixes = [f"'lower' below {a:.3g}"] if a > 0 else []
        fixes += [f"'upper' above {b:.3g}"] if b < 1 else []
        warnings.warn(f"{owner}: lower={lower:g} and upper={upper:g} fall on a plateau of {n_tied} tied "
                      f"dissimilarities (quantiles {a:.3g} to {b:.3g}); {what}. Choose {' or '.join(fixes)} "
                      f"(a categorical RDM has no levels in between: lower=0, upper=1 keeps its categories).",
                      NeurosuiteWarning, stacklevel=3)
    return out


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

    Warns
    -----
    NeurosuiteWarning
        When both quantiles fall on one plateau of tied dissimilarities (a categorical RDM) so that the result
        is constant or collapses to a binary adjacency; the message names the bounds that avoid the plateau.

    See Also
    --------
    geotopological_sigmoid : the smooth variant of the authors' code.
    """
    _check_bounds(lower, upper, "geotopological")
    vec, n, square = as_condensed(rdm)
    return restore_form(_gt_vector(_rank01(vec), lower, upper), n, square)


def _sigmoid_vector(ranked, center, slope):
    return expit(slope * (ranked - center))  # overflow-free logistic (steep slopes stand in for a step)


def geotopological_sigmoid(rdm, center=DEFAULTS.sigmoid_center, slope=DEFAULTS.sigmoid_slope):
    """Sigmoid geo-topological transform: a smooth GT (the authors' ``gt_type="sigmoid"``).

    ``GTσ(r) = 1 / (1 + exp(-slope · (r - center)))`` of the rank-normalised dissimilarities ``r`` in [0, 1]:
    small dissimilarities are squashed towards 0 ("close"), large ones towards 1 ("far"), with no kink at the
    bounds. The piecewise-linear ``GT(l, u)`` with the same midpoint and the same slope at it is
    ``center = (l + u) / 2``, ``slope = 4 / (u - l)`` (:func:`sigmoid_from_bounds`).

    Parameters
    ----------
    rdm : array, square (n × n) or condensed (n(n-1)/2,)
        Dissimilarities; any monotone transform of them gives the same result.
    center : float in [0, 1]
        Rank-normalised dissimilarity mapped to 0.5 (the authors' ``beta``, default 0.5).
    slope : float > 0
        Steepness (the authors' ``alpha``, default 10); large values approach the binary adjacency.

    Returns
    -------
    ndarray of the same form as ``rdm`` (a new array), values in (0, 1).
    """
    check_scalar(center, "center", "geotopological_sigmoid", low=0.0, high=1.0)
    check_scalar(slope, "slope", "geotopological_sigmoid", low=0.0, low_inclusive=False)
    vec, n, square = as_condensed(rdm)
    return restore_form(_sigmoid_vector(_rank01(vec), center, slope), n, square)


def sigmoid_from_bounds(lower, upper, max_slope=1e3):
    """``(center, slope)`` of the sigmoid GT matching ``GT(lower, upper)`` at its midpoint.

    Parameters
    ----------
    lower, upper : float in [0, 1], ``lower <= upper``
    max_slope : float
        Slope used when ``lower == upper`` (a step; the linear GT is binary there).

    Returns
    -------
    (float, float)
        ``center = (lower + upper) / 2`` and ``slope = min(4 / (upper - lower), max_slope)`` (a logistic has
        slope ``slope / 4`` at its centre, the linear ramp ``1 / (upper - lower)``).
    """
    _check_bounds(lower, upper, "sigmoid_from_bounds")
    width = upper - lower
    return (lower + upper) / 2, (max_slope if width <= 4 / max_slope else 4 / width)


def _knn_mask(weights_sq, k):
    """Symmetric k-nearest-neighbour edge mask (an edge is kept if either end counts the other as a neighbour)."""
    n = weights_sq.shape[0]
    w = weights_sq.copy()
    np.fill_diagonal(w, np.inf)
    nearest = np.argsort(w, axis=1, kind="stable")[:, :k]
    mask = np.zeros((n, n), dtype=bool)
    mask[np.repeat(np.arange(n), k), nearest.ravel()] = True
    return mask | mask.T


def _bridge(keep, ranked, n):
    """Add to ``keep`` the shortest edges that join its graph's components (Kruskal order over the ranks).

    Only edges between different components are added, so distances inside a connected graph are untouched,
    and since only the order of the dissimilarities matters the choice is invariant to monotone warps.
    Returns the new mask and the number of edges added.
    """
    iu, ju = np.triu_indices(n, k=1)
    graph = csr_matrix((np.ones(int(keep.sum())), (iu[keep], ju[keep])), shape=(n, n))
    n_comp, label = connected_components(graph, directed=False)
    if n_comp == 1:
        return keep, 0
    keep = keep.copy()
    parent = np.arange(n_comp)

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    added = 0
    for e in np.argsort(ranked, kind="stable"):
        a, b = root(label[iu[e]]), root(label[ju[e]])
        if a != b:
            parent[a] = b
            keep[e] = True
            added += 1
            if added == n_comp - 1:
                break
    return keep, added


def geodesic(rdm, method=DEFAULTS.geodesic_method, *, p=DEFAULTS.p, k=DEFAULTS.k, lower=None, upper=None,
             weights=DEFAULTS.weights, connect=DEFAULTS.connect, rank=True):
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
    weights : {"rank", "dissimilarity"}
        Edge lengths for the p-/k-nearest variants. ``"rank"`` (default, the authors' choice): the
        rank-normalised dissimilarities, so the whole RGDM is invariant to monotone transforms of the input
        (``geodesic(d) == geodesic(d ** 3)`` exactly). ``"dissimilarity"``: the dissimilarities divided by their
        maximum — path lengths then approximate distances along the manifold, as in Isomap (Spearman with the
        true arc length of a 2-turn spiral 0.99+ where ranks give about 0.91, since ranks turn near-equal local
        distances into a ramp), at the price of the invariance. ``method="gt"`` always uses the GT values.
    connect : bool
        Default ``True``: if the kept edges leave the graph disconnected, add the shortest edges (in rank
        order) that join its components, one per missing join, as in a minimum spanning tree. With the paper's
        p = 0.05 a design of 8 conditions keeps 2 of its 28 edges and leaves 26 pairs without a path; bridging
        keeps every pair finite while distances inside an already connected graph (the authors' larger
        designs) are unchanged. ``False``: the authors' graph as is; unreachable pairs are infinitely far and
        a warning names the knob that reconnects the graph.
    rank : bool
        Rank-normalise the geodesic distances to [0, 1] (as the authors rank after the transform). Pairs in
        different graph components (only with ``connect=False``) share the top rank with ``rank=True`` and are
        ``inf`` with ``rank=False``.

    Returns
    -------
    ndarray of the same form as ``rdm`` (a new array).

    Raises
    ------
    InvalidInputError
        For a malformed RDM, an unknown ``method``/``weights``, ``p`` outside (0, 1], ``k`` outside
        [1, n - 1], missing GT bounds, or negative dissimilarities with ``weights="dissimilarity"``.
    """
    check_option(method, "method", GEODESIC_METHODS)
    check_option(weights, "weights", ("rank", "dissimilarity"))
    if not isinstance(connect, (bool, np.bool_)):
        raise InvalidInputError(f"geodesic: 'connect' must be True or False; got {connect!r}.")
    vec, n, square = as_condensed(rdm)
    ranked = _rank01(vec)
    if weights == "dissimilarity" and vec.min() < 0:
        raise InvalidInputError("geodesic: negative dissimilarities (e.g. crossnobis estimates) cannot be edge "
                                "lengths; use weights='rank'.")
    lengths = ranked if weights == "rank" else vec / np.abs(vec).max()
    if method == "gt":
        if lower is None or upper is None:
            raise InvalidInputError("geodesic(method='gt') needs both 'lower' and 'upper'.")
        _check_bounds(lower, upper, "geodesic")
        edge = _gt_vector(ranked, lower, upper, owner="geodesic")
        keep = edge < 1.0
        knob = "raise 'upper' or pass connect=True"
    elif method == "p_shortest":
        check_scalar(p, "p", "geodesic", low=0.0, high=1.0, low_inclusive=False)
        edge = lengths
        keep = ranked <= np.quantile(ranked, p)
        knob = "raise 'p' or pass connect=True"
    else:
        if method == "p_nearest":
            check_scalar(p, "p", "geodesic", low=0.0, high=1.0, low_inclusive=False)
            kk = max(1, int(p * n))
            knob = "raise 'p' or pass connect=True"
        else:
            check_scalar(k, "k", "geodesic", kind=int, low=1, high=n - 1)
            kk = k
            knob = "raise 'k' or pass connect=True"
        edge = lengths
        keep = _knn_mask(restore_form(ranked, n, True), kk)[np.triu_indices(n, k=1)]
    if connect:
        keep, _ = _bridge(keep, ranked, n)
    iu, ju = np.triu_indices(n, k=1)
    # A CSR matrix with explicit entries: scipy.sparse.csgraph treats explicit zeros as edges.
    graph = csr_matrix((edge[keep], (iu[keep], ju[keep])), shape=(n, n))
    dist = shortest_path(graph, method="D", directed=False)[iu, ju]
    n_inf = int(np.count_nonzero(~np.isfinite(dist)))
    if n_inf:
        warnings.warn(f"geodesic: the graph of kept edges is disconnected ({n_inf} of {dist.size} pair(s) have "
                      f"no path); {knob} to connect it.", NeurosuiteWarning, stacklevel=2)
    if rank:
        # all-equal distances (e.g. every kept edge has weight 0) carry no order: all pairs equally close
        dist = _rank01(dist) if dist.max() > dist.min() else np.zeros_like(dist)
    return restore_form(dist, n, square)
