"""The spine's time-aware objects: SpikeTrains, Traces, Intervals.

They are immutable in spirit (arrays are copied in and marked read-only), carry seconds everywhere, and share
the same verbs: ``restrict(start, end)`` returns the same type; ``SpikeTrains.count`` bins into ``Traces``.
"""
import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..utils import check_array


def _frozen(arr):
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


def _check_window(start, end, what):
    if start is not None and end is not None and not end > start:
        raise InvalidInputError(f"{what}: the window end ({end}) must be after its start ({start}).")


def _pynapple():
    """pynapple, imported only when a conversion is asked for (it is an optional dependency)."""
    try:
        import pynapple
    except ImportError as exc:
        from ..errors import BackendUnavailableError

        raise BackendUnavailableError("Converting to or from pynapple needs pynapple: pip install pynapple "
                                      "(or the suite's test extra: pip install 'neurosuite[test]').") from exc
    return pynapple


def _check_pynapple_type(obj, types, method):
    nap = _pynapple()
    allowed = tuple(getattr(nap, t) for t in types)
    if not isinstance(obj, allowed):
        raise InvalidInputError(f"{method} takes a pynapple {' or '.join(types)}; got {type(obj).__name__}.")
    return nap


def _pynapple_metadata(obj):
    """A pynapple object's metadata table (``metadata`` since pynapple 0.8, ``_metadata`` before)."""
    md = getattr(obj, "metadata", None)
    if md is None:
        md = getattr(obj, "_metadata", None)
    return pd.DataFrame() if md is None else pd.DataFrame(md).copy()


def _span(support):
    """(first start, last end) of a pynapple IntervalSet, or (None, None) when it is empty."""
    if len(support) == 0:
        return None, None
    return float(np.min(support.start)), float(np.max(support.end))


