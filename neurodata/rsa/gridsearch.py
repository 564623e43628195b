"""The tRSA paper's central analysis: identification accuracy over the (l, u) plane of GT transforms.

Lin & Kriegeskorte (2023) transform every subject's RDM by GT(l, u), identify the region (or network layer)
of each held-out subject by a nearest-centroid classifier (:func:`~neurodata.rsa.identification_accuracy`), and
map the accuracy over a grid of ``0 <= l <= u <= 1`` (step 0.05 in the authors' ``run_rgtm_grid_search``; the
degenerate corners l = u = 0 and l = u = 1, which make every RDM constant, are skipped). They also sample (l, u)
uniformly inside named regions of that plane (``run_sample_rgtm``) — the categories of :data:`CATEGORIES`, with
the authors' boundaries and precedence (``get_rgtm_type``):

==================== ===========================================
local extractor      (l + u) / 2 <= 0.2
global extractor     (l + u) / 2 >= 0.8
geometry sensitive   u - l >= 0.8 (l = 0, u = 1 is the RDM itself)
topology sensitive   l >= 0.4 and u <= 0.6
intermediate         every other non-degenerate (l, u)
==================== ===========================================

The transform is the piecewise-linear GT or its sigmoid variant (``transform="sigmoid"``: the logistic with
the same midpoint and slope, :func:`~neurodata.rsa.topology.sigmoid_from_bounds`).
"""
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError
from ..utils import check_option, check_random_state, check_scalar, progress
from .identification import _labels, _loso_accuracy, _stack
from .topology import _gt_vector, _rank01, _sigmoid_vector, sigmoid_from_bounds

__all__ = ["CATEGORIES", "TRANSFORMS", "GridSearchResult", "CategoryResult", "gt_category", "sample_bounds",
           "grid_identification", "category_identification"]

CATEGORIES = ("local", "global", "geometry_sensitive", "topology_sensitive", "intermediate")
TRANSFORMS = ("linear", "sigmoid")
_TOL = 1e-3  # the authors' tolerance on the category boundaries


def _degenerate(lower, upper):
    # l = u = 0 (every entry "far") and l = u = 1 (every entry "close"): constant statistics, no information
    return lower + upper <= 1e-2 or lower + upper >= 2 - 1e-2


def gt_category(lower, upper):
    """Name of the region of the (l, u) plane that ``GT(lower, upper)`` belongs to.

    Parameters
    ----------
    lower, upper : float, ``0 <= lower <= upper <= 1``

    Returns
    -------
    str
        One of :data:`CATEGORIES`, tested in the authors' order: local, global, geometry sensitive, topology
        sensitive, intermediate.

    Raises
    ------
    InvalidInputError
        For bounds outside [0, 1], ``lower > upper``, or a degenerate corner (l = u = 0 or l = u = 1).
    """
    check_scalar(lower, "lower", "gt_category", low=0.0, high=1.0)
    check_scalar(upper, "upper", "gt_category", low=0.0, high=1.0)
    if upper < lower:
        raise InvalidInputError(f"gt_category: 'lower' ({lower}) must not exceed 'upper' ({upper}).")
    if _degenerate(lower, upper):
        raise InvalidInputError(f"gt_category: (lower, upper) = ({lower}, {upper}) is a degenerate corner (every "
                                "entry 0 or every entry 1) and belongs to no category.")
    mid = (lower + upper) / 2
    if mid <= 0.2 + _TOL:
        return "local"
    if mid >= 0.8 - _TOL:
        return "global"
    if upper - lower >= 0.8 - _TOL:
        return "geometry_sensitive"
    if lower >= 0.4 - _TOL and upper <= 0.6 + _TOL:
        return "topology_sensitive"
    return "intermediate"


