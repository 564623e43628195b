"""Time-resolved, derivative-based pairwise affinities between neurons (stage 1 of Dyballa et al. 2024).

Two neurons are affine at time ``t`` when their activity *changes* the same way around ``t``. We measure this
with a local (Gaussian-windowed) Pearson correlation of the smoothed time derivatives, then keep only the part
that exceeds what two independent signals with the same autocorrelation would give by chance:

    d_i      = (G_s' * x_i)                      derivative-of-Gaussian: smoothing and differentiation at once
    r_ij(t)  = local correlation of d_i, d_j in a Gaussian window of SD ``window`` around t
    s_ij     = null SD of r_ij for independent d_i, d_j (from their autocorrelations, see ``_null_sd``)
    a_ij(t)  = max(0, r_ij(t) - z s_ij) / (1 - z s_ij)        in [0, 1]

Properties (tested): non-negative, symmetric, unchanged by x_i -> g x_i + c (g > 0; a negative gain flips the
sign of the derivative and so turns a co-varying pair into an anti-varying one), ~0 on average for
independent random walks, and exactly 0 for most frames of unrelated pairs (a sparse, NTF-friendly tensor).
The paper gives the idea (affinity from derivatives, non-linear, time-resolved) but not a formula; the
choices here are documented in ``models/dyballa_2024_connectome.json``.

Missing frames (NaN in ``traces``, issue 30) are left out rather than imputed: the smoothed derivative is a
normalised convolution over the frames present (and missing itself at a missing frame or where less than half
of the smoothing kernel's weight is present); the local moments of a pair are taken over the frames where
both derivatives are present, the null SD grows by 1 / sqrt(coverage) (coverage = the fraction of the
window's weight present: fewer frames, more chance correlation), and a window with coverage below
``min_present`` gives NaN (missing) rather than a number.
"""
import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_scalar

_TRUNCATE = 4.0  # Gaussian kernels are cut at 4 SD (scipy's default)


def pair_indices(n_neurons):
    """Row/column indices (i < j) of the pairs, in the order used for the pair mode of the tensor."""
    return np.triu_indices(int(n_neurons), k=1)


def pairs_to_matrix(values, n_neurons):
    """Symmetric (N × N) matrix with zero diagonal from a vector over pairs (i < j)."""
    values = np.asarray(values)
    n_pairs = n_neurons * (n_neurons - 1) // 2
    if values.shape != (n_pairs,):
        raise InvalidInputError(f"Expected {n_pairs} pair values for {n_neurons} neurons; got shape "
                                f"{values.shape}.")
    mat = np.zeros((n_neurons, n_neurons), dtype=values.dtype)
    i, j = pair_indices(n_neurons)
    mat[i, j] = values
    mat[j, i] = values
    return mat


def check_window(window, n_times, *, unit="frames", scale=1.0):
    """Refuse a correlation window longer than the recording.

    The window is a Gaussian of SD ``window``; its ±2 SD span (4 × window, 95 % of its weight) must fit in
    the ``n_times`` frames, otherwise every local correlation is, in effect, the global one and the affinity
    is no longer time-resolved. ``scale`` converts frames to ``unit`` for the message.
    """
    if 4 * window > n_times:
        raise InvalidInputError(
            f"window={window * scale:g} {unit} (the SD of the correlation window; its ±2 SD span is "
            f"{4 * window * scale:g} {unit}) is longer than the recording ({n_times * scale:g} {unit}): the "
            "local correlation would be a global one. Give a window of at most a quarter of the recording.")


def smoothed_derivative(traces, smooth):
    """Derivative (per frame) of each column after Gaussian smoothing with SD ``smooth`` frames."""
    return gaussian_filter1d(np.asarray(traces, dtype=float), sigma=smooth, axis=0, order=1,
                             mode="nearest", truncate=_TRUNCATE)


