"""Pruning the delay kernel: by weight magnitude, or by delay ("shortening"), and the accuracy-vs-weights curve.

Grimaldi & Perrinet (2023, Fig. 7): pruning the smallest |K| keeps accuracy near its peak down to ~31x fewer
weights and falls to half with ~652 weights, whereas shortening (keeping only the shortest delays) drops fast.
"""
import numpy as np
import pandas as pd

from neurodata.errors import InvalidInputError
from neurodata.utils import check_option, progress

PRUNING_METHODS = ("magnitude", "shortening")


def prune_kernel(kernel, n_keep, method="magnitude"):
    """A copy of ``kernel`` keeping ``n_keep`` weights.

    magnitude: the ``n_keep`` largest |K| (ties broken by index); shortening: the taps of the shortest delays,
    whole delay slices first, the last partial slice by magnitude.
    """
    check_option(method, "method", PRUNING_METHODS)
    kernel = np.asarray(kernel)
    if kernel.ndim != 5:
        raise InvalidInputError(f"kernel must be (classes, 2, K_T, K_X, K_Y); got shape {kernel.shape}.")
    n_keep = int(n_keep)
    if not 0 <= n_keep <= kernel.size:
        raise InvalidInputError(f"n_keep must be in [0, {kernel.size}]; got {n_keep}.")
    if method == "magnitude":
        score = np.abs(kernel).ravel()
    else:  # shortest delays first; within a delay the largest magnitudes
        delay = np.broadcast_to(np.arange(kernel.shape[2])[None, None, :, None, None], kernel.shape).ravel()
        magnitude = np.abs(kernel).ravel()
        score = -delay.astype(float) + magnitude / (magnitude.max() + 1.0) * 0.5
    score = np.where(kernel.ravel() != 0, score, -np.inf)  # a zero tap is never "kept"
    keep = np.argsort(-score, kind="stable")[:n_keep]
    out = np.zeros_like(kernel)
    out.ravel()[keep] = kernel.ravel()[keep]
    return out


def pruning_curve(classifier, events, labels, *, fractions=None, methods=PRUNING_METHODS, skip=None,
                  verbose=False):
    """Held-out accuracy of ``classifier`` pruned to each fraction of its non-zero weights.

    Returns a DataFrame with columns method, fraction, n_weights, accuracy (one row per method x fraction).
    """
    n_total = int(np.count_nonzero(classifier.kernel_))
    if fractions is None:
        fractions = np.geomspace(1.0, 1.0 / n_total, 16)
    fractions = np.asarray(sorted(set(float(f) for f in fractions), reverse=True))
    if fractions.min() <= 0 or fractions.max() > 1:
        raise InvalidInputError(f"fractions must lie in (0, 1]; got {fractions}.")
    rows = []
    for method in methods:
        check_option(method, "method", PRUNING_METHODS)
        for fraction in progress(fractions, desc=f"pruning ({method})", verbose=verbose):
            n_keep = max(1, int(round(fraction * n_total)))
            pruned = classifier.with_kernel(prune_kernel(classifier.kernel_, n_keep, method))
            rows.append({"method": method, "fraction": n_keep / n_total, "n_weights": n_keep,
                         "accuracy": pruned.score(events, labels, skip=skip)})
    return pd.DataFrame(rows)


def half_accuracy_point(curve, method="magnitude", chance=0.0):
    """Number of weights where accuracy crosses half of (peak - chance) above chance, interpolated in log n.

    Returns NaN when the curve never falls that low.
    """
    rows = curve[curve["method"] == method].sort_values("n_weights")
    n, acc = rows["n_weights"].to_numpy(float), rows["accuracy"].to_numpy(float)
    half = chance + 0.5 * (acc.max() - chance)
    below = np.nonzero(acc < half)[0]
    if not len(below):
        return float("nan")
    k = below[-1]  # last point below half, the next one is above
    if k + 1 >= len(n):
        return float("nan")
    x0, x1 = np.log(n[k]), np.log(n[k + 1])
    y0, y1 = acc[k], acc[k + 1]
    return float(np.exp(x0 + (half - y0) * (x1 - x0) / (y1 - y0)))
