"""Representational dissimilarity matrices (RDMs) and their comparison.

Distances follow Kriegeskorte et al. (2008) and, for the cross-validated Mahalanobis ("crossnobis") estimator,
Walther et al. (2016, NeuroImage 137:188): per-partition condition means are noise-whitened and the distance is
the inner product of pattern differences from *independent* partitions, which makes it unbiased (zero in
expectation when two conditions do not differ, so it can be negative).
"""
import numpy as np
from scipy import stats

from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_array, check_option
from .topology import as_condensed

__all__ = ["RDM_METHODS", "COMPARE_METHODS", "compute_rdm", "time_resolved_rdms", "smooth_rdms", "crossnobis",
           "compare_rdms", "squareform"]

RDM_METHODS = ("euclidean", "sqeuclidean", "correlation")
COMPARE_METHODS = ("spearman", "kendall_tau_a", "pearson", "cosine")


def squareform(vector):
    """Square RDM (zero diagonal) from a condensed upper-triangle vector, or back; a new array."""
    vec, n, square = as_condensed(vector, name="vector")
    if square:
        return vec
    out = np.zeros((n, n))
    iu = np.triu_indices(n, k=1)
    out[iu] = vec
    out[(iu[1], iu[0])] = vec
    return out


def _pairwise(patterns, method):
    """Square distance matrix between the rows of ``patterns`` (conditions × channels)."""
    x = patterns
    if method == "correlation":
        xc = x - x.mean(axis=1, keepdims=True)
        norm = np.linalg.norm(xc, axis=1)
        if np.any(norm == 0):
            raise InvalidInputError("correlation distance is undefined for a condition whose pattern is constant "
                                    "across channels; use method='euclidean'.")
        xc /= norm[:, None]
        d = 1.0 - xc @ xc.T
    else:
        sq = np.einsum("ij,ij->i", x, x)
        d = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
        np.maximum(d, 0.0, out=d)  # round-off can make tiny distances negative
        if method == "euclidean":
            np.sqrt(d, out=d)
    np.fill_diagonal(d, 0.0)
    return 0.5 * (d + d.T)


def compute_rdm(patterns, method="euclidean"):
    """RDM of condition patterns.

    Parameters
    ----------
    patterns : array (conditions × channels), or ConditionResponses (its 2-D ``means``)
    method : {"euclidean", "sqeuclidean", "correlation"}
        Euclidean distance, its square, or 1 − Pearson correlation across channels.

    Returns
    -------
    ndarray (conditions × conditions), symmetric with a zero diagonal.

    Orientation ("transposed" here): rows are conditions. A channels × conditions array shows as far more
    rows than columns (306 sensors × 8 conditions → a 306 × 306 "RDM" of sensors). A shape cannot prove it,
    since many conditions in a low-dimensional space are legitimate (120 spiral points in 2-D, 1000 stimuli
    × 16 model features); so rows ≥ 4 × columns with ≥ 4 columns gives a ``NeurosuiteWarning`` (silenced by
    passing a ``ConditionResponses``, which declares its orientation), and points in ≤ 3 dimensions never
    warn. Non-numeric, ragged, empty or NaN patterns raise ``InvalidInputError``.
    """
    check_option(method, "method", RDM_METHODS)
    x = check_data(patterns, method="compute_rdm", name="patterns", ndim=2, axes=("conditions", "channels"),
                   orientation="conditions", min_rows=3, conditions=True)
    return _pairwise(x, method)


def time_resolved_rdms(patterns, method="euclidean"):
    """One RDM per time point from ``patterns`` of shape (conditions × channels × times), or a
    ConditionResponses with such ``means``; orientation checked as in :func:`compute_rdm`.

    Returns
    -------
    ndarray (times × n_pairs): condensed RDMs (upper triangles, row-major), one row per time point.
    """
    check_option(method, "method", RDM_METHODS)
    x = check_data(patterns, method="time_resolved_rdms", name="patterns", ndim=3,
                   axes=("conditions", "channels", "times"), orientation="conditions", min_rows=3, conditions=True)
    iu = np.triu_indices(x.shape[0], k=1)
    return np.stack([_pairwise(np.ascontiguousarray(x[:, :, t]), method)[iu] for t in range(x.shape[2])])


