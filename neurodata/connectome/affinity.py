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


def _null_sd(deriv, window):
    """Per-pair SD of the windowed correlation of two *independent* signals with these autocorrelations.

    For weights w (sum 1) and independent stationary signals with autocorrelations rho_i, rho_j,
    Var r_ij ~= sum_tau rho_i(tau) rho_j(tau) K(tau), K(tau) = sum_s w_s w_{s+tau}. For a Gaussian window of
    SD W, K(tau) = exp(-tau^2 / 4W^2) / (2 sqrt(pi) W). White noise gives 1 / n_eff = 1 / (2 sqrt(pi) W).
    """
    n_times = deriv.shape[0]
    max_lag = min(n_times - 1, int(np.ceil(2 * _TRUNCATE * window)))
    centred = deriv - deriv.mean(axis=0)
    n_fft = int(2 ** np.ceil(np.log2(2 * n_times)))
    spec = np.fft.rfft(centred, n=n_fft, axis=0)
    acov = np.fft.irfft(spec * np.conj(spec), n=n_fft, axis=0)[:max_lag + 1]
    var = acov[0]
    rho = np.divide(acov, var, out=np.zeros_like(acov), where=var > 0)
    lags = np.arange(max_lag + 1)
    kern = np.exp(-lags ** 2 / (4 * window ** 2)) / (2 * np.sqrt(np.pi) * window)
    kern[1:] *= 2  # lags +tau and -tau
    var_r = (rho * kern[:, None]).T @ rho
    return np.sqrt(np.clip(var_r, 0.0, None))


def compute_affinity(traces, *, smooth, window, z=2.5, step=1, dtype=np.float32, chunk_pairs=4096,
                     out=None):
    """Time-resolved affinities of all neuron pairs of one recording.

    Parameters
    ----------
    traces : array (time × neurons)
        Fluorescence (any per-neuron offset and positive gain).
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

    Returns
    -------
    affinity : array (ceil(time / step) × n_pairs) in [0, 1], pairs ordered as :func:`pair_indices`.
    """
    x = check_data(traces, method="compute_affinity", name="traces", ndim=2, axes=("frames", "neurons"),
                   orientation="long")
    n_times, n_neurons = x.shape
    check_scalar(smooth, "smooth", "compute_affinity", low=0.0, low_inclusive=False)
    check_scalar(window, "window", "compute_affinity", low=0.0, low_inclusive=False)
    check_scalar(z, "z", "compute_affinity", low=0.0)
    check_scalar(step, "step", "compute_affinity", kind=int, low=1)
    check_scalar(chunk_pairs, "chunk_pairs", "compute_affinity", kind=int, low=1)
    if n_neurons < 2:
        raise InvalidInputError(f"traces must have at least 2 neurons (columns); got {n_neurons}.")
    if n_times < 3:
        raise InvalidInputError(f"traces must have at least 3 frames; got {n_times}.")
    check_window(window, n_times, unit="frames")

    deriv = smoothed_derivative(x, smooth)
    null_sd = _null_sd(deriv, window)
    # Pair products dominate the cost: compute them in the output precision (float32 halves the traffic),
    # on derivatives scaled to unit SD so float32 never under/overflows.
    work = np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.dtype(float)
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

    rows, cols = pair_indices(n_neurons)
    n_pairs = rows.size
    keep = slice(None, None, step)
    n_out = len(range(0, n_times, step))
    if out is None:
        out = np.empty((n_out, n_pairs), dtype=dtype)
    elif out.shape != (n_out, n_pairs):
        raise InvalidInputError(f"out must have shape {(n_out, n_pairs)}; got {out.shape}.")

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
