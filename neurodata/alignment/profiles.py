"""Layer-wise encoding profiles and the hierarchy scores of Raugel et al. (2025).

* Layer × region profile: the mean cross-validated encoding r of each model layer for each brain region.
* Spatial score: the correlation, across regions, between the depth of each region's best-predicting layer
  and the region's position in the cortical hierarchy.
* Temporal score: for each layer, the latency at which it best predicts MEG; the score is the correlation,
  across layers, between that peak latency and the layer's depth.

``method="pearson"`` (default) and ``method="spearman"`` are offered. Which correlation the paper used is
not stated in anything we have read, so the default is our choice, not a claim about the paper.

Controls (#30): :func:`shuffled_hierarchy_control` permutes the hierarchy positions (spatial) or the layer
depths (temporal) to give a null distribution and a p-value of the score; :func:`shuffled_stimuli_control`
breaks the stimulus correspondence between model and brain and recomputes the profile and the score.
:func:`aggregate_subjects` gives the mean and its standard error across subjects.
"""
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..errors import InvalidInputError
from ..utils import check_array, check_option, check_random_state, check_scalar, progress
from ..inputs import check_data
from .activations import as_activations
from .ridge import DEFAULTS, check_folds, encoding_scores

__all__ = ["ControlResult", "SubjectSummary", "aggregate_subjects", "best_layers", "layer_profile",
           "shuffled_hierarchy_control", "shuffled_stimuli_control", "spatial_score", "temporal_profile",
           "temporal_score"]


