"""Pruning the delay kernel: by weight magnitude, or by delay ("shortening"), accuracy curves and their
sigmoid fit.

Grimaldi & Perrinet (2023, Sec. 3.3, Fig. 7): the computational load is the number of non-zero weights relative
to the *dense* kernel (36 x 2 x 21 x 17 x 17 = 436,968); pruning the smallest |K| keeps accuracy near its peak
down to ~31x fewer weights and reaches half-saturation of a sigmoid fit (in log weights) at 652 weights, whereas
shortening (keeping only the weights of the shortest delays) reaches it with about a third of the weights.
"""
import dataclasses
import warnings

import numpy as np
import pandas as pd

from neurodata.errors import ConvergenceWarning, InvalidInputError
from neurodata.utils import check_option, progress

PRUNING_METHODS = ("magnitude", "shortening")
COUNTS = ("dense", "nonzero")


def prune_kernel(kernel, n_keep, method="magnitude", *, count="nonzero"):
    """A copy of ``kernel`` keeping ``n_keep`` taps.

    Parameters
    ----------
    kernel : array (classes, 2, K_T, K_X, K_Y)
    n_keep : int in [0, kernel.size]
    method : {"magnitude", "shortening"}
        magnitude: the ``n_keep`` largest |K| (ties broken by index); shortening: the taps of the shortest
        delays, whole delay slices first, the last partial slice by magnitude.
    count : {"nonzero", "dense"}
        What ``n_keep`` counts. "nonzero": non-zero taps (a zero tap is never "kept"); "dense": positions of the
        dense kernel, zeros included (the paper's budget: shortening to d delays keeps ``d / K_T`` of the dense
        kernel, whatever its zeros). Magnitude pruning gives the same kernel either way.
    """
    check_option(method, "method", PRUNING_METHODS)
    check_option(count, "count", COUNTS)
    kernel = np.asarray(kernel)
    if kernel.ndim != 5:
        raise InvalidInputError(f"kernel must be (classes, 2, K_T, K_X, K_Y); got shape {kernel.shape}.")
    n_keep = int(n_keep)
    if not 0 <= n_keep <= kernel.size:
        raise InvalidInputError(f"n_keep must be in [0, {kernel.size}]; got {n_keep}.")
    if method == "magnitude":
        score = np.abs(kernel).ravel().astype(float)
    else:  # shortest delays first; within a delay the largest magnitudes
        delay = np.broadcast_to(np.arange(kernel.shape[2])[None, None, :, None, None], kernel.shape).ravel()
        magnitude = np.abs(kernel).ravel()
        score = -delay.astype(float) + magnitude / (magnitude.max() + 1.0) * 0.5
    if count == "nonzero":
        score = np.where(kernel.ravel() != 0, score, -np.inf)
    keep = np.argsort(-score, kind="stable")[:n_keep]
    out = np.zeros_like(kernel)
    out.ravel()[keep] = kernel.ravel()[keep]
    return out


def shorten_kernel(kernel, n_delays):
    """A copy of ``kernel`` with only its ``n_delays`` shortest delays (d < n_delays) kept."""
    kernel = np.asarray(kernel)
    if kernel.ndim != 5:
        raise InvalidInputError(f"kernel must be (classes, 2, K_T, K_X, K_Y); got shape {kernel.shape}.")
    if not 0 <= int(n_delays) <= kernel.shape[2]:
        raise InvalidInputError(f"n_delays must be in [0, {kernel.shape[2]}] (the kernel's K_T); got {n_delays}.")
    out = kernel.copy()
    out[:, :, int(n_delays):] = 0
    return out