def _null_sd(deriv, window, present=None):
    """Per-pair SD of the windowed correlation of two *independent* signals with these autocorrelations.

    For weights w (sum 1) and independent stationary signals with autocorrelations rho_i, rho_j,
    Var r_ij ~= sum_tau rho_i(tau) rho_j(tau) K(tau), K(tau) = sum_s w_s w_{s+tau}. For a Gaussian window of
    SD W, K(tau) = exp(-tau^2 / 4W^2) / (2 sqrt(pi) W). White noise gives 1 / n_eff = 1 / (2 sqrt(pi) W).

    ``present`` (frames × neurons bool, optional): the frames where each derivative is known; the
    autocovariance at lag tau is then averaged over the pairs of frames present (and scaled to the biased
    estimate of a complete recording, so that both paths agree when nothing is missing).
    """
    n_times = deriv.shape[0]
    max_lag = min(n_times - 1, int(np.ceil(2 * _TRUNCATE * window)))
    n_fft = int(2 ** np.ceil(np.log2(2 * n_times)))

    def autocov(a):
        spec = np.fft.rfft(a, n=n_fft, axis=0)
        return np.fft.irfft(spec * np.conj(spec), n=n_fft, axis=0)[:max_lag + 1]

    lags = np.arange(max_lag + 1)
    if present is None:
        acov = autocov(deriv - deriv.mean(axis=0))
    else:
        w = present.astype(float)
        n_present = np.maximum(w.sum(axis=0), 1.0)
        mean = (deriv * w).sum(axis=0) / n_present
        pairs = np.round(autocov(w))  # frames t with both t and t + tau present
        acov = autocov((deriv - mean) * w)
        acov = np.divide(acov, pairs, out=np.zeros_like(acov), where=pairs > 0) * (n_times - lags[:, None])
    var = acov[0]
    rho = np.divide(acov, var, out=np.zeros_like(acov), where=var > 0)
    kern = np.exp(-lags ** 2 / (4 * window ** 2)) / (2 * np.sqrt(np.pi) * window)
    kern[1:] *= 2  # lags +tau and -tau
    var_r = (rho * kern[:, None]).T @ rho
    return np.sqrt(np.clip(var_r, 0.0, None))


def _masked_derivative(x, present, smooth):
    """Derivative of the normalised convolution (G * (x m)) / (G * m) of each column, m = frames present.

    It is exact for a complete column (the plain derivative-of-Gaussian) and uses only the frames present
    otherwise. Returns (derivative with 0 where unknown, known): a derivative is known at a frame that is
    present and where at least half of the smoothing kernel's weight falls on frames present.
    """
    m = present.astype(float)
    xm = np.where(present, x, 0.0)

    def smooth_(a, order):
        return gaussian_filter1d(a, sigma=smooth, axis=0, order=order, mode="nearest", truncate=_TRUNCATE)

    num, den = smooth_(xm, 0), smooth_(m, 0)
    d_num, d_den = smooth_(xm, 1), smooth_(m, 1)
    safe = np.where(den > 0, den, 1.0)
    deriv = (d_num * den - num * d_den) / safe ** 2
    known = present & (den >= 0.5)
    return np.where(known, deriv, 0.0), known


