"""Assemble the (time × animals × pairs) affinity tensor from one or many recordings."""
import warnings

import numpy as np

from ..errors import InvalidInputError, NeurosuiteWarning
from .affinity import check_window, compute_affinity, pair_indices


def as_traces(recording, rate=None, name="recording", method="DynamicConnectome.fit"):
    """A recording as Traces (time × neurons) through the suite's input contract (``neurodata.inputs``):
    Traces as they are, an NWB path read with ``read_traces``, an array wrapped with ``rate`` (Hz, required
    for arrays). A bare array with far fewer frames than neurons is refused as transposed. NaN marks frames
    not recorded (``Traces(..., missing=True)`` for Traces); infinities are refused."""
    from ..inputs import as_time_traces

    return as_time_traces(recording, method=method, name=name, rate=rate, orientation="long", takes_bin_size=False,
                          missing=True)


def _frame_rate(tr):
    if tr.rate:
        return tr.rate
    dt = np.diff(tr.times)
    if dt.size == 0:
        raise InvalidInputError(f"{tr.name}: needs at least 2 samples.")
    med = float(np.median(dt))
    if np.max(np.abs(dt - med)) > 0.1 * med:
        warnings.warn(f"{tr.name}: timestamps are irregular (frame intervals {dt.min():.4g}–{dt.max():.4g} s); "
                      f"the affinity treats frames as evenly spaced at the median {med:.4g} s.",
                      NeurosuiteWarning, stacklevel=3)
    return 1.0 / med


def match_neurons(recordings):
    """The union of the recordings' neuron labels and, per recording, each label's column (-1: absent).

    Labels are ordered as they first appear (the first recording's order, then the new labels of the next
    ones). A neuron whose trace is all NaN in a recording counts as absent there.
    """
    labels, columns = [], []
    for tr in recordings:
        own = [str(c) for c in tr.channels]
        if len(set(own)) != len(own):
            raise InvalidInputError(f"{tr.name}: neuron labels are not unique.")
        labels += [c for c in own if c not in set(labels)]
    index = {lab: k for k, lab in enumerate(labels)}
    for tr in recordings:
        cols = np.full(len(labels), -1)
        recorded = ~np.all(np.isnan(np.asarray(tr.data, dtype=float)), axis=0)
        for c, lab in enumerate(str(c) for c in tr.channels):
            if recorded[c]:
                cols[index[lab]] = c
        columns.append(cols)
    if len(labels) < 2:
        raise InvalidInputError(f"The {len(recordings)} recording(s) have {len(labels)} neuron(s) in all; "
                                "at least 2 are needed (one pair).")
    return labels, columns


def _check_observed(tensor, labels, names):
    """Refuse an animal whose slice is all missing and a pair missing in every animal (unknown affinity)."""
    for a, name in enumerate(names):
        if np.isnan(tensor[:, a, :]).all():
            raise InvalidInputError(f"{name}: no affinity could be computed (every frame missing, or no window "
                                    "with enough frames present: see min_present); leave this recording out.")
    never = np.isnan(tensor).all(axis=(0, 1))
    if never.any():
        rows, cols = pair_indices(len(labels))
        bad = [f"({labels[rows[p]]!r}, {labels[cols[p]]!r})" for p in np.flatnonzero(never)[:5]]
        raise InvalidInputError(
            f"{int(never.sum())} neuron pair(s) are missing in every animal, e.g. {', '.join(bad)}: the two neurons "
            "are never recorded together (no animal has both, or not over any window with enough frames), so "
            "their affinity is unknown. Leave one neuron of each such pair out, or add a recording with both.")


