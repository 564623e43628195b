"""How well latents recover a truth: affine least-squares R², rate correlation, and cutting series into trials."""
import numpy as np

from ..errors import InvalidInputError

__all__ = ["affine_r2", "affine_fit", "rate_correlation", "to_trials"]


def _flat(x, name):
    x = np.asarray(x, dtype=float)
    if x.ndim == 2:  # (trials, bins): one column
        x = x[..., None]
    if x.ndim != 3:
        raise InvalidInputError(f"{name} must be (trials, bins[, columns]); got shape {x.shape}.")
    return x.reshape(-1, x.shape[2])


def affine_fit(latents, truth):
    """Least-squares ``truth ≈ [latents, 1] @ coef``; returns coef ((columns + 1) × targets)."""
    x, y = _flat(latents, "latents"), _flat(truth, "truth")
    if x.shape[0] != y.shape[0]:
        raise InvalidInputError(f"latents and truth hold {x.shape[0]} and {y.shape[0]} samples.")
    design = np.column_stack([x, np.ones(len(x))])
    return np.linalg.lstsq(design, y, rcond=None)[0]


def affine_r2(latents, truth, *, fit_on=None):
    """R² (one per truth column) of the affine least-squares map from ``latents`` to ``truth``.

    ``latents`` (trials, bins, k) or (trials, bins); ``truth`` (trials, bins[, targets]). The map is fitted on
    the same data unless ``fit_on=(latents_train, truth_train)`` gives other trials to fit it on.
    """
    coef = affine_fit(*(fit_on if fit_on is not None else (latents, truth)))
    x, y = _flat(latents, "latents"), _flat(truth, "truth")
    pred = np.column_stack([x, np.ones(len(x))]) @ coef
    ss_res = ((y - pred) ** 2).sum(0)
    ss_tot = ((y - y.mean(0)) ** 2).sum(0)
    r2 = 1.0 - ss_res / ss_tot
    return float(r2[0]) if r2.size == 1 else r2


def rate_correlation(predicted, true):
    """Pearson correlation of predicted and true rates over every (trial, bin, unit) entry."""
    a, b = np.asarray(predicted, float).ravel(), np.asarray(true, float).ravel()
    if a.shape != b.shape:
        raise InvalidInputError(f"predicted and true rates differ in size ({a.size} vs {b.size}).")
    return float(np.corrcoef(a, b)[0, 1])


def to_trials(series, n_bins):
    """Cut a time-first (time × features) array into consecutive trials, (n_trials, n_bins, features).

    A last partial trial is dropped (its samples are not silently padded).
    """
    x = np.asarray(series)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InvalidInputError(f"series must be (time × features); got shape {x.shape}.")
    n = x.shape[0] // int(n_bins)
    if n < 1:
        raise InvalidInputError(f"series of {x.shape[0]} samples is shorter than one trial of {n_bins} bins.")
    return x[:n * n_bins].reshape(n, n_bins, x.shape[1]).copy()