def compute_affinity(traces, *, smooth, window, z=2.5, step=1, dtype=np.float32, chunk_pairs=4096,
                     out=None, min_present=0.5):
    """Time-resolved affinities of all neuron pairs of one recording.

    Parameters
    ----------
    traces : array (time × neurons)
        Fluorescence (any per-neuron offset and positive gain). NaN marks a frame not recorded (a neuron's
        trace over some frames, or whole frames); every neuron needs at least one frame.
    smooth : float
        SD (frames) of the Gaussian that smooths the traces before differentiation (noise robustness).
    window : float
        SD (frames) of the Gaussian window of the local correlation (time resolution of the affinity).
    z : float
        How many null SDs a correlation must exceed to count (0 keeps every positive correlation); 2.5, the
        one default of the suite (``DynamicConnectome`` and the model card use the same).
    step : int
        Keep every ``step``-th frame of the result (the affinity is smooth on the scale of ``window``).
    dtype : numpy dtype
        Output dtype; float32 halves the memory of whole-brain tensors.
    chunk_pairs : int
        Pairs processed at once; bounds the working memory to ~4 × time × chunk_pairs floats.
    out : array (ceil(time / step) × pairs), optional
        Pre-allocated output (e.g. one animal's slice of the tensor) filled in place.
    min_present : float in (0, 1]
        Only with missing frames: a pair's affinity at ``t`` is computed from the frames where both neurons
        are present, and is NaN (missing) when these carry less than this fraction of the window's weight.

    Returns
    -------
    affinity : array (ceil(time / step) × n_pairs) in [0, 1], pairs ordered as :func:`pair_indices`; NaN
        (missing) only where ``traces`` has missing frames (see ``min_present``).

    Raises
    ------
    InvalidInputError
        Fewer than 2 neurons or 3 frames, a window longer than the recording, infinite values, all values
        NaN, or a neuron with no frame recorded (its column is all NaN: leave it out).
    """
    x = check_data(traces, method="compute_affinity", name="traces", ndim=2, axes=("frames", "neurons"),
                   orientation="long", missing=True)
    n_times, n_neurons = x.shape
    check_scalar(smooth, "smooth", "compute_affinity", low=0.0, low_inclusive=False)
    check_scalar(window, "window", "compute_affinity", low=0.0, low_inclusive=False)
    check_scalar(z, "z", "compute_affinity", low=0.0)
    check_scalar(step, "step", "compute_affinity", kind=int, low=1)
    check_scalar(chunk_pairs, "chunk_pairs", "compute_affinity", kind=int, low=1)
    check_scalar(min_present, "min_present", "compute_affinity", low=0.0, low_inclusive=False, high=1.0)
    if n_neurons < 2:
        raise InvalidInputError(f"traces must have at least 2 neurons (columns); got {n_neurons}.")
    if n_times < 3:
        raise InvalidInputError(f"traces must have at least 3 frames; got {n_times}.")
    check_window(window, n_times, unit="frames")
    present = ~np.isnan(x)
    if not present.any():
        raise InvalidInputError(f"compute_affinity: traces are all NaN ({n_times} frames × {n_neurons} neurons, "
                                "no frame recorded); nothing to correlate.")
    empty = np.flatnonzero(~present.any(axis=0))
    if empty.size:
        raise InvalidInputError(f"compute_affinity: neuron column(s) {empty.tolist()[:10]} have no frame recorded "
                                "(all NaN); leave them out (DynamicConnectome treats such a neuron as absent in "
                                "that animal).")

    rows, cols = pair_indices(n_neurons)
    n_pairs = rows.size
    keep = slice(None, None, step)
    n_out = len(range(0, n_times, step))
    if out is None:
        out = np.empty((n_out, n_pairs), dtype=dtype)
    elif out.shape != (n_out, n_pairs):
        raise InvalidInputError(f"out must have shape {(n_out, n_pairs)}; got {out.shape}.")
    # Pair products dominate the cost: compute them in the output precision (float32 halves the traffic),
    # on derivatives scaled to unit SD so float32 never under/overflows.
    work = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(float)
    if not present.all():
        return _masked_affinity(x, present, smooth, window, z, keep, work, chunk_pairs, min_present, out)

    deriv = smoothed_derivative(x, smooth)
    null_sd = _null_sd(deriv, window)
    sd = deriv.std(axis=0)
    deriv = (deriv / np.where(sd > 0, sd, 1.0)).astype(work)
    # Local moments of each derivative, computed once.
    local_mean = gaussian_filter1d(deriv, window, axis=0, mode="nearest", truncate=_TRUNCATE)
    local_var = gaussian_filter1d(deriv ** 2, window, axis=0, mode="nearest", truncate=_TRUNCATE)
    local_var -= local_mean ** 2
    scale = np.max(local_var, axis=0, initial=0.0)
    # A (numerically) flat stretch has no direction of change: no affinity there. "Flat" = local variance
    # a million times below the neuron's largest (float32 cancellation in E[d^2] - E[d]^2 stays far below).
    local_sd = np.sqrt(np.clip(local_var, 0.0, None))
    valid = local_var > 1e-6 * np.maximum(scale, np.finfo(np.float32).tiny)

    for lo in range(0, n_pairs, chunk_pairs):
        i, j = rows[lo:lo + chunk_pairs], cols[lo:lo + chunk_pairs]
        cov = gaussian_filter1d(deriv[:, i] * deriv[:, j], window, axis=0, mode="nearest", truncate=_TRUNCATE)
        cov -= local_mean[:, i] * local_mean[:, j]
        denom = local_sd[:, i] * local_sd[:, j]
        ok = valid[:, i] & valid[:, j]
        r = np.divide(cov, denom, out=np.zeros_like(cov), where=ok)
        thresh = np.minimum(z * null_sd[i, j], 0.999)
        aff = np.clip((r - thresh) / (1.0 - thresh), 0.0, 1.0)
        out[:, lo:lo + chunk_pairs] = aff[keep]
    return out


def _with_next(w):
    """w[t] * w[t + 1]: frames whose successor is present too (the last frame's successor is itself, as the
    "nearest" boundary of the window filters has it)."""
    out = w.copy()
    out[:-1] *= w[1:]
    return out


