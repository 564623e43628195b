"""Identification of a region / layer label from a representational statistic (Lin & Kriegeskorte 2023).

The paper's evaluation: leave one subject out, fit a nearest-centroid classifier on the other subjects'
statistics (RDMs, RGTMs, RGDMs as vectors), predict the held-out subject's region labels, and report the
accuracy over all held-out predictions. Uncertainty comes from a bootstrap: by default over *items* (the
stimuli / conditions whose dissimilarities form the RDM), as the authors resample stimuli; over subjects or
both as options (the authors' ``bootstrap(boot_type=...)`` offers "stim", "subj" and "both").
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..utils import check_option, check_random_state, check_scalar, progress
from .topology import as_condensed

__all__ = ["identification_accuracy", "bootstrap_identification", "IdentificationResult", "RESAMPLE"]

# what a bootstrap draws with replacement: the items (stimuli / conditions), the subjects, or both
RESAMPLE = ("items", "subjects", "both")


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
    """Accuracy on the data, bootstrap accuracies, a percentile interval, and what was resampled.

    Attributes
    ----------
    accuracy : float
        Leave-one-subject-out accuracy on the data as given.
    bootstrap : ndarray (n_boot,)
        Accuracy of each bootstrap sample (NaN where a sample held fewer than 2 distinct subjects).
    ci : (float, float)
        Percentile interval of the finite bootstrap accuracies.
    resample : {"items", "subjects", "both"}
        What the bootstrap drew with replacement.
    """

    accuracy: float
    bootstrap: np.ndarray
    ci: tuple
    resample: str = "items"

    @property
    def std(self):
        """Standard deviation of the finite bootstrap accuracies."""
        return float(np.nanstd(self.bootstrap))


def bootstrap_identification(rdms, regions, subjects, *, n_boot=1000, resample="items", ci=0.95, seed=None,
                             verbose=True):
    """Identification accuracy with a bootstrap over items (default), subjects, or both.

    Parameters
    ----------
    rdms : array (rdms × n_pairs) or (rdms × n × n)
        One statistic per (subject, region) — transform the RDMs (GT, geodesic) before calling, as the paper
        does.
    regions, subjects : arrays (rdms,)
        Region (or layer) label and subject of each RDM.
    n_boot : int >= 1
        Number of bootstrap samples.
    resample : {"items", "subjects", "both"}
        ``"items"`` (default, the authors' stimulus bootstrap): the n items (stimuli / conditions) are drawn with
        replacement and every RDM is re-indexed by the drawn items; dissimilarities between two copies of the
        same item — undefined — are dropped (the authors' "drop" handling). The interval then says how much
        the accuracy depends on the particular stimuli. ``"subjects"``: the subjects are drawn with
        replacement (a subject drawn twice is held out as one group, so its copies never train each other),
        for generalisation to new subjects. ``"both"``: both draws in each sample.
    ci : float in (0, 1)
        Coverage of the percentile interval.
    seed : None, int or numpy.random.Generator
    verbose : bool
        Show a progress bar.

    Returns
    -------
    IdentificationResult

    Raises
    ------
    InvalidInputError
        For an unknown ``resample`` (the old tuple spelling included), bad counts, or mismatched labels.
    """
    check_scalar(n_boot, "n_boot", "bootstrap_identification", kind=int, low=1)
    check_scalar(ci, "ci", "bootstrap_identification", low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    if not isinstance(resample, str):
        raise InvalidInputError(f"bootstrap_identification: 'resample' is one of {RESAMPLE} (a string); got "
                                f"{resample!r}. For subjects and stimuli together pass resample='both'.")
    check_option(resample, "resample", RESAMPLE)
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
    by_subjects, by_items = resample in ("subjects", "both"), resample in ("items", "both")
    samples = np.empty(n_boot)
    for b in progress(range(n_boot), total=n_boot, desc="bootstrap", verbose=verbose):
        if by_subjects:
            drawn = rng.choice(unique_subjects.size, unique_subjects.size, replace=True)
            rows = np.concatenate([np.flatnonzero(subjects == unique_subjects[d]) for d in drawn])
            groups = np.concatenate([np.full(np.count_nonzero(subjects == unique_subjects[d]), d) for d in drawn])
        else:
            rows, groups = np.arange(x.shape[0]), subjects
        cols = np.arange(iu.size)
        if by_items:
            items = rng.choice(n, n, replace=True)
            keep = items[iu] != items[ju]
            cols = pair_index[items[iu][keep], items[ju][keep]]
        if np.unique(groups).size < 2 or cols.size == 0:
            samples[b] = np.nan
            continue
        samples[b] = _loso_accuracy(x[np.ix_(rows, cols)], regions[rows], groups)
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        raise InvalidInputError("bootstrap_identification: no bootstrap sample held 2 distinct subjects; "
                                "add subjects or use resample='items'.")
    half = (1 - ci) / 2
    interval = (float(np.quantile(finite, half)), float(np.quantile(finite, 1 - half)))
    return IdentificationResult(accuracy=float(accuracy), bootstrap=samples, ci=interval, resample=resample)
