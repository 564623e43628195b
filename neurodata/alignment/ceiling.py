"""Noise ceilings from split halves of trials, with the Spearman–Brown correction.

The split-half correlation ``r_half`` of a target (the correlation across stimuli between the means of two
random halves of its trials) estimates the reliability of a half-size average; the Spearman–Brown prophecy
formula ``c = k r / (1 + (k - 1) r)`` with k = 2 extrapolates it to the full set of trials. ``c`` bounds the
explainable variance: an encoding model's ``r²`` is compared with ``c`` (``sign(r) r² / c``, clipped to [−1, 1];
see :func:`~neurodata.alignment.ridge.normalized_score`).
"""
import numpy as np

from ..errors import InvalidInputError
from ..utils import check_array, check_random_state, check_scalar
from .ridge import pearson_columns

__all__ = ["spearman_brown", "split_half_reliability", "noise_ceiling"]


def spearman_brown(r, factor=2.0):
    """Spearman–Brown prophecy: reliability of a test ``factor`` times longer, ``k r / (1 + (k − 1) r)``.

    ``spearman_brown(0.5) == 2/3``. Works elementwise on arrays; r must lie in [-1, 1].

    The prophecy is defined for a non-negative reliability; for a negative split-half correlation (an
    unreliable target) the formula diverges (``r = −1`` gave −inf with k = 2) and leaves [−1, 1] below
    ``r = −1/3``. Negative r is therefore extended by symmetry, ``k r / (1 + (k − 1) |r|)``: finite, within
    [−1, 1], still negative (so :func:`normalized_score` leaves the target out) and identical for r >= 0.
    """
    check_scalar(factor, "factor", "spearman_brown", low=0.0, low_inclusive=False)
    arr = np.asarray(r, dtype=float)
    if np.any(~np.isfinite(arr)) or np.any(np.abs(arr) > 1):
        raise InvalidInputError("spearman_brown: correlations must be finite and within [-1, 1].")
    out = factor * arr / (1.0 + (factor - 1.0) * np.abs(arr))
    return float(out) if out.ndim == 0 else out


def split_half_reliability(trials, conditions, *, n_splits=100, seed=None):
    """Split-half correlation per target, averaged over random splits.

    Parameters
    ----------
    trials : array (n_trials × targets)
    conditions : array (n_trials,) — stimulus / condition label of each trial (each needs >= 2 trials).
    n_splits : int
        Random half splits averaged (each condition's trials are split independently).

    Returns
    -------
    ndarray (targets,) — mean split-half Pearson r across conditions (not yet Spearman–Brown corrected).
    """
    x = check_array(trials, "trials", ndim=2, min_rows=4)
    labels = np.asarray(conditions)
    if labels.shape != (x.shape[0],):
        raise InvalidInputError(f"conditions must have one label per trial ({x.shape[0]}); got {labels.shape}.")
    check_scalar(n_splits, "n_splits", "split_half_reliability", kind=int, low=1)
    conds = np.unique(labels)
    if conds.size < 3:
        raise InvalidInputError(f"split-half reliability needs at least 3 conditions; got {conds.size}.")
    groups = [np.flatnonzero(labels == c) for c in conds]
    few = [c for c, g in zip(conds, groups) if g.size < 2]
    if few:
        raise InvalidInputError(f"every condition needs at least 2 trials; {len(few)} have fewer (e.g. {few[0]!r}).")
    rng = check_random_state(seed)
    total = np.zeros(x.shape[1])
    for _ in range(n_splits):
        a = np.empty((conds.size, x.shape[1]))
        b = np.empty_like(a)
        for i, g in enumerate(groups):
            g = rng.permutation(g)
            h = g.size // 2
            a[i] = x[g[:h]].mean(axis=0)
            b[i] = x[g[h:2 * h]].mean(axis=0)
        total += pearson_columns(a, b)
    return total / n_splits


def noise_ceiling(trials, conditions, *, n_splits=100, seed=None):
    """Spearman–Brown-corrected split-half reliability per target (the ``c`` of ``sign(r) r² / c``).

    Negative split-half correlations (unreliable targets) stay negative, not clipped: callers decide how to
    treat them (:func:`encoding_scores` leaves them out of the normalisation).
    """
    r = split_half_reliability(trials, conditions, n_splits=n_splits, seed=seed)
    return spearman_brown(np.clip(r, -1.0, 1.0))