def pruning_curve(classifier, events, labels, *, fractions=None, methods=PRUNING_METHODS, count="dense",
                  skip=None, verbose=False):
    """Held-out accuracy of ``classifier`` pruned to each fraction of its weights.

    Parameters
    ----------
    classifier : fitted HeterogeneousDelayClassifier
    events, labels : held-out movies (n, 2, T, X, Y) and their labels (n, T)
    fractions : floats in (0, 1], optional
        Budgets as fractions of the dense kernel (``count="dense"``, the paper's) or of its non-zero taps
        (``count="nonzero"``); default 16 points from 1 down to one weight on a log grid.
    methods : subset of {"magnitude", "shortening"}
    count : {"dense", "nonzero"}
    skip : int, optional
        Passed to ``score``.

    Returns
    -------
    DataFrame
        One row per method and distinct kept kernel: ``method``, ``fraction`` (non-zero weights kept / the
        ``count`` total: with "dense", the paper's relative computational load), ``n_weights`` (non-zero
        weights kept), ``accuracy``. A budget above the kernel's non-zero taps keeps them all (one row).
    """
    check_option(count, "count", COUNTS)
    kernel = classifier.kernel_
    n_nonzero = int(np.count_nonzero(kernel))
    n_total = kernel.size if count == "dense" else n_nonzero
    if fractions is None:
        fractions = np.geomspace(1.0, 1.0 / n_total, 16)
    fractions = np.asarray(sorted(set(float(f) for f in fractions), reverse=True))
    if not len(fractions) or fractions.min() <= 0 or fractions.max() > 1:
        raise InvalidInputError(f"fractions must lie in (0, 1]; got {fractions}.")
    rows = []
    for method in methods:
        check_option(method, "method", PRUNING_METHODS)
        seen = set()
        for fraction in progress(fractions, desc=f"pruning ({method})", verbose=verbose):
            n_keep = max(1, int(round(fraction * n_total)))
            pruned = prune_kernel(kernel, n_keep, method, count=count)
            kept = int(np.count_nonzero(pruned))
            if kept in seen:
                continue
            seen.add(kept)
            rows.append({"method": method, "fraction": kept / n_total, "n_weights": kept,
                         "accuracy": classifier.with_kernel(pruned).score(events, labels, skip=skip)})
    return pd.DataFrame(rows)


def shortening_curve(classifier, events, labels, *, delays=None, skip=None, verbose=False):
    """Held-out accuracy when only the shortest delays are kept (the paper's shortening strategy).

    Parameters
    ----------
    classifier : fitted HeterogeneousDelayClassifier
    events, labels : held-out movies and labels
    delays : ints in [1, K_T], optional
        Numbers of delays kept (default 1 .. K_T).
    skip : int, optional
        Passed to ``score`` (default K_T - 1 for every point, so all points score the same steps).

    Returns
    -------
    DataFrame
        ``method`` ("shortening"), ``n_delays``, ``fraction`` (non-zero weights kept / the dense kernel),
        ``n_weights`` (non-zero weights kept), ``accuracy``.
    """
    kernel = classifier.kernel_
    kt = kernel.shape[2]
    delays = np.arange(1, kt + 1) if delays is None else np.asarray(sorted(set(int(d) for d in delays)))
    if not len(delays) or delays.min() < 1 or delays.max() > kt:
        raise InvalidInputError(f"delays must lie in [1, {kt}] (the kernel's K_T); got {delays}.")
    rows = []
    for d in progress(delays, desc="shortening", verbose=verbose):
        short = shorten_kernel(kernel, d)
        kept = int(np.count_nonzero(short))
        rows.append({"method": "shortening", "n_delays": int(d), "fraction": kept / kernel.size, "n_weights": kept,
                     "accuracy": classifier.with_kernel(short).score(events, labels, skip=skip)})
    return pd.DataFrame(rows)


@dataclasses.dataclass(frozen=True)
class SigmoidFit:
    """``accuracy = low + (high - low) / (1 + exp(-(log10(n_weights) - log10_half) / width))``."""

    low: float
    high: float
    log10_half: float
    width: float
    rmse: float
    n_points: int

    @property
    def half_weights(self):
        """Number of weights at half-saturation (accuracy halfway between ``low`` and ``high``)."""
        return float(10.0 ** self.log10_half)

    def __call__(self, n_weights):
        x = np.log10(np.asarray(n_weights, dtype=float))
        return self.low + (self.high - self.low) / (1.0 + np.exp(-(x - self.log10_half) / self.width))