def _fixed_seed(seed):
    """One int seed for every layer's folds, so that all layers are scored on the same splits."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2 ** 31))
    if seed is None:
        return int(np.random.default_rng().integers(2 ** 31))
    check_random_state(seed)  # the suite's seed check (an int)
    return seed


def _nanmean(x):
    """Mean over the finite entries; NaN (without a warning) when there are none."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    return float(x[ok].mean()) if ok.any() else float("nan")


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
                  ceilings=None, verbose=True, shuffle=DEFAULTS.shuffle, seed=DEFAULTS.seed, groups=None,
                  normalize=DEFAULTS.normalize):
    """Encoding score of every layer for every region → (profile (layers × regions), layer names, region names).

    Parameters
    ----------
    layers : dict name → (stimuli × features) or a list (activations, e.g. from ``record_activations``).
    regions : dict name → (stimuli × targets) or a list.
    ceilings : dict/list of per-target noise ceilings per region, optional (a dict is matched to the regions
        by name); then each entry is the mean over targets of the signed, capped normalised score
        ``sign(r)·r²/c`` clipped to [−1, 1] (:func:`~neurodata.alignment.ridge.normalized_score`; targets with
        a non-positive ceiling are left out) instead of the mean r.
    shuffle, seed, groups : the folds (see :func:`~neurodata.alignment.encoding_scores`); every layer is
        scored on the same folds.
    normalize : {"r2/c", "r/sqrt(c)"}, used with ``ceilings``.

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
        if isinstance(ceilings, dict) and isinstance(regions, dict):
            missing = [n for n in region_names if n not in ceilings]
            if missing:
                raise InvalidInputError(f"layer_profile: no ceiling for region(s) {missing}; ceilings has "
                                        f"{list(ceilings)}.")
            cl = [ceilings[n] for n in region_names]
        else:
            _, cl = _named(ceilings, "ceiling")
        if len(cl) != len(region_arrays):
            raise InvalidInputError(f"layer_profile: {len(cl)} ceilings for {len(region_arrays)} regions.")
        cl = [np.broadcast_to(np.asarray(c, dtype=float).ravel(), (r.shape[1],)) if np.size(c) == 1
              else np.asarray(c, dtype=float).ravel() for c, r in zip(cl, region_arrays)]
        for name, c, r in zip(region_names, cl, region_arrays):
            if c.size != r.shape[1]:
                raise InvalidInputError(f"layer_profile: region {name!r} has {r.shape[1]} targets but "
                                        f"{c.size} ceilings.")
        ceiling = np.concatenate(cl)
    seed = _fixed_seed(seed)
    profile = np.empty((len(layer_arrays), len(region_arrays)))
    for i, X in enumerate(progress(layer_arrays, total=len(layer_arrays), desc="layers", verbose=verbose)):
        res = encoding_scores(X, Y, alphas=alphas, cv=cv, inner_cv=inner_cv, ceiling=ceiling, normalize=normalize,
                              shuffle=shuffle, seed=seed, groups=groups)
        per_target = res.r if ceiling is None else res.normalized
        for j in range(len(region_arrays)):
            profile[i, j] = _nanmean(per_target[bounds[j]:bounds[j + 1]])
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
                     verbose=True, shuffle=DEFAULTS.shuffle, seed=DEFAULTS.seed, groups=None):
    """Encoding time course of every layer on MEG → (layers × times) mean r across sensors.

    ``meg`` is (stimuli × sensors × times) — an array or a ConditionResponses from ``responses_from_mne``
    (conditions × channels × times) — and every (sensor, time) is one target of a single ridge fit per layer.
    ``shuffle``, ``seed``, ``groups``: the folds (:func:`~neurodata.alignment.encoding_scores`), the same for
    every layer.
    """
    _, layer_arrays = _named(layers, "layer")
    layer_arrays = list(as_activations(layer_arrays).values())
    m = check_data(meg, method="temporal_profile", name="meg", ndim=3, axes=("stimuli", "sensors", "times"),
                   conditions=True)
    n, n_sensors, n_times = m.shape
    check_folds(cv, inner_cv, n, "temporal_profile")
    Y = m.transpose(0, 2, 1).reshape(n, n_times * n_sensors)  # time-major blocks of sensors
    seed = _fixed_seed(seed)
    out = np.empty((len(layer_arrays), n_times))
    for i, X in enumerate(progress(layer_arrays, total=len(layer_arrays), desc="layers", verbose=verbose)):
        if np.shape(X)[0] != n:
            raise InvalidInputError(f"layer {i} has {np.shape(X)[0]} stimuli but meg has {n}.")
        r = encoding_scores(X, Y, alphas=alphas, cv=cv, inner_cv=inner_cv, shuffle=shuffle, seed=seed,
                            groups=groups).r
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


# ---------------------------------------------------------------- controls and subject-level aggregation

@dataclass(frozen=True)
class ControlResult:
    """A negative control of a hierarchy score.

    observed : the score on the real data.
    null : (n_permutations,) the score under the control (NaN where it is undefined, e.g. all best layers
        equal).
    p_value : one-sided, ``(1 + #{null >= observed}) / (1 + #finite null)``.
    control : "shuffled hierarchy" or "shuffled stimuli".
    kind : "spatial" or "temporal".
    profile : the real profile (layers × regions or layers × times), for the stimulus control; else None.
    null_profile : mean profile under the stimulus control (encoding near 0), else None.
    """

    observed: float
    null: np.ndarray
    p_value: float
    control: str
    kind: str
    profile: np.ndarray = None
    null_profile: np.ndarray = None


def _p_value(observed, null):
    finite = null[np.isfinite(null)]
    return float((1 + np.sum(finite >= observed - 1e-12)) / (1 + finite.size))


def _score(kind, scores, hierarchy, layer_depths, times, method):
    if kind == "spatial":
        return spatial_score(scores, hierarchy=hierarchy, layer_depths=layer_depths, method=method)
    return temporal_score(scores, times=times, layer_depths=layer_depths, method=method)


def _score_or_nan(*args):
    try:
        return _score(*args)
    except InvalidInputError:
        return float("nan")


def shuffled_hierarchy_control(scores, *, kind="spatial", hierarchy=None, layer_depths=None, times=None,
                               method="pearson", n_permutations=1000, seed=0):
    """Null distribution of a hierarchy score with the hierarchy shuffled → :class:`ControlResult`.

    ``kind="spatial"``: ``scores`` is a (layers × regions) profile and the regions' hierarchy positions are
    permuted; ``kind="temporal"``: ``scores`` is (layers × times) time courses and the layer depths are
    permuted. The best layers (or peak latencies) are kept, so the control asks whether their ordering
    follows the hierarchy more than a random ordering would.
    """
    check_option(kind, "kind", ("spatial", "temporal"))
    check_scalar(n_permutations, "n_permutations", "shuffled_hierarchy_control", kind=int, low=1)
    s = check_array(scores, "scores", ndim=2)
    observed = _score(kind, s, hierarchy, layer_depths, times, method)
    if kind == "spatial":
        base = np.arange(s.shape[1], dtype=float) if hierarchy is None else check_array(hierarchy, "hierarchy",
                                                                                         ndim=1)
    else:
        base = np.linspace(0, 1, s.shape[0]) if layer_depths is None else check_array(layer_depths,
                                                                                   "layer_depths", ndim=1)
    rng = check_random_state(seed)
    null = np.empty(n_permutations)
    for i in range(n_permutations):
        perm = rng.permutation(base)
        if kind == "spatial":
            null[i] = _score(kind, s, perm, layer_depths, times, method)
        else:
            null[i] = _score(kind, s, hierarchy, perm, times, method)
    return ControlResult(observed=observed, null=null, p_value=_p_value(observed, null),
                         control="shuffled hierarchy", kind=kind)


def shuffled_stimuli_control(layers, responses, *, kind="spatial", hierarchy=None, layer_depths=None, times=None,
                             method="pearson", n_permutations=10, seed=0, alphas=DEFAULTS.alphas, cv=DEFAULTS.cv,
                             inner_cv=DEFAULTS.inner_cv, ceilings=None, groups=None, verbose=True):
    """The profile and hierarchy score with the brain responses' stimuli shuffled → :class:`ControlResult`.

    Each permutation reorders the rows of every region (``kind="spatial"``: ``responses`` as for
    :func:`layer_profile`) or of the MEG (``kind="temporal"``: as for :func:`temporal_profile`) with one
    permutation, so model and brain no longer see the same stimuli; the profile is recomputed (one full
    encoding run per permutation: keep ``n_permutations`` small) and scored. The encoding level under the
    control (``null_profile``) should be near 0 and the score's null spread around 0. A score undefined under
    a permutation (all best layers equal) is NaN.
    """
    check_option(kind, "kind", ("spatial", "temporal"))
    check_scalar(n_permutations, "n_permutations", "shuffled_stimuli_control", kind=int, low=1)
    rng = check_random_state(seed)
    fold_seed = int(rng.integers(2 ** 31))  # the same folds for the real and every shuffled profile
    opts = dict(alphas=alphas, cv=cv, inner_cv=inner_cv, seed=fold_seed, groups=groups)

    def profile_of(resp):
        if kind == "spatial":
            return layer_profile(layers, resp, ceilings=ceilings, verbose=False, **opts)[0]
        return temporal_profile(layers, resp, verbose=False, **opts)

    if kind == "spatial":
        names, arrays = _named(responses, "region")
        arrays = [np.asarray(a) for a in arrays]
        shuffle = lambda perm: dict(zip(names, [a[perm] for a in arrays]))  # noqa: E731
        n = arrays[0].shape[0]
        responses = shuffle(np.arange(n))  # named, so that named ceilings match the same way every time
    else:
        meg = check_data(responses, method="shuffled_stimuli_control", name="meg", ndim=3,
                         axes=("stimuli", "sensors", "times"), conditions=True)
        shuffle = lambda perm: meg[perm]  # noqa: E731
        n = meg.shape[0]
        responses = meg
    real = profile_of(responses)
    observed = _score_or_nan(kind, real, hierarchy, layer_depths, times, method)
    null = np.empty(n_permutations)
    total = np.zeros_like(real)
    for i in progress(range(n_permutations), total=n_permutations, desc="shuffles", verbose=verbose):
        # groups: permute whole stimuli, the group labels stay with the model's rows (the folds are unchanged)
        p = profile_of(shuffle(rng.permutation(n)))
        total += p
        null[i] = _score_or_nan(kind, p, hierarchy, layer_depths, times, method)
    return ControlResult(observed=observed, null=null, p_value=_p_value(observed, null), control="shuffled stimuli",
                         kind=kind, profile=real, null_profile=total / n_permutations)


@dataclass(frozen=True)
class SubjectSummary:
    """Across-subject summary: ``mean`` and ``sem`` (standard error of the mean, ddof = 1) over the finite
    values of each cell, ``n_subjects`` (per cell), ``values`` (the per-subject input)."""

    mean: np.ndarray
    sem: np.ndarray
    n_subjects: np.ndarray
    values: np.ndarray


def aggregate_subjects(values):
    """Mean and SEM across subjects of per-subject scores or profiles → :class:`SubjectSummary`.

    ``values`` is (subjects, …): one spatial or temporal score per subject (subjects,), or one profile per
    subject (subjects × layers × regions), or a list of those. NaN (an undefined score) is left out of its
    cell; a cell with fewer than 2 finite values has SEM NaN. Scores are computed per subject and then
    aggregated, so the SEM reflects between-subject variability.
    """
    v = np.asarray([np.asarray(x, dtype=float) for x in values] if isinstance(values, (list, tuple)) else values,
                   dtype=float)
    if v.ndim == 0 or v.shape[0] < 1:
        raise InvalidInputError("aggregate_subjects: values must be (subjects, ...) with at least one subject.")
    if np.isinf(v).any():
        raise InvalidInputError("aggregate_subjects: values contain inf.")
    ok = np.isfinite(v)
    n = ok.sum(axis=0)
    filled = np.where(ok, v, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, filled.sum(axis=0) / np.maximum(n, 1), np.nan)
        dev = np.where(ok, v - mean, 0.0)
        var = np.where(n > 1, (dev ** 2).sum(axis=0) / np.maximum(n - 1, 1), np.nan)
        sem = np.sqrt(var) / np.sqrt(np.maximum(n, 1))
    sem = np.where(n > 1, sem, np.nan)
    if mean.ndim == 0:
        mean, sem = float(mean), float(sem)
    return SubjectSummary(mean=mean, sem=sem, n_subjects=n, values=v)
