"""Assemble the (time × animals × pairs) affinity tensor from one or many recordings."""
import warnings

import numpy as np

from ..errors import InvalidInputError, NeurosuiteWarning
from .affinity import check_window, compute_affinity


def as_traces(recording, rate=None, name="recording", method="DynamicConnectome.fit"):
    """A recording as Traces (time × neurons) through the suite's input contract (``neurodata.inputs``):
    Traces as they are, an NWB path read with ``read_traces``, an array wrapped with ``rate`` (Hz, required
    for arrays). A bare array with far fewer frames than neurons is refused as transposed."""
    from ..inputs import as_time_traces

    return as_time_traces(recording, method=method, name=name, rate=rate, orientation="long", takes_bin_size=False)


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
    """Neuron labels present in every recording (order of the first) and each recording's column indices."""
    first = [str(c) for c in recordings[0].channels]
    if len(set(first)) != len(first):
        raise InvalidInputError(f"{recordings[0].name}: neuron labels are not unique.")
    common = set(first)
    for tr in recordings[1:]:
        labels = [str(c) for c in tr.channels]
        if len(set(labels)) != len(labels):
            raise InvalidInputError(f"{tr.name}: neuron labels are not unique.")
        common &= set(labels)
    labels = [c for c in first if c in common]
    dropped = {tr.name: tr.n_channels - len(labels) for tr in recordings if tr.n_channels != len(labels)}
    if dropped:
        warnings.warn(f"Neurons not labelled in every recording are left out (pairs must be comparable across "
                      f"animals): {dropped}. {len(labels)} neurons remain.", NeurosuiteWarning, stacklevel=3)
    if len(labels) < 2:
        raise InvalidInputError(f"Fewer than 2 neurons share a label across the {len(recordings)} recordings; "
                                "give matching ROI/neuron labels (Traces.channels).")
    columns = [[[str(c) for c in tr.channels].index(lab) for lab in labels] for tr in recordings]
    return labels, columns


def build_affinity_tensor(recordings, *, smooth, window, z, resolution=None, dtype=np.float32,
                          chunk_pairs=4096, verbose=False):
    """Affinity tensor (time × animals × pairs) of Traces recorded under one protocol.

    ``smooth``, ``window`` and ``resolution`` (spacing of the affinity time samples; None = every frame) are in
    seconds. Neurons are matched across animals by label; recordings of different length are cut to the
    shortest (with a warning). Returns (tensor, times (s from the start), neuron labels, frame rate).
    """
    from ..utils import progress

    rates = [_frame_rate(tr) for tr in recordings]
    if max(rates) - min(rates) > 1e-3 * max(rates):
        raise InvalidInputError(f"Recordings have different frame rates {[f'{r:.4g}' for r in rates]} Hz; "
                                "resample them to one rate first (time is a shared mode of the tensor).")
    rate = float(np.mean(rates))
    n_frames = [tr.n_times for tr in recordings]
    if len(set(n_frames)) > 1:
        warnings.warn(f"Recordings have different lengths {n_frames} frames; all are cut to the shortest "
                      f"({min(n_frames)}) so that time is aligned across animals.", NeurosuiteWarning,
                      stacklevel=2)
    n_t = min(n_frames)
    check_window(window * rate, n_t, unit="s", scale=1.0 / rate)
    labels, columns = match_neurons(recordings)
    step = 1 if resolution is None else max(1, round(resolution * rate))
    n_out = len(range(0, n_t, step))
    n_pairs = len(labels) * (len(labels) - 1) // 2
    tensor = np.empty((n_out, len(recordings), n_pairs), dtype=dtype)
    for a, (tr, cols) in enumerate(progress(list(zip(recordings, columns)), desc="affinities",
                                            verbose=verbose)):
        compute_affinity(np.asarray(tr.data[:n_t])[:, cols], smooth=smooth * rate, window=window * rate, z=z,
                         step=step, dtype=dtype, chunk_pairs=chunk_pairs, out=tensor[:, a, :])
    times = np.arange(0, n_t, step) / rate
    return tensor, times, labels, rate