class SpikeTrains:
    """Spike times (s) of several units, with unit metadata and a time support [start, end).

    Parameters
    ----------
    times : list of 1-D arrays
        Spike times in seconds, one array per unit; each must be finite, non-negative and sorted.
    unit_ids : sequence, optional
        One label per unit (default 0..n-1).
    metadata : pandas.DataFrame, optional
        One row per unit (e.g. ``population``, ``location``).
    start, end : float, optional
        Time support; default from the first and last spike.
    name : str
        Where the trains came from (for messages).
    """

    def __init__(self, times, unit_ids=None, metadata=None, start=None, end=None, name="units"):
        self.name = name
        trains = []
        for i, t in enumerate(times):
            t = check_array(t, f"{name}: spike times of unit {i}", ndim=1, min_rows=0)
            if t.size and t[0] < 0:
                raise InvalidInputError(f"{name}: unit {i} has negative spike times (first {t[0]!r} s).")
            if t.size > 1 and np.any(np.diff(t) < 0):
                raise InvalidInputError(f"{name}: spike times of unit {i} are not sorted.")
            trains.append(_frozen(t))
        self.times = tuple(trains)
        self.unit_ids = list(range(len(trains))) if unit_ids is None else list(unit_ids)
        if len(self.unit_ids) != len(trains):
            raise InvalidInputError(f"{name}: {len(self.unit_ids)} unit ids for {len(trains)} spike trains.")
        if metadata is None:
            metadata = pd.DataFrame(index=pd.Index(self.unit_ids, name="unit_id"))
        elif len(metadata) != len(trains):
            raise InvalidInputError(f"{name}: metadata has {len(metadata)} rows for {len(trains)} units.")
        self.metadata = metadata.copy()
        nonempty = [t for t in trains if t.size]
        self.start = float(start) if start is not None else (min(t[0] for t in nonempty) if nonempty else 0.0)
        self.end = float(end) if end is not None else (max(t[-1] for t in nonempty) if nonempty else self.start)
        if self.end < self.start:
            raise InvalidInputError(f"{name}: end ({self.end}) is before start ({self.start}).")

    @property
    def n_units(self):
        return len(self.times)

    @property
    def n_spikes(self):
        return int(sum(t.size for t in self.times))

    @property
    def duration(self):
        return self.end - self.start

    def __len__(self):
        return self.n_units

    def __repr__(self):
        return (f"<SpikeTrains {self.name!r}: {self.n_units} units, {self.n_spikes} spikes, "
                f"{self.start:.3f}–{self.end:.3f} s>")

    def restrict(self, start, end):
        """Spikes in [start, end), as new SpikeTrains with that support."""
        _check_window(start, end, f"{self.name}.restrict")
        kept = [t[np.searchsorted(t, start, "left"):np.searchsorted(t, end, "left")] for t in self.times]
        return SpikeTrains(kept, self.unit_ids, self.metadata, start, end, self.name)

    def count(self, bin_size, start=None, end=None):
        """Bin spikes into counts: Traces of shape (time bins × units), bins [start + k·bin_size, …).

        A last partial bin is dropped so every bin has the same width.
        """
        if not (np.isscalar(bin_size) and np.isfinite(bin_size) and bin_size > 0):
            raise InvalidInputError(f"{self.name}: bin size must be a positive number of seconds; got {bin_size!r}.")
        start = self.start if start is None else float(start)
        end = self.end if end is None else float(end)
        _check_window(start, end, f"{self.name}.count")
        n_bins = int(np.floor((end - start) / bin_size + 1e-9))
        if n_bins < 1:
            raise InvalidInputError(
                f"{self.name}: bin size {bin_size} s is longer than the window {start}–{end} s; no full bin fits.")
        counts = np.empty((n_bins, self.n_units), dtype=np.int64)
        stop = start + n_bins * bin_size
        for j, t in enumerate(self.times):
            sel = t[(t >= start) & (t < stop)]
            idx = np.minimum(((sel - start) / bin_size).astype(np.int64), n_bins - 1)
            counts[:, j] = np.bincount(idx, minlength=n_bins)
        return Traces(counts, rate=1.0 / bin_size, start=start, channels=self.unit_ids, unit="count",
                      name=f"{self.name}_counts")


    def to_pynapple(self):
        """This as a ``pynapple.TsGroup``: one ``Ts`` per unit (keys 0..n-1), the support as its time support,
        the unit metadata (plus a ``unit_id`` column holding :attr:`unit_ids`) as the group's metadata."""
        nap = _pynapple()
        support = nap.IntervalSet(self.start, self.end) if self.end > self.start else None
        group = {k: nap.Ts(np.asarray(t, dtype=float), time_support=support) for k, t in enumerate(self.times)}
        metadata = self.metadata.copy()
        metadata.index = pd.RangeIndex(self.n_units)
        if "unit_id" not in metadata.columns:
            metadata["unit_id"] = self.unit_ids
        return nap.TsGroup(group, time_support=support, metadata=metadata)

    @classmethod
    def from_pynapple(cls, group, name="units"):
        """SpikeTrains from a ``pynapple.TsGroup``; the support spans its time support (first start to last
        end); unit ids come from a ``unit_id`` metadata column when present, else the group's keys; the other
        metadata columns (not pynapple's computed ``rate``) become :attr:`metadata`."""
        _check_pynapple_type(group, ("TsGroup",), "SpikeTrains.from_pynapple")
        keys = list(group.keys())
        times = [np.asarray(group[k].index.values, dtype=float) for k in keys]
        metadata = _pynapple_metadata(group).drop(columns=["rate"], errors="ignore")
        unit_ids = list(metadata.pop("unit_id")) if "unit_id" in metadata.columns else keys
        metadata.index = pd.Index(unit_ids, name="unit_id")
        start, end = _span(group.time_support)
        return cls(times, unit_ids=unit_ids, metadata=metadata, start=start, end=end, name=name)