def sample_bounds(category, n_samples=10, seed=None):
    """Draw (l, u) uniformly inside one category of the (l, u) plane (the authors' rejection sampler).

    Two uniform numbers in [0, 1] are drawn and ordered (l <= u); degenerate corners and draws outside the
    category are rejected.

    Parameters
    ----------
    category : {"local", "global", "geometry_sensitive", "topology_sensitive", "intermediate"}
    n_samples : int >= 1
    seed : None, int or numpy.random.Generator

    Returns
    -------
    ndarray (n_samples × 2)
        Columns ``lower``, ``upper``.
    """
    check_option(category, "category", CATEGORIES)
    check_scalar(n_samples, "n_samples", "sample_bounds", kind=int, low=1)
    rng = check_random_state(seed)
    out = []
    while len(out) < n_samples:
        for lower, upper in np.sort(rng.uniform(size=(256, 2)), axis=1):
            if not _degenerate(lower, upper) and gt_category(lower, upper) == category:
                out.append((lower, upper))
                if len(out) == n_samples:
                    break
    return np.array(out)


def _transformed(ranked, lower, upper, transform):
    if transform == "sigmoid":
        center, slope = sigmoid_from_bounds(lower, upper)
        return _sigmoid_vector(ranked, center, slope)
    return np.stack([_gt_vector(r, lower, upper, warn=False) for r in ranked])


def _prepare(rdms, regions, subjects, transform):
    check_option(transform, "transform", TRANSFORMS)
    x, _ = _stack(rdms)
    regions = _labels(regions, "regions", x.shape[0])
    subjects = _labels(subjects, "subjects", x.shape[0])
    if np.unique(regions).size < 2:
        raise InvalidInputError("identification needs at least 2 regions; got one.")
    ranked = np.stack([_rank01(r, name=f"rdms[{i}]") for i, r in enumerate(x)])
    return x, ranked, regions, subjects


@dataclass(frozen=True)
class GridSearchResult:
    """Identification accuracy over the (l, u) grid.

    Attributes
    ----------
    bounds : ndarray (m,)
        Grid values of both ``lower`` and ``upper`` (0 to 1).
    accuracy : ndarray (m × m)
        ``accuracy[i, j]`` for ``lower = bounds[i]``, ``upper = bounds[j]``; NaN where ``upper < lower`` and at
        the two degenerate corners.
    rdm_accuracy : float
        Accuracy of the RDM as given (no transform): the "RDM" baseline of the authors' category comparison.
    transform : {"linear", "sigmoid"}
    """

    bounds: np.ndarray
    accuracy: np.ndarray
    rdm_accuracy: float
    transform: str = "linear"

    @property
    def ranked_rdm_accuracy(self):
        """Accuracy at (l, u) = (0, 1): the rank-normalised RDM."""
        return float(self.accuracy[0, -1])

    def category_mean(self, category):
        """Mean accuracy over the grid cells of one category (see :func:`gt_category`)."""
        check_option(category, "category", CATEGORIES)
        cells = [self.accuracy[i, j] for i, lo in enumerate(self.bounds) for j, up in enumerate(self.bounds)
                 if np.isfinite(self.accuracy[i, j]) and gt_category(lo, up) == category]
        if not cells:
            raise InvalidInputError(f"the grid (step {self.bounds[1] - self.bounds[0]:.3g}) has no cell in "
                                    f"category {category!r}; use a finer resolution.")
        return float(np.mean(cells))

    @property
    def best(self):
        """``(lower, upper, accuracy)`` of the best cell (the first, in grid order, on ties)."""
        i, j = np.unravel_index(np.nanargmax(self.accuracy), self.accuracy.shape)
        return float(self.bounds[i]), float(self.bounds[j]), float(self.accuracy[i, j])


