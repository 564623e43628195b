"""Layer-wise encoding profiles and the hierarchy scores of Raugel et al. (2025).

* Layer × region profile: the mean cross-validated encoding r of each model layer for each brain region.
* Spatial score: the correlation, across regions, between the depth of each region's best-predicting layer
  and the region's position in the cortical hierarchy.
* Temporal score: for each layer, the latency at which it best predicts MEG; the score is the correlation,
  across layers, between that peak latency and the layer's depth.

Raugel et al. report Pearson correlations for both scores; ``method="spearman"`` is offered as well.
"""
import numpy as np
from scipy import stats

from ..errors import InvalidInputError
from ..utils import check_array, check_option, progress
from ..inputs import check_data
from .activations import as_activations
from .ridge import DEFAULTS, check_folds, encoding_scores

__all__ = ["layer_profile", "best_layers", "spatial_score", "temporal_profile", "temporal_score"]


def _named(items, what):
    if isinstance(items, dict):
        names, arrays = list(items), list(items.values())
    else:
        arrays = list(items)
        names = [f"{what}{i}" for i in range(len(arrays))]
    if not arrays:
        raise InvalidInputError(f"no {what}s given.")
    return names, arrays


def layer_profile(layers, regions, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.cv, inner_cv=DEFAULTS.inner_cv,
                  ceilings=None, verbose=True):
    """Encoding score of every layer for every region → (profile (layers × regions), layer names, region names).

    Parameters
    ----------
    layers : dict name → (stimuli × features) or a list (activations, e.g. from ``record_activations``).
    regions : dict name → (stimuli × targets) or a list.
    ceilings : dict/list of per-target noise ceilings per region, optional; then each entry is the mean of
        ``r² / c`` over targets instead of the mean r.

    One ridge fit per layer serves all regions (their targets are stacked).
    """
    layer_names, layer_arrays = _named(layers, "layer")
    layer_arrays = list(as_activations(layer_arrays).values())  # the input contract: numeric, finite, 2-D
    region_names, region_arrays = _named(regions, "region")
    region_arrays = [check_data(r, method="layer_profile", name=f"region {n!r}", ndim=(1, 2),
                                axes=("stimuli", "targets"))
                     for n, r in zip(region_names, region_arrays)]
    region_arrays = [r.reshape(r.shape[0], -1) for r in region_arrays]
    n = region_arrays[0].shape[0]
    if any(r.shape[0] != n for r in region_arrays) or any(np.shape(l)[0] != n for l in layer_arrays):
        raise InvalidInputError("all layers and regions must have the same number of stimuli (rows).")
    check_folds(cv, inner_cv, n, "layer_profile")
    bounds = np.cumsum([0] + [r.shape[1] for r in region_arrays])
    Y = np.hstack(region_arrays)
    ceiling = None
    if ceilings is not None:
        _, cl = _named(ceilings, "ceiling")
        ceiling = np.concatenate([np.asarray(c, dtype=float).ravel() for c in cl])
    profile = np.empty((len(layer_arrays), len(region_arrays)))
    for i, X in enumerate(progress(layer_arrays, total=len(layer_arrays), desc="layers", verbose=verbose)):
        res = encoding_scores(X, Y, alphas=alphas, cv=cv, inner_cv=inner_cv, ceiling=ceiling)
        per_target = res.r if ceiling is None else res.normalized
        for j in range(len(region_arrays)):
            profile[i, j] = np.nanmean(per_target[bounds[j]:bounds[j + 1]])
    return profile, layer_names, region_names


def best_layers(profile):
    """Index of the best-predicting layer for each region (column) of a layers × regions profile."""
    p = check_array(profile, "profile", ndim=2)
    return np.argmax(p, axis=0)


def _corr(a, b, method):
    check_option(method, "method", ("pearson", "spearman"))
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        raise InvalidInputError("the score is undefined: the best layers (or latencies) or the hierarchy "
                                "positions are all equal.")
    f = stats.pearsonr if method == "pearson" else stats.spearmanr
    return float(f(a, b)[0])


def spatial_score(profile, hierarchy=None, layer_depths=None, method="pearson"):
    """Correlation across regions between the depth of the best layer and the region's hierarchy position.

    Parameters
    ----------
    profile : (layers × regions) encoding scores.
    hierarchy : (regions,) position of each region in the hierarchy; default 0, 1, 2, … (column order).
    layer_depths : (layers,) depth of each layer; default relative depth 0 … 1 in row order.
    """
    p = check_array(profile, "profile", ndim=2)
    depths = np.linspace(0, 1, p.shape[0]) if layer_depths is None else check_array(layer_depths, "layer_depths", ndim=1)
    pos = np.arange(p.shape[1], dtype=float) if hierarchy is None else check_array(hierarchy, "hierarchy", ndim=1)
    if depths.size != p.shape[0] or pos.size != p.shape[1]:
        raise InvalidInputError(f"profile is {p.shape}; got {depths.size} layer depths and {pos.size} positions.")
    return _corr(depths[best_layers(p)], pos, method)


def temporal_profile(layers, meg, *, alphas=DEFAULTS.alphas, cv=DEFAULTS.cv, inner_cv=DEFAULTS.inner_cv,
                     verbose=True):
    """Encoding time course of every layer on MEG → (layers × times) mean r across sensors.

    ``meg`` is (stimuli × sensors × times) — an array or a ConditionResponses from ``responses_from_mne``
    (conditions × channels × times) — and every (sensor, time) is one target of a single ridge fit per layer.
    """
    _, layer_arrays = _named(layers, "layer")
    layer_arrays = list(as_activations(layer_arrays).values())
    m = check_data(meg, method="temporal_profile", name="meg", ndim=3, axes=("stimuli", "sensors", "times"),
                   conditions=True)
    n, n_sensors, n_times = m.shape
    check_folds(cv, inner_cv, n, "temporal_profile")
    Y = m.transpose(0, 2, 1).reshape(n, n_times * n_sensors)  # time-major blocks of sensors
    out = np.empty((len(layer_arrays), n_times))
    for i, X in enumerate(progress(layer_arrays, total=len(layer_arrays), desc="layers", verbose=verbose)):
        if np.shape(X)[0] != n:
            raise InvalidInputError(f"layer {i} has {np.shape(X)[0]} stimuli but meg has {n}.")
        r = encoding_scores(X, Y, alphas=alphas, cv=cv, inner_cv=inner_cv).r
        out[i] = r.reshape(n_times, n_sensors).mean(axis=1)
    return out


def temporal_score(time_courses, times=None, layer_depths=None, method="pearson"):
    """Correlation across layers between each layer's peak-encoding latency and its depth.

    Parameters
    ----------
    time_courses : (layers × times) encoding scores (e.g. from :func:`temporal_profile`).
    times : (times,) latencies (s or samples); default sample indices.
    layer_depths : (layers,) default relative depth 0 … 1.
    """
    tc = check_array(time_courses, "time_courses", ndim=2)
    t = np.arange(tc.shape[1], dtype=float) if times is None else check_array(times, "times", ndim=1)
    depths = np.linspace(0, 1, tc.shape[0]) if layer_depths is None else check_array(layer_depths, "layer_depths", ndim=1)
    if t.size != tc.shape[1] or depths.size != tc.shape[0]:
        raise InvalidInputError(f"time_courses is {tc.shape}; got {t.size} times and {depths.size} layer depths.")
    return _corr(t[np.argmax(tc, axis=1)], depths, method)