def _masked_affinity(x, present, smooth, window, z, keep, work, chunk_pairs, min_present, out):
    """:func:`compute_affinity` over the frames present (NaN = missing); see the module docstring."""
    # Gaussian-window averages; at the recording's edges the window is cut (not padded with the edge frame,
    # which may be missing) and renormalised, so a complete stretch has coverage 1 up to the edges
    inside = gaussian_filter1d(np.ones(x.shape[0]), window, mode="constant", truncate=_TRUNCATE)[:, None]

    def local(a):
        return gaussian_filter1d(a, window, axis=0, mode="constant", truncate=_TRUNCATE) / inside

    # standardise first (robust to offsets and gains, and keeps float32 away from cancellation)
    centre = np.nanmean(x, axis=0)
    spread = np.nanstd(x, axis=0)
    x = (x - centre) / np.where(spread > 0, spread, 1.0)
    deriv, known = _masked_derivative(x, present, smooth)
    if not known.any(axis=0).all():
        bad = np.flatnonzero(~known.any(axis=0)).tolist()[:10]
        raise InvalidInputError(f"compute_affinity: neuron column(s) {bad} have no frame whose smoothed derivative "
                                "is known (too few frames recorded, none with half the smoothing kernel present).")
    null_sd = _null_sd(deriv, window, present=known)
    n_known = known.sum(axis=0)
    sd = np.sqrt(np.sum(deriv ** 2, axis=0) / n_known - (np.sum(deriv, axis=0) / n_known) ** 2)
    deriv = (deriv / np.where(sd > 0, sd, 1.0)).astype(work)
    w = known.astype(work)
    # each neuron's own local moments (over its known frames): the flat-stretch scale, and the pair moments
    # themselves when every neuron misses the same frames (whole frames dropped, the usual case)
    cover = local(w)
    cover_next = local(_with_next(w))
    enough = cover >= min_present
    safe = np.where(cover > 0, cover, 1).astype(work)
    mean = local(deriv) / safe
    var = local(deriv ** 2) / safe - mean ** 2
    scale = np.max(np.where(enough, var, 0), axis=0, initial=0.0)
    floor = 1e-6 * np.maximum(scale, np.finfo(np.float32).tiny)
    shared = bool(np.all(known == known[:, :1]))
    # Null variance of a windowed correlation over the frames present (see _null_sd): its lag-0 part
    # (a fraction kappa = K(0) / Var r of it) grows as 1 / C, C the window weight present; the lagged part as
    # Q / C^2, Q the weight on frames whose next frame is present too. Scattered missing frames (Q ~ C^2)
    # then raise the null SD a little; a contiguous gap (Q ~ C) shrinks the window and raises it by 1/sqrt(C).
    null_var = null_sd ** 2
    kappa = np.clip(np.divide(1.0 / (2 * np.sqrt(np.pi) * window), null_var, out=np.ones_like(null_var),
                              where=null_var > 0), 0.0, 1.0)
    rows, cols = pair_indices(x.shape[1])
    for lo in range(0, rows.size, chunk_pairs):
        i, j = rows[lo:lo + chunk_pairs], cols[lo:lo + chunk_pairs]
        if shared:
            c, q = safe[:, i], cover_next[:, i]
            mi, mj, vi, vj, ok = mean[:, i], mean[:, j], var[:, i], var[:, j], enough[:, i]
            cov = local(deriv[:, i] * deriv[:, j]) / c - mi * mj
        else:  # moments over the frames where both are known
            wij = w[:, i] * w[:, j]
            cij = local(wij)
            ok = cij >= min_present
            c = np.where(cij > 0, cij, 1).astype(work)
            q = local(_with_next(wij))
            di, dj = deriv[:, i] * wij, deriv[:, j] * wij
            mi, mj = local(di) / c, local(dj) / c
            vi, vj = local(di * deriv[:, i]) / c - mi ** 2, local(dj * deriv[:, j]) / c - mj ** 2
            cov = local(di * deriv[:, j]) / c - mi * mj
        flat = (vi <= floor[i]) | (vj <= floor[j])
        denom = np.sqrt(np.clip(vi, 0, None) * np.clip(vj, 0, None))
        r = np.divide(cov, denom, out=np.zeros_like(cov), where=ok & ~flat)
        # fewer frames in the window, more chance correlation
        k = kappa[i, j]
        c = np.where(ok, c, 1)
        thresh = np.minimum(z * np.sqrt(null_var[i, j] * (k * c + (1 - k) * np.where(ok, q, 1)) / c ** 2), 0.999)
        aff = np.clip((r - thresh) / (1.0 - thresh), 0.0, 1.0)
        aff[~ok] = np.nan
        out[:, lo:lo + chunk_pairs] = aff[keep]
    return out