def build_affinity_tensor(recordings, *, smooth, window, z, resolution=None, dtype=np.float32,
                          chunk_pairs=4096, min_present=0.5, verbose=False):
    """Affinity tensor (time × animals × pairs) of Traces recorded under one protocol.

    Parameters
    ----------
    recordings : list of Traces
        One per animal (time × neurons), one frame rate. NaN marks frames not recorded.
    smooth, window : float
        SDs (s) of the derivative's smoothing and of the correlation window (:func:`compute_affinity`).
    z : float
        Null SDs a local correlation must exceed.
    resolution : float or None
        Spacing (s) of the affinity time samples; None keeps every frame.
    dtype : numpy dtype
    chunk_pairs : int
    min_present : float
        Fraction of a window's weight that must fall on frames present (:func:`compute_affinity`).
    verbose : bool

    Returns
    -------
    tensor : array (time × animals × pairs)
        Affinities in [0, 1]; NaN (missing) where they are unknown: windows with too few frames present,
        frames after the end of a recording shorter than the longest, and every pair of a neuron that an
        animal lacks (neurons are matched across animals by label; their union is kept).
    times : array
        Time (s from the start) of each affinity sample.
    labels : list of str
        The union of the neuron labels, in the order of the pair mode (:func:`pair_indices`).
    rate : float
        Frame rate (Hz).

    Raises
    ------
    InvalidInputError
        Different frame rates, fewer than 2 neurons in all, an animal with no frame (or no window) present,
        or a pair of neurons that no animal records together.
    """
    from ..utils import logger, progress

    rates = [_frame_rate(tr) for tr in recordings]
    if max(rates) - min(rates) > 1e-3 * max(rates):
        raise InvalidInputError(f"Recordings have different frame rates {[f'{r:.4g}' for r in rates]} Hz; "
                                "resample them to one rate first (time is a shared mode of the tensor).")
    rate = float(np.mean(rates))
    for tr in recordings:
        if np.isnan(np.asarray(tr.data, dtype=float)).all():
            raise InvalidInputError(f"{tr.name}: every frame is missing (all NaN); there is nothing to correlate — "
                                    "leave this recording out.")
    n_frames = [tr.n_times for tr in recordings]
    n_t = max(n_frames)
    if len(set(n_frames)) > 1:  # frames after a recording's end were not recorded: missing, as NaN frames are
        logger.info("recordings have different lengths %s frames; the shorter ones' last frames are missing",
                    n_frames)
    for tr in recordings:
        check_window(window * rate, tr.n_times, unit="s", scale=1.0 / rate)
    labels, columns = match_neurons(recordings)
    step = 1 if resolution is None else max(1, round(resolution * rate))
    n_out = len(range(0, n_t, step))
    n_neurons = len(labels)
    n_pairs = n_neurons * (n_neurons - 1) // 2
    tensor = np.full((n_out, len(recordings), n_pairs), np.nan, dtype=dtype)
    for a, (tr, cols) in enumerate(progress(list(zip(recordings, columns)), desc="affinities",
                                            verbose=verbose)):
        here = np.flatnonzero(cols >= 0)  # this animal's neurons, in union order
        if here.size < 2:
            raise InvalidInputError(f"{tr.name}: {here.size} neuron(s) with a recorded frame; at least 2 are needed.")
        data = np.asarray(tr.data, dtype=float)[:, cols[here]]
        if tr.n_times < n_t:
            data = np.concatenate([data, np.full((n_t - tr.n_times, here.size), np.nan)])
        if here.size == n_neurons:
            target = tensor[:, a, :]
        else:
            target = np.empty((n_out, here.size * (here.size - 1) // 2), dtype=dtype)
        compute_affinity(data, smooth=smooth * rate, window=window * rate, z=z, step=step, dtype=dtype,
                         chunk_pairs=chunk_pairs, min_present=min_present, out=target)
        if here.size < n_neurons:  # pair (u, v) of the union, u < v, sits at u*n - u*(u+1)/2 + v - u - 1
            i, j = (here[k] for k in pair_indices(here.size))
            tensor[:, a, i * n_neurons - i * (i + 1) // 2 + j - i - 1] = target
    _check_observed(tensor, labels, [tr.name for tr in recordings])
    times = np.arange(0, n_t, step) / rate
    return tensor, times, labels, rate