def smooth_rdms(rdms, times, width):
    """Moving average (boxcar of ``width`` seconds) of a time series of condensed RDMs (times × n_pairs).

    MEG RDMs over few conditions are noisy sample to sample; averaging neighbouring samples (as is common
    before model comparison) steadies the time course. ``width=0`` returns a copy unchanged.
    """
    from scipy.ndimage import uniform_filter1d

    x = check_array(rdms, "rdms", ndim=2)
    t = check_array(times, "times", ndim=1)
    if t.size != x.shape[0] or t.size < 2:
        raise InvalidInputError(f"times has {t.size} entries for {x.shape[0]} RDMs.")
    if not (np.isfinite(width) and width >= 0):
        raise InvalidInputError(f"width must be a non-negative number of seconds; got {width!r}.")
    n = int(round(width / np.median(np.diff(t))))
    return x if n <= 1 else uniform_filter1d(x, size=n, axis=0, mode="nearest")


def _default_partitions(labels):
    """k-th repetition of each condition goes to partition k (each repetition is an independent estimate)."""
    parts = np.zeros(labels.size, dtype=int)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        parts[idx] = np.arange(idx.size)
    return parts


def crossnobis(trials, conditions, partitions=None, noise="shrinkage"):
    """Cross-validated Mahalanobis (crossnobis) RDM.

    Parameters
    ----------
    trials : array (n_trials × channels)
    conditions : array (n_trials,) of condition labels
    partitions : array (n_trials,) of independent partition (run / fold) labels, optional. By default the
        k-th repetition of each condition forms partition k. Each condition must occur in >= 2 partitions.
    noise : {"shrinkage", "diagonal", "identity"}
        Noise covariance used for whitening, estimated from the residuals of trials around their condition
        mean: Ledoit–Wolf shrinkage, its diagonal, or none (cross-validated squared Euclidean).

    Returns
    -------
    ndarray (conditions × conditions), in the order of ``numpy.unique(conditions)``; distances are
    normalised by the number of channels (as in rsatoolbox) and are unbiased, so they can be negative.
    """
    check_option(noise, "noise", ("shrinkage", "diagonal", "identity"))
    x = check_data(trials, method="crossnobis", name="trials", ndim=2, axes=("trials", "channels"), min_rows=2)
    labels = np.asarray(conditions)
    if labels.shape != (x.shape[0],):
        raise InvalidInputError(f"conditions must have one label per trial ({x.shape[0]}); got shape {labels.shape}.")
    parts = _default_partitions(labels) if partitions is None else np.asarray(partitions)
    if parts.shape != (x.shape[0],):
        raise InvalidInputError(f"partitions must have one label per trial ({x.shape[0]}); got shape {parts.shape}.")
    conds = np.unique(labels)
    if conds.size < 3:
        raise InvalidInputError(f"crossnobis needs at least 3 conditions; got {conds.size}.")
    part_ids = np.unique(parts)
    # partition × condition means; partitions lacking a condition are skipped for pairs involving it
    means = np.full((part_ids.size, conds.size, x.shape[1]), np.nan)
    for a, pa in enumerate(part_ids):
        for c, cond in enumerate(conds):
            sel = (parts == pa) & (labels == cond)
            if sel.any():
                means[a, c] = x[sel].mean(axis=0)
    # noise residuals around each condition's mean (partition cells often hold a single trial)
    resid = x.copy()
    for cond in conds:
        sel = labels == cond
        resid[sel] -= x[sel].mean(axis=0)
    present = ~np.isnan(means[:, :, 0])
    short = conds[present.sum(axis=0) < 2]
    if short.size:
        raise InvalidInputError(f"crossnobis needs every condition in at least 2 partitions; "
                                f"condition(s) {list(short)[:5]} occur in fewer.")
    if noise != "identity":
        dof = max(x.shape[0] - conds.size, 1)
        if noise == "diagonal":
            var = np.einsum("ij,ij->j", resid, resid) / dof
            if np.any(var <= 0):
                raise InvalidInputError("crossnobis: a channel has zero residual variance; drop it or use "
                                        "noise='identity'.")
            w = np.diag(1.0 / np.sqrt(var))
        else:
            from sklearn.covariance import ledoit_wolf

            cov, _ = ledoit_wolf(resid, assume_centered=True)
            cov *= resid.shape[0] / dof
            evals, evecs = np.linalg.eigh(cov)
            if evals.min() <= 0:
                raise InvalidInputError("crossnobis: the noise covariance is singular; use noise='diagonal'.")
            w = evecs / np.sqrt(evals)  # whitening: W^T Σ W = I
        means = np.where(present[:, :, None], means, 0.0) @ w
    means = np.where(present[:, :, None], means, 0.0)
    n_c = conds.size
    iu, ju = np.triu_indices(n_c, k=1)
    diffs = means[:, iu, :] - means[:, ju, :]          # partitions × pairs × channels
    valid = (present[:, iu] & present[:, ju]).astype(float)  # partitions × pairs
    diffs *= valid[:, :, None]
    total = diffs.sum(axis=0)
    cross = np.einsum("pc,pc->p", total, total) - np.einsum("apc,apc->p", diffs, diffs)
    n_valid = valid.sum(axis=0)
    n_pairs_of_parts = n_valid * (n_valid - 1)
    dist = cross / (n_pairs_of_parts * x.shape[1])
    out = np.zeros((n_c, n_c))
    out[iu, ju] = dist
    out[ju, iu] = dist
    return out