def _sigmoid(x, low, high, x0, width):
    return low + (high - low) / (1.0 + np.exp(-(x - x0) / width))


def fit_sigmoid(curve, method="magnitude", *, chance=None):
    """Least-squares sigmoid of accuracy against log10(number of weights), as the paper's Fig. 7.

    Parameters
    ----------
    curve : DataFrame with ``method``, ``n_weights``, ``accuracy`` (:func:`pruning_curve`,
        :func:`shortening_curve`)
    method : str
        Which rows to fit.
    chance : float, optional
        Fix the lower asymptote at chance level (1 / n_classes); fitted otherwise.

    Returns
    -------
    SigmoidFit
        Emits a ConvergenceWarning when the optimiser did not converge (add curve points around the drop).
    """
    from scipy.optimize import curve_fit

    rows = curve[curve["method"] == method].sort_values("n_weights")
    x = np.log10(rows["n_weights"].to_numpy(float))
    y = rows["accuracy"].to_numpy(float)
    n_params = 3 if chance is not None else 4
    if len(x) < n_params + 1:
        raise InvalidInputError(f"A sigmoid fit needs at least {n_params + 1} points of method {method!r}; the "
                                f"curve has {len(x)}. Pass more fractions (or delays).")
    if not np.all(np.isfinite(y)):
        raise InvalidInputError(f"The {method!r} curve holds non-finite accuracies: {y}.")
    high0 = y.max()
    low0 = y.min() if chance is None else float(chance)
    mid = low0 + 0.5 * (high0 - low0)
    x0 = x[np.argmin(np.abs(y - mid))]
    span = max(np.ptp(x), 1e-3)
    if chance is None:
        model = _sigmoid
        p0 = [low0, high0, x0, span / 8]
        bounds = ([0.0, 0.0, x.min() - span, 1e-3 * span], [1.0, 1.0, x.max() + span, 4 * span])
    else:
        def model(x_, high, x0_, width):
            return _sigmoid(x_, float(chance), high, x0_, width)
        p0 = [high0, x0, span / 8]
        bounds = ([0.0, x.min() - span, 1e-3 * span], [1.0, x.max() + span, 4 * span])
    try:
        params, _ = curve_fit(model, x, y, p0=p0, bounds=bounds, maxfev=20000)
    except RuntimeError as exc:  # scipy's "Optimal parameters not found"
        warnings.warn(f"The sigmoid fit of the {method!r} curve did not converge ({exc}); add fractions around "
                      f"the drop.", ConvergenceWarning, stacklevel=2)
        params = np.array(p0, dtype=float)
    if chance is None:
        low, high, x0, width = params
    else:
        low, (high, x0, width) = float(chance), params
    rmse = float(np.sqrt(np.mean((_sigmoid(x, low, high, x0, width) - y) ** 2)))
    return SigmoidFit(low=float(low), high=float(high), log10_half=float(x0), width=float(width), rmse=rmse,
                      n_points=len(x))


def half_accuracy_point(curve, method="magnitude", chance=None):
    """Number of weights at half-saturation of a sigmoid fit (:func:`fit_sigmoid`) of the ``method`` curve.

    Returns NaN when the measured curve never falls below half of (peak - floor) above the floor (chance when
    given, else the lowest accuracy): the drop is not measured, and a fit would only extrapolate.
    """
    rows = curve[curve["method"] == method]
    acc = rows["accuracy"].to_numpy(float)
    floor = acc.min() if chance is None else float(chance)
    if not len(acc) or acc.min() >= floor + 0.5 * (acc.max() - floor) or acc.max() <= floor:
        return float("nan")
    return fit_sigmoid(curve, method, chance=chance).half_weights