class Traces:
    """Time-first samples: ``data`` of shape (time × channels) or (time × channels × epochs).

    Give either ``times`` (one timestamp per sample, increasing) or ``rate`` (Hz) with ``start`` (s).
    ``epochs`` labels the third axis when there is one (trial events, or conditions of an evoked file).
    ``channel_units`` (one SI unit per channel) and ``channel_types`` (e.g. MNE's "mag", "grad", "eeg") are
    for recordings that mix sensor kinds; ``unit`` then defaults to their distinct units ("T/m, T").
    ``missing=True`` lets NaN mark samples not recorded (for methods that leave them out, such as
    ``neurodata.connectome``); infinities are refused either way.
    """

    def __init__(self, data, times=None, rate=None, start=0.0, channels=None, unit=None, name="traces",
                 epochs=None, channel_units=None, channel_types=None, missing=False):
        self.name = name
        data = np.asarray(data)
        if data.dtype.kind not in "biuf":
            raise InvalidInputError(f"{name}: data must be numeric; got dtype {data.dtype}.")
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim not in (2, 3) or data.shape[0] == 0:
            raise InvalidInputError(f"{name}: data must be (time × channels[× epochs]) with ≥ 1 sample; "
                                    f"got shape {data.shape}.")
        if data.dtype.kind == "f" and not np.all(np.isfinite(data)):
            bad = np.isinf(data) if missing else ~np.isfinite(data)
            if bad.any():
                raise InvalidInputError(f"{name}: data contains {int(bad.sum())} NaN or infinite value(s)"
                                        + ("." if missing else "; pass missing=True if NaN marks samples not "
                                           "recorded."))
        self.missing = bool(missing)
        self.data = _frozen(data)
        if (times is None) == (rate is None):
            raise InvalidInputError(f"{name}: give exactly one of 'times' or 'rate'.")
        if rate is not None:
            if not (np.isfinite(rate) and rate > 0):
                raise InvalidInputError(f"{name}: rate must be a positive number of Hz; got {rate!r}.")
            self.rate = float(rate)
            self.times = _frozen(float(start) + np.arange(data.shape[0]) / self.rate)
        else:
            times = check_array(times, f"{name}: timestamps", ndim=1, min_rows=0)
            if times.shape[0] != data.shape[0]:
                raise InvalidInputError(f"{name}: {times.shape[0]} timestamps for {data.shape[0]} samples.")
            if times.size > 1 and np.any(np.diff(times) <= 0):
                raise InvalidInputError(f"{name}: timestamps must be strictly increasing.")
            self.rate = None
            self.times = _frozen(times)
        self.channels_named = channels is not None  # named channels declare the layout (the writers' check)
        self.channels = list(range(data.shape[1])) if channels is None else list(channels)
        if len(self.channels) != data.shape[1]:
            raise InvalidInputError(f"{name}: {len(self.channels)} channel names for {data.shape[1]} channels.")
        for what, values in (("channel_units", channel_units), ("channel_types", channel_types)):
            if values is not None and len(values) != data.shape[1]:
                raise InvalidInputError(f"{name}: {len(values)} {what} for {data.shape[1]} channels.")
        self.channel_units = None if channel_units is None else [str(u) for u in channel_units]
        self.channel_types = None if channel_types is None else [str(t) for t in channel_types]
        if unit is None:
            unit = ", ".join(dict.fromkeys(self.channel_units)) if self.channel_units else "a.u."
        self.unit = unit
        if epochs is not None and (data.ndim != 3 or len(epochs) != data.shape[2]):
            raise InvalidInputError(f"{name}: {len(epochs)} epoch labels for data of shape {data.shape}.")
        self.epochs = None if epochs is None else list(epochs)

    @property
    def n_times(self):
        return self.data.shape[0]

    @property
    def n_channels(self):
        return self.data.shape[1]

    @property
    def start(self):
        return float(self.times[0])

    @property
    def end(self):
        """End of the support: one sample period after the last sample when the rate is known."""
        last = float(self.times[-1])
        return last + 1.0 / self.rate if self.rate else last

    @property
    def duration(self):
        return self.end - self.start

    def __repr__(self):
        rate = f"{self.rate:g} Hz" if self.rate else "irregular"
        return (f"<Traces {self.name!r}: {self.n_times} samples × {self.n_channels} channels "
                f"({rate}, {self.start:.3f}–{self.end:.3f} s, unit {self.unit!r})>")

    def restrict(self, start, end):
        """Samples with start ≤ t < end, as new Traces."""
        _check_window(start, end, f"{self.name}.restrict")
        keep = (self.times >= start) & (self.times < end)
        if not keep.any():
            raise InvalidInputError(f"{self.name}: no samples between {start} and {end} s.")
        common = dict(channels=self.channels if self.channels_named else None, unit=self.unit, name=self.name, epochs=self.epochs,
                      channel_units=self.channel_units, channel_types=self.channel_types)
        if self.rate:
            return Traces(self.data[keep], rate=self.rate, start=float(self.times[keep][0]), **common)
        return Traces(self.data[keep], times=self.times[keep], **common)


    def to_pynapple(self):
        """This as pynapple: a ``TsdFrame`` (time × channels, columns = :attr:`channels`, per-channel
        ``unit``/``type`` as column metadata when known), or a ``TsdTensor`` for time × channels × epochs;
        the time support is [start, end)."""
        nap = _pynapple()
        support = nap.IntervalSet(self.start, self.end) if self.end > self.start else None
        times = np.asarray(self.times, dtype=float)
        if self.data.ndim == 3:
            return nap.TsdTensor(t=times, d=np.array(self.data), time_support=support)
        info = {k: v for k, v in (("unit", self.channel_units), ("type", self.channel_types)) if v is not None}
        metadata = pd.DataFrame(info, index=self.channels) if info else None
        return nap.TsdFrame(t=times, d=np.array(self.data), columns=self.channels, time_support=support,
                            metadata=metadata)

    @classmethod
    def from_pynapple(cls, tsd, unit=None, name="traces", rate=None):
        """Traces from a pynapple ``Tsd`` (one channel), ``TsdFrame`` (columns become channels; ``unit`` and
        ``type`` column metadata become :attr:`channel_units` / :attr:`channel_types`) or ``TsdTensor``.

        ``rate`` (Hz) is inferred when the timestamps are regular (relative spread of the steps < 1e-6);
        otherwise the timestamps are kept as they are. Give ``rate`` to set it.
        """
        _check_pynapple_type(tsd, ("Tsd", "TsdFrame", "TsdTensor"), "Traces.from_pynapple")
        times = np.asarray(tsd.index.values, dtype=float)
        data = np.asarray(tsd.values)
        channels = list(tsd.columns) if hasattr(tsd, "columns") and data.ndim == 2 else None
        metadata = _pynapple_metadata(tsd) if channels is not None else pd.DataFrame()
        channel_units = list(metadata["unit"]) if "unit" in metadata.columns else None
        channel_types = list(metadata["type"]) if "type" in metadata.columns else None
        if rate is None and times.size > 1:
            steps = np.diff(times)
            if np.all(steps > 0) and np.ptp(steps) <= 1e-6 * np.mean(steps):
                rate = (times.size - 1) / (times[-1] - times[0])
        common = dict(channels=channels, unit=unit, name=name, channel_units=channel_units,
                      channel_types=channel_types)
        if rate is not None:
            return cls(data, rate=rate, start=float(times[0]), **common)
        return cls(data, times=times, **common)