def _tau_a(x, y):
    n = x.size
    n0 = n * (n - 1) / 2.0

    def ties(v):
        _, counts = np.unique(v, return_counts=True)
        return float(np.sum(counts * (counts - 1) / 2.0))

    n1, n2 = ties(x), ties(y)
    if n0 == n1 or n0 == n2:
        return 0.0  # one variable is constant: no pair is concordant or discordant
    tau_b = stats.kendalltau(x, y, variant="b").statistic
    return float(tau_b * np.sqrt((n0 - n1) * (n0 - n2)) / n0)


def _compare_pair(a, b, method):
    if method == "spearman":
        a, b = stats.rankdata(a), stats.rankdata(b)
        method = "pearson"
    if method == "pearson":
        a = a - a.mean()
        b = b - b.mean()
    if method == "kendall_tau_a":
        return _tau_a(a, b)
    den = np.linalg.norm(a) * np.linalg.norm(b)
    if den == 0:
        raise InvalidInputError(f"{method} comparison is undefined for a constant RDM.")
    return float(a @ b / den)


def compare_rdms(rdm_a, rdm_b, method="spearman"):
    """Similarity between RDMs.

    Parameters
    ----------
    rdm_a, rdm_b : square RDMs or condensed vectors, or a stack of condensed vectors (k × n_pairs) for one of
        them (e.g. a time series of RDMs compared with one model RDM).
    method : {"spearman", "kendall_tau_a", "pearson", "cosine"}
        Kendall's τ-a is the recommended choice when a model RDM has many ties (Nili et al. 2014).

    Returns
    -------
    float, or ndarray (k,) when one argument is a stack.
    """
    check_option(method, "method", COMPARE_METHODS)

    def vectors(r, name):
        arr = np.asarray(r, dtype=float)
        if arr.ndim == 2 and arr.shape[0] != arr.shape[1]:
            return check_array(arr, name, ndim=2), True
        return as_condensed(arr, name=name)[0][None, :], False

    a, a_stack = vectors(rdm_a, "rdm_a")
    b, b_stack = vectors(rdm_b, "rdm_b")
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError(f"RDMs differ in size: {a.shape[1]} vs {b.shape[1]} dissimilarities.")
    if a_stack and b_stack and a.shape[0] != b.shape[0]:
        raise InvalidInputError(f"stacks of RDMs differ in length: {a.shape[0]} vs {b.shape[0]}.")
    k = max(a.shape[0], b.shape[0])
    out = np.array([_compare_pair(a[min(i, a.shape[0] - 1)], b[min(i, b.shape[0] - 1)], method) for i in range(k)])
    return out if (a_stack or b_stack) else float(out[0])