def grid_identification(rdms, regions, subjects, *, resolution=0.05, transform="linear", verbose=True):
    """Leave-one-subject-out identification accuracy of ``GT(l, u)`` over a grid of ``0 <= l <= u <= 1``.

    Parameters
    ----------
    rdms : array (rdms × n_pairs) or (rdms × n × n)
        One RDM per (subject, region).
    regions, subjects : arrays (rdms,)
        Region (layer) label and subject (model instance) of each RDM.
    resolution : float in (0, 0.5]
        Grid step (the authors' 0.05 gives 21 × 21 values, 229 usable cells); ``1 / resolution`` must be a
        whole number.
    transform : {"linear", "sigmoid"}
        The piecewise-linear GT, or the sigmoid with the same midpoint and slope.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    GridSearchResult

    Raises
    ------
    InvalidInputError
        For malformed RDMs or labels, fewer than 2 subjects or regions, or a resolution that does not divide 1.
    """
    check_scalar(resolution, "resolution", "grid_identification", low=0.0, high=0.5, low_inclusive=False)
    steps = 1.0 / resolution
    if abs(steps - round(steps)) > 1e-6:
        raise InvalidInputError(f"grid_identification: 1 / resolution must be a whole number; got resolution "
                                f"{resolution} (1 / {resolution} = {steps:.4g}).")
    x, ranked, regions, subjects = _prepare(rdms, regions, subjects, transform)
    bounds = np.round(np.linspace(0.0, 1.0, int(round(steps)) + 1), 10)
    acc = np.full((bounds.size, bounds.size), np.nan)
    cells = [(i, j) for i in range(bounds.size) for j in range(i, bounds.size)
             if not _degenerate(bounds[i], bounds[j])]
    for i, j in progress(cells, total=len(cells), desc="(l, u) grid", verbose=verbose):
        acc[i, j] = _loso_accuracy(_transformed(ranked, bounds[i], bounds[j], transform), regions, subjects)
    return GridSearchResult(bounds=bounds, accuracy=acc, rdm_accuracy=_loso_accuracy(x, regions, subjects),
                            transform=transform)


@dataclass(frozen=True)
class CategoryResult:
    """Identification accuracy of (l, u) drawn inside one category.

    Attributes
    ----------
    category : str
        One of :data:`CATEGORIES`, or ``"rdm"`` for the untransformed RDMs.
    bounds : ndarray (n_samples × 2)
        The (l, u) drawn (empty for ``"rdm"``).
    accuracies : ndarray (n_samples,)
    """

    category: str
    bounds: np.ndarray
    accuracies: np.ndarray

    @property
    def mean(self):
        """Mean accuracy over the samples."""
        return float(np.mean(self.accuracies))


def category_identification(rdms, regions, subjects, *, n_samples=10, transform="linear", seed=None):
    """Identification accuracy per category of GT transforms (the authors' ``run_sample_rgtm``).

    For each category, ``n_samples`` (l, u) are drawn inside it (:func:`sample_bounds`) and the
    leave-one-subject-out accuracy of the transformed RDMs is computed; the untransformed RDMs are the
    ``"rdm"`` entry.

    Parameters
    ----------
    rdms, regions, subjects : see :func:`grid_identification`
    n_samples : int >= 1
        (l, u) draws per category (the authors use 10).
    transform : {"linear", "sigmoid"}
    seed : None, int or numpy.random.Generator

    Returns
    -------
    dict
        ``{"rdm": CategoryResult, "local": CategoryResult, ...}`` in the order ``("rdm", *CATEGORIES)``.
    """
    check_scalar(n_samples, "n_samples", "category_identification", kind=int, low=1)
    x, ranked, regions, subjects = _prepare(rdms, regions, subjects, transform)
    rng = check_random_state(seed)
    out = {"rdm": CategoryResult("rdm", np.empty((0, 2)), np.array([_loso_accuracy(x, regions, subjects)]))}
    for category in CATEGORIES:
        bounds = sample_bounds(category, n_samples, rng)
        accs = np.array([_loso_accuracy(_transformed(ranked, lo, up, transform), regions, subjects)
                         for lo, up in bounds])
        out[category] = CategoryResult(category, bounds, accs)
    return out