class Intervals:
    """A set of [start, stop) intervals (s) with optional per-interval columns (trial labels, conditions…)."""

    def __init__(self, start, stop, table=None, name="intervals"):
        self.name = name
        start = check_array(start, f"{name}: start times", ndim=1, min_rows=0)
        stop = check_array(stop, f"{name}: stop times", ndim=1, min_rows=0)
        if start.shape != stop.shape:
            raise InvalidInputError(f"{name}: {start.size} start times but {stop.size} stop times.")
        if np.any(stop < start):
            bad = int(np.argmax(stop < start))
            raise InvalidInputError(f"{name}: interval {bad} stops ({stop[bad]}) before it starts ({start[bad]}).")
        self.start, self.stop = _frozen(start), _frozen(stop)
        if table is None:
            table = pd.DataFrame(index=range(start.size))
        elif len(table) != start.size:
            raise InvalidInputError(f"{name}: table has {len(table)} rows for {start.size} intervals.")
        self.table = table.reset_index(drop=True).copy()

    def __len__(self):
        return self.start.size

    @property
    def total_duration(self):
        return float(np.sum(self.stop - self.start))

    def __repr__(self):
        return f"<Intervals {self.name!r}: {len(self)} intervals, {self.total_duration:.3f} s in total>"

    def restrict(self, start, end):
        """Intervals overlapping [start, end), clipped to it."""
        _check_window(start, end, f"{self.name}.restrict")
        keep = (self.stop > start) & (self.start < end)
        return Intervals(np.maximum(self.start[keep], start), np.minimum(self.stop[keep], end),
                         self.table[keep], self.name)

    def to_dataframe(self):
        """start_time, stop_time and the extra columns, one row per interval."""
        df = self.table.copy()
        df.insert(0, "stop_time", self.stop)
        df.insert(0, "start_time", self.start)
        return df

    def to_pynapple(self):
        """This as a ``pynapple.IntervalSet`` with :attr:`table` as its metadata.

        pynapple sorts intervals and merges overlapping ones; rather than change the data silently, intervals
        that are unsorted, overlap or last zero seconds are refused (InvalidInputError).
        """
        nap = _pynapple()
        if np.any(self.stop <= self.start):
            raise InvalidInputError(f"{self.name}: pynapple drops intervals of zero duration; "
                                    f"{int(np.sum(self.stop <= self.start))} interval(s) here have stop == start.")
        if len(self) > 1 and np.any(self.start[1:] < self.stop[:-1]):
            raise InvalidInputError(f"{self.name}: intervals are unsorted or overlap, which a pynapple IntervalSet "
                                    "would sort and merge; convert non-overlapping subsets (e.g. per condition) "
                                    "instead.")
        metadata = self.table if len(self.table.columns) else None
        return nap.IntervalSet(start=np.array(self.start), end=np.array(self.stop), metadata=metadata)

    @classmethod
    def from_pynapple(cls, interval_set, name="intervals"):
        """Intervals from a ``pynapple.IntervalSet``; its metadata columns become :attr:`table`."""
        _check_pynapple_type(interval_set, ("IntervalSet",), "Intervals.from_pynapple")
        table = _pynapple_metadata(interval_set).reset_index(drop=True)
        if len(table) != len(interval_set):
            table = None
        return cls(np.asarray(interval_set.start, dtype=float), np.asarray(interval_set.end, dtype=float),
                   table=table, name=name)
