"""Identification of a region / layer label from a representational statistic (Lin & Kriegeskorte 2023).

The paper's evaluation: leave one subject out, fit a nearest-centroid classifier on the other subjects'
statistics (RDMs, RGTMs, RGDMs as vectors), predict the held-out subject's region labels, and report the
accuracy over all held-out predictions; uncertainty comes from bootstrapping subjects and stimuli.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..utils import check_random_state, check_scalar, progress
from .topology import as_condensed

__all__ = ["identification_accuracy", "bootstrap_identification", "IdentificationResult"]


def _stack(rdms):
    arr = np.asarray(rdms, dtype=float)
    if arr.ndim == 3:
        vecs = [as_condensed(r, name="rdms[i]") for r in arr]
        return np.stack([v[0] for v in vecs]), vecs[0][1]
    if arr.ndim != 2:
        raise InvalidInputError(f"rdms must be (items × n_pairs) condensed vectors or (items × n × n); "
                                f"got shape {arr.shape}.")
    n = as_condensed(arr[0], name="rdms[0]")[1]
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("rdms contain NaN or infinite values.")
    return arr.copy(), n


def _labels(values, name, n):
    arr = np.asarray(values)
    if arr.shape != (n,):
        raise InvalidInputError(f"{name} must have one entry per RDM ({n}); got shape {arr.shape}.")
    return arr


def _loso_accuracy(x, regions, subjects):
    unique_subjects = np.unique(subjects)
    if unique_subjects.size < 2:
        raise InvalidInputError("identification needs at least 2 subjects (leave-one-subject-out).")
    correct = 0
    for s in unique_subjects:
        test = subjects == s
        train_regions = regions[~test]
        classes = np.unique(train_regions)
        centroids = np.stack([x[~test][train_regions == c].mean(axis=0) for c in classes])
        d = ((x[test][:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        correct += int(np.sum(classes[np.argmin(d, axis=1)] == regions[test]))
    return correct / x.shape[0]


def identification_accuracy(rdms, regions, subjects):
    """Leave-one-subject-out nearest-centroid accuracy of identifying ``regions`` from ``rdms``.

    Parameters
    ----------
    rdms : array (items × n_pairs) or (items × n × n)
        One statistic per (subject, region) item — an RDM or any transform of it (GT, geodesic).
    regions, subjects : arrays (items,)
        Region (or layer) label and subject of each item.

    Returns
    -------
    float in [0, 1].
    """
    x, _ = _stack(rdms)
    return _loso_accuracy(x, _labels(regions, "regions", x.shape[0]), _labels(subjects, "subjects", x.shape[0]))


@dataclass(frozen=True)
class IdentificationResult:
    """Accuracy on the data, bootstrap accuracies, and a percentile interval."""

    accuracy: float
    bootstrap: np.ndarray
    ci: tuple

    @property
    def std(self):
        return float(np.std(self.bootstrap))


def bootstrap_identification(rdms, regions, subjects, *, n_boot=1000, resample=("subjects", "stimuli"),
                             ci=0.95, seed=None, verbose=True):
    """Identification accuracy with a bootstrap over subjects and stimuli.

    Subjects are drawn with replacement (a subject drawn twice is held out as one group, so its copies never
    train each other); stimuli are drawn with replacement and dissimilarities between copies of the same
    stimulus — undefined — are dropped (the authors' "drop" handling). Transform the RDMs (GT, geodesic)
    before calling, as the paper does.

    Returns
    -------
    IdentificationResult
    """
    check_scalar(n_boot, "n_boot", "bootstrap_identification", kind=int, low=1)
    check_scalar(ci, "ci", "bootstrap_identification", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    resample = tuple(resample)
    bad = set(resample) - {"subjects", "stimuli"}
    if bad:
        raise InvalidInputError(f"resample may contain 'subjects' and 'stimuli'; got {sorted(bad)}.")
    x, n = _stack(rdms)
    regions = _labels(regions, "regions", x.shape[0])
    subjects = _labels(subjects, "subjects", x.shape[0])
    accuracy = _loso_accuracy(x, regions, subjects)
    rng = check_random_state(seed)
    unique_subjects = np.unique(subjects)
    iu, ju = np.triu_indices(n, k=1)
    pair_index = np.zeros((n, n), dtype=int)
    pair_index[iu, ju] = np.arange(iu.size)
    pair_index[ju, iu] = np.arange(iu.size)
    samples = np.empty(n_boot)
    for b in progress(range(n_boot), total=n_boot, desc="bootstrap", verbose=verbose):
        if "subjects" in resample:
            drawn = rng.choice(unique_subjects.size, unique_subjects.size, replace=True)
            rows = np.concatenate([np.flatnonzero(subjects == unique_subjects[d]) for d in drawn])
            groups = np.concatenate([np.full(np.count_nonzero(subjects == unique_subjects[d]), d) for d in drawn])
        else:
            rows, groups = np.arange(x.shape[0]), subjects
        cols = np.arange(iu.size)
        if "stimuli" in resample:
            stim = rng.choice(n, n, replace=True)
            a, c = np.triu_indices(n, k=1)
            keep = stim[a] != stim[c]
            cols = pair_index[stim[a][keep], stim[c][keep]]
        if np.unique(groups).size < 2:
            samples[b] = np.nan
            continue
        samples[b] = _loso_accuracy(x[np.ix_(rows, cols)], regions[rows], groups)
    finite = samples[np.isfinite(samples)]
    half = (1 - ci) / 2
    interval = (float(np.quantile(finite, half)), float(np.quantile(finite, 1 - half)))
    return IdentificationResult(accuracy=float(accuracy), bootstrap=samples, ci=interval)
