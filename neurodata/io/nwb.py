"""THE NWB SPINE: read recordings into the suite's objects; write simulations and analysis results.

Readers validate what they return and name the file and object in every error. Writers build the whole file
in memory, write it to a temporary file beside the target, fsync and rename — a failed write leaves nothing.
"""
import contextlib
import datetime
import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidInputError, NeurosuiteWarning, NWBContentError
from ..utils import atomic_path, check_output_path, logger
from .objects import Intervals, SpikeTrains, Traces

SUITE_MODULE = "neurosuite"  # processing module holding provenance and sources
_BEHAVIOR_CONTAINERS = ("Position", "CompassDirection", "SpatialSeries", "BehavioralTimeSeries",
                        "PupilTracking", "EyeTracking", "BehavioralEvents", "TimeSeries")


# ----------------------------------------------------------------------------------------------- reading
def _check_nwb_path(path):
    import h5py

    if not isinstance(path, (str, os.PathLike)):  # Path(dict) would raise a bare TypeError
        raise InvalidInputError(f"expected the path of an NWB file (str or os.PathLike); got "
                                f"{type(path).__name__}.")
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file.")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, not an NWB file.")
    if not h5py.is_hdf5(path):
        raise DataFileError(f"{path}: not an HDF5 file, so not an NWB file (NWB 2 files are HDF5).")
    return path


@contextlib.contextmanager
def open_nwb(path):
    """Open an NWB file read-only and yield the ``NWBFile``; turn unreadable files into DataFileError."""
    import pynwb

    path = _check_nwb_path(path)
    try:
        with warnings.catch_warnings():
            # pynwb/hdmf warn about cached namespaces and old schema versions in perfectly usable files
            warnings.simplefilter("ignore")
            io = pynwb.NWBHDF5IO(str(path), mode="r", load_namespaces=True)
            nwbfile = io.read()
    except Exception as exc:  # h5py/hdmf raise a zoo of types on truncated or foreign HDF5 files
        raise DataFileError(f"{path}: cannot be read as NWB ({type(exc).__name__}: {exc}).") from None
    try:
        yield nwbfile
    finally:
        io.close()


def _as_array(dataset, what):
    try:
        return np.asarray(dataset[:])
    except Exception as exc:
        raise DataFileError(f"{what}: data cannot be read ({type(exc).__name__}: {exc}); "
                            "the file may be truncated.") from None


@contextlib.contextmanager
def _open_hdf5(path):
    """Open an NWB file with h5py only (fast path for large flat arrays); same errors as ``open_nwb``."""
    import h5py

    path = _check_nwb_path(path)
    try:
        fh = h5py.File(path, "r")
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be opened as HDF5 ({type(exc).__name__}: {exc}); "
                            "the file may be truncated.") from None
    try:
        if "nwb_version" not in fh.attrs:
            raise DataFileError(f"{path}: is HDF5 but not NWB (no nwb_version attribute at the root).")
        yield fh
    finally:
        fh.close()


def _column_values(fh, dataset):
    values = dataset[()]
    if values.dtype == object and len(values) and isinstance(values[0], __import__("h5py").Reference):
        return [fh[ref].name.rsplit("/", 1)[-1] for ref in values]  # e.g. electrode_group → its name
    return [v.decode() if isinstance(v, bytes) else v for v in values]


def read_spikes(path):
    """Read the ``Units`` table: spike times per unit and the unit metadata columns → SpikeTrains.

    Reads the table's datasets directly with h5py (the NWB layout is fixed), which is several times faster
    than building pynwb's whole object tree for a file that only needs its spike times.
    """
    with _open_hdf5(path) as fh:
        units = fh.get("units")
        if units is None or "spike_times" not in units or len(units["id"]) == 0:
            raise NWBContentError(f"{path}: has no units table (or it is empty); nothing to read as spikes.")
        try:
            flat = units["spike_times"][()].astype(float)
            ends = units["spike_times_index"][()]
            ids = list(units["id"][()])
        except Exception as exc:
            raise DataFileError(f"{path}: units/spike_times cannot be read ({type(exc).__name__}: {exc}); "
                                "the file may be truncated.") from None
        times, begin = [], 0
        for uid, end in zip(ids, ends):
            t = flat[begin:end]
            begin = end
            if t.size and not np.all(np.isfinite(t)):
                raise NWBContentError(f"{path}: units/spike_times of unit {uid} contain NaN or infinite values.")
            if t.size and t[0] < 0:
                raise NWBContentError(f"{path}: units/spike_times of unit {uid} are negative (first {t[0]} s).")
            if t.size > 1 and np.any(np.diff(t) < 0):
                raise NWBContentError(f"{path}: units/spike_times of unit {uid} are not sorted.")
            times.append(t)
        meta = {}
        for col in units.attrs.get("colnames", []):
            col = col.decode() if isinstance(col, bytes) else str(col)
            skip = col in ("spike_times", "obs_intervals", "electrodes") or col.startswith("waveform")
            if skip or col not in units or f"{col}_index" in units or units[col].ndim != 1 \
                    or len(units[col]) != len(ids):
                continue
            meta[col] = _column_values(fh, units[col])
        metadata = pd.DataFrame(meta, index=pd.Index(ids, name="unit_id"))
        start, end = _observed_range(units, path)
        return SpikeTrains(times, unit_ids=ids, metadata=metadata, start=start, end=end,
                           name=f"{Path(path).name}:units")


def _observed_range(units, path):
    """(start, end) over every unit's obs_intervals, or (None, None): without them the support is the span of
    the spikes. Simulations write them (their run's time range), so a 2 s run reads back as 0–2 s."""
    if "obs_intervals" not in units:
        return None, None
    try:
        obs = np.asarray(units["obs_intervals"][()], dtype=float)
    except Exception as exc:
        raise DataFileError(f"{path}: units/obs_intervals cannot be read ({type(exc).__name__}: {exc}).") from None
    if obs.ndim != 2 or obs.shape[1] != 2 or obs.shape[0] == 0:
        return None, None
    if not np.all(np.isfinite(obs)) or np.any(obs[:, 1] < obs[:, 0]):
        raise NWBContentError(f"{path}: units/obs_intervals hold NaN or intervals that stop before they start.")
    return float(obs[:, 0].min()), float(obs[:, 1].max())


def _roi_series(nwb):
    """All RoiResponseSeries in the file as {"module/container/series": series}, DfOverF before Fluorescence."""
    from pynwb.ophys import DfOverF, Fluorescence, RoiResponseSeries

    found = {}
    modules = sorted(nwb.processing.items(), key=lambda kv: kv[0] != "ophys")
    for kind in (DfOverF, Fluorescence):
        for mod_name, module in modules:
            for cname, container in module.data_interfaces.items():
                if isinstance(container, kind):
                    for sname, series in container.roi_response_series.items():
                        found[f"{mod_name}/{cname}/{sname}"] = series
    for mod_name, module in modules:
        for sname, series in module.data_interfaces.items():
            if isinstance(series, RoiResponseSeries):
                found[f"{mod_name}/{sname}"] = series
    return found


def read_traces(path, name=None):
    """Read an optical-physiology ``RoiResponseSeries`` → Traces (time × ROIs).

    ``name`` picks one series by its full path ("ophys/Fluorescence/RoiResponseSeries") or any unique suffix
    of it; by default the first DfOverF series, else the first Fluorescence series.
    """
    with open_nwb(path) as nwb:
        found = _roi_series(nwb)
        if not found:
            raise NWBContentError(f"{path}: has no RoiResponseSeries (looked in Fluorescence and DfOverF of "
                                  "every processing module).")
        if name is None:
            key = next(iter(found))
        else:
            matches = [k for k in found if k == name or k.endswith("/" + name)]
            if len(matches) != 1:
                raise NWBContentError(f"{path}: {'no' if not matches else 'several'} RoiResponseSeries match "
                                      f"{name!r}. Allowed values are {', '.join(found)}.")
            key = matches[0]
        return _roi_series_to_traces(found[key], key, path)


def _roi_series_to_traces(series, key, path):
    """One RoiResponseSeries → Traces, refusing transposed data and NaNs."""
    what = f"{path}: {key}"
    data = _as_array(series.data, what)
    n_rois = len(series.rois.data) if series.rois is not None else None
    timestamps = None if series.timestamps is None else _as_array(series.timestamps, what + "/timestamps")
    n_time_expected = timestamps.shape[0] if timestamps is not None else None
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise NWBContentError(f"{what}: expected 2-D data (time × ROIs); got shape {data.shape}.")
    transposed = (n_rois is not None and data.shape[1] != n_rois and data.shape[0] == n_rois) or \
        (n_time_expected is not None and data.shape[0] != n_time_expected and data.shape[1] == n_time_expected)
    if transposed:
        raise NWBContentError(f"{what}: data of shape {data.shape} looks transposed (ROIs × time) for "
                              f"{n_rois} ROIs; NWB stores time first. Rewrite it as data.T.")
    if not np.all(np.isfinite(data)):
        n_bad = int(data.size - np.count_nonzero(np.isfinite(data)))
        raise NWBContentError(f"{what}: contains {n_bad} NaN or infinite value(s); the suite does not "
                              "impute silently — clean or interpolate the traces first.")
    roi_ids = list(series.rois.table.id[:][series.rois.data[:]]) if series.rois is not None else None
    kwargs = dict(channels=roi_ids, unit=series.unit, name=key)
    if timestamps is not None:
        return Traces(data, times=timestamps, **kwargs)
    return Traces(data, rate=series.rate, start=series.starting_time or 0.0, **kwargs)


def _timeseries_to_traces(series, key, path):
    what = f"{path}: {key}"
    data = _as_array(series.data, what)
    if data.ndim == 0 or data.shape[0] == 0:
        raise NWBContentError(f"{what}: is empty.")
    kwargs = dict(unit=series.unit, name=key)
    if series.timestamps is not None:
        times = _as_array(series.timestamps, what + "/timestamps")
        return Traces(data, times=times, **kwargs)
    return Traces(data, rate=series.rate, start=series.starting_time or 0.0, **kwargs)


def read_behavior(path):
    """Read behavioural series → {"Container/series": Traces}.

    Looks in ``processing/behavior`` and in ``acquisition`` (many labs keep Position there), taking
    SpatialSeries inside Position/CompassDirection-like containers and bare behavioural TimeSeries.
    """
    with open_nwb(path) as nwb:
        out = _behavior_series(nwb, path)
    if not out:
        raise NWBContentError(f"{path}: has no behavioural series (looked in processing/behavior and "
                              "acquisition for Position, CompassDirection, BehavioralTimeSeries, ...).")
    return out


def _behavior_series(nwb, path):
    from pynwb import TimeSeries

    places = []
    if "behavior" in nwb.processing:
        places.append(nwb.processing["behavior"].data_interfaces)
    places.append(nwb.acquisition)
    out = {}
    for place in places:
        for cname, obj in place.items():
            if type(obj).__name__ not in _BEHAVIOR_CONTAINERS:
                continue
            if isinstance(obj, TimeSeries):
                out[cname] = _timeseries_to_traces(obj, cname, path)
            else:
                children = getattr(obj, "spatial_series", None) or getattr(obj, "time_series", None) or {}
                for sname, series in children.items():
                    out[f"{cname}/{sname}"] = _timeseries_to_traces(series, f"{cname}/{sname}", path)
    return out


def read_intervals(path):
    """Read every ``TimeIntervals`` table (epochs, trials, invalid_times, custom ones) → {name: Intervals}."""
    with open_nwb(path) as nwb:
        return _interval_tables(nwb)


def _interval_tables(nwb):
    out = {}
    for name, table in (nwb.intervals or {}).items():
        df = table.to_dataframe()
        if len(df) == 0:
            continue
        extra = df.drop(columns=[c for c in ("start_time", "stop_time", "timeseries") if c in df.columns])
        out[name] = Intervals(df["start_time"].to_numpy(float), df["stop_time"].to_numpy(float),
                              extra.reset_index(drop=True), name=name)
    return out


# MNE's per-channel FIFF unit codes → SI unit text (MNE keeps data in SI base units: unit_mul is 0)
_FIFF_UNITS = {112: "T", 201: "T/m", 107: "V", 202: "A·m", 114: "A", 108: "m", 0: "a.u.", -1: "a.u."}
MNE_PICKS = ("meg", "eeg", "all")


def _mne_module():
    try:
        import mne
    except ImportError:
        from ..errors import BackendUnavailableError
        raise BackendUnavailableError("MNE is not installed; run: pip install mne") from None
    return mne


def read_mne_objects(path, condition=None):
    """Load an MNE FIF file as MNE objects: a list of Evoked (``-ave.fif``, file order), Epochs (``-epo.fif``)
    or Raw; an unreadable file is a DataFileError."""
    mne = _mne_module()
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file.")
    try:
        with mne.utils.use_log_level("error"):
            if "-ave.fif" in path.name or "_ave.fif" in path.name:
                evokeds = mne.read_evokeds(path, condition=condition)
                return evokeds if isinstance(evokeds, list) else [evokeds]
            if "-epo.fif" in path.name or "_epo.fif" in path.name:
                return mne.read_epochs(path)
            return mne.io.read_raw(path)
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be read by MNE ({type(exc).__name__}: {exc}).") from None


def _mne_pick(obj, picks, what):
    """A copy of ``obj`` holding the picked channels (MNE's own selection rules; bad channels left out for a
    channel-type pick, as MNE does)."""
    mne = _mne_module()
    if isinstance(picks, str) and "," in picks:  # "MEG 0111,MEG 0112" from a command line
        picks = [name.strip() for name in picks.split(",") if name.strip()]
    if isinstance(picks, str):
        if picks not in MNE_PICKS:
            from ..utils import check_option
            check_option(picks, "picks", MNE_PICKS)
    elif not (isinstance(picks, (list, tuple)) and picks and all(isinstance(p, str) for p in picks)):
        raise InvalidInputError(f"{what}: picks must be 'meg', 'eeg', 'all' or a list of channel names or "
                                f"types; got {picks!r}.")
    try:
        with mne.utils.use_log_level("error"):
            return obj.copy().pick(list(picks) if not isinstance(picks, str) else picks)
    except ValueError as exc:
        raise InvalidInputError(f"{what}: cannot pick channels {picks!r} ({exc}).") from None


def _mne_crop(obj, tmin, tmax, what):
    if tmin is None and tmax is None:
        return obj
    try:
        return obj.crop(tmin=tmin, tmax=tmax)
    except ValueError as exc:
        raise InvalidInputError(f"{what}: cannot crop to tmin={tmin}, tmax={tmax} ({exc}).") from None


def _order_conditions(labels, conditions, what):
    """Indices of the items to keep, in the order ``conditions`` names (default: the file's order)."""
    labels = [str(c) for c in labels]
    if conditions is None:
        return list(range(len(labels)))
    conditions = [str(c) for c in conditions]
    missing = [c for c in conditions if c not in labels]
    if missing or len(set(conditions)) != len(conditions):
        raise InvalidInputError(f"{what}: conditions {conditions} must name distinct conditions of the file; "
                                f"{missing or 'duplicates'} not usable. Allowed values are {labels}.")
    return [labels.index(c) for c in conditions]


def read_mne(obj, picks="meg", conditions=None, condition=None, tmin=None, tmax=None):
    """MNE ``Raw``/``Epochs``/``Evoked`` (or a FIF path) → Traces (time first, SI units per channel type).

    The suite's one MEG reader: RSA (:func:`neurodata.rsa.responses_from_mne`), alignment and ``info`` all go
    through it, so every path sees the same channels and the same condition order.

    Parameters
    ----------
    obj : path, mne.Evoked, list of mne.Evoked, mne.Epochs or mne.io.Raw
    picks : {"meg", "eeg", "all"} or list of str
        Channels: MEG sensors only (magnetometers and gradiometers, the default), EEG only, every channel of
        the file, or a list (or comma-separated string) of channel names or MNE channel types. Bad channels
        are left out of a type pick.
    conditions : list of str, optional
        Evoked: the conditions to keep, in this order (default: all, in the file's order). Epochs: the event
        names to keep (in this order of preference; epochs stay in time order).
    condition : str or int, optional
        One evoked condition → 2-D Traces (time × channels).
    tmin, tmax : float, optional
        Crop to this time window (s).

    Returns
    -------
    Traces with ``rate`` (the sampling frequency), ``channel_types`` ("mag", "grad", "eeg", ...) and
    ``channel_units`` ("T", "T/m", "V"): Raw → (time × channels); Evoked → (time × channels), several
    conditions → (time × channels × conditions) with their names as ``epochs``; Epochs → (time × channels ×
    epochs) with each epoch's event name as ``epochs``.
    """
    mne = _mne_module()
    what = "read_mne"
    if isinstance(obj, (str, os.PathLike)):
        what = f"{obj}"
        obj = read_mne_objects(obj, condition=condition)
        if condition is not None and isinstance(obj, list):
            obj = obj[0]
    elif condition is not None and isinstance(obj, list):
        names = [str(e.comment) for e in obj]
        if str(condition) not in names:
            raise InvalidInputError(f"read_mne: no condition {condition!r}. Allowed values are {names}.")
        obj = obj[names.index(str(condition))]
    if isinstance(obj, list):
        if not obj or not all(isinstance(e, mne.Evoked) for e in obj):
            raise InvalidInputError("read_mne: a list must hold MNE Evoked objects.")
        keep = _order_conditions([e.comment for e in obj], conditions, what)
        items = [_mne_crop(_mne_pick(obj[i], picks, what), tmin, tmax, what) for i in keep]
        first = items[0]
        if any(not np.array_equal(e.times, first.times) or e.ch_names != first.ch_names for e in items):
            raise InvalidInputError(f"{what}: the Evoked objects have different time axes or channels.")
        data = np.stack([e.data.T for e in items], axis=2)
        labels = [str(e.comment) for e in items]
        if conditions is None and len(obj) == 1:
            data, labels = data[:, :, 0], None  # a single evoked response is 2-D, as an Evoked object is
        return _mne_traces(first, data, "evoked", labels)
    if isinstance(obj, mne.Evoked):
        ev = _mne_crop(_mne_pick(obj, picks, what), tmin, tmax, what)
        return _mne_traces(ev, ev.data.T, obj.comment or "evoked", None)
    if isinstance(obj, mne.BaseEpochs):
        ep = _mne_pick(obj, picks, what)
        if conditions is not None:
            _order_conditions(list(ep.event_id), conditions, what)
            ep = ep[[str(c) for c in conditions]]
        ep = _mne_crop(ep, tmin, tmax, what)
        code_to_name = {v: k for k, v in ep.event_id.items()}
        labels = [code_to_name.get(code, str(code)) for code in ep.events[:, 2]]
        return _mne_traces(ep, ep.get_data(copy=True).transpose(2, 1, 0), "epochs", labels)
    if isinstance(obj, mne.io.BaseRaw):
        raw = _mne_crop(_mne_pick(obj, picks, what), tmin, tmax, what)
        return _mne_traces(raw, raw.get_data().T, "raw", None, start=raw.first_time)
    raise InvalidInputError(f"read_mne: expected an MNE Raw, Epochs or Evoked object or a FIF path; "
                            f"got {type(obj).__name__}.")


def _mne_traces(inst, data, name, epochs, start=None):
    """Traces on MNE's regular grid: rate = sfreq, start = the first sample's time."""
    chs = inst.info["chs"]
    units = [_FIFF_UNITS.get(int(ch["unit"]), "a.u.") for ch in chs]
    start = float(inst.times[0]) if start is None else float(start)
    return Traces(data, rate=float(inst.info["sfreq"]), start=start, channels=list(inst.ch_names),
                  channel_units=units, channel_types=list(inst.get_channel_types()), name=name, epochs=epochs)


def info(path):
    """What is inside an NWB (or MNE FIF) file: units, traces, behaviour, intervals, with counts and durations."""
    path = Path(path)
    if path.suffix in (".fif", ".gz") and ".fif" in path.name:
        tr = read_mne(path, picks="all")  # the whole file; readers pick MEG by default
        types = {t: tr.channel_types.count(t) for t in dict.fromkeys(tr.channel_types)}
        units = {t: tr.channel_units[tr.channel_types.index(t)] for t in types}
        return {"file": str(path), "format": "FIF (MNE)",
                "traces": {tr.name: {"samples": tr.n_times, "channels": tr.n_channels,
                                     "conditions": list(tr.epochs) if tr.epochs is not None else None,
                                     "start_s": tr.start, "duration_s": tr.duration, "rate_hz": tr.rate,
                                     "channel_types": types, "units": units}}}
    out = {"file": str(path), "format": "NWB"}
    with open_nwb(path) as nwb:  # one pass over the pynwb tree; spikes come from the h5py fast path below
        out["identifier"] = nwb.identifier
        out["session_description"] = nwb.session_description
        has_units = nwb.units is not None and len(nwb.units) > 0
        traces = {key: _roi_series_to_traces(series, key, path) for key, series in _roi_series(nwb).items()}
        behavior = _behavior_series(nwb, path)
        intervals = _interval_tables(nwb)
        if SUITE_MODULE in nwb.processing:
            prov = nwb.processing[SUITE_MODULE]["provenance"].to_dataframe().iloc[0]
            out["neurosuite"] = {"kind": prov["kind"], "analysis": prov["analysis"]}
    if has_units:
        sp = read_spikes(path)
        out["units"] = {"count": sp.n_units, "spikes": sp.n_spikes, "start_s": sp.start, "duration_s": sp.duration,
                        "columns": list(sp.metadata.columns)}
    if traces:
        out["traces"] = {name: {"samples": tr.n_times, "rois": tr.n_channels, "start_s": tr.start,
                                "duration_s": tr.duration, "unit": tr.unit} for name, tr in traces.items()}
    if behavior:
        out["behavior"] = {k: {"samples": v.n_times, "channels": v.n_channels, "duration_s": v.duration,
                               "unit": v.unit} for k, v in behavior.items()}
    if intervals:
        out["intervals"] = {k: {"count": len(v), "total_s": v.total_duration} for k, v in intervals.items()}
    return out


# ----------------------------------------------------------------------------------------------- writing
def sha256(path, chunk=1 << 20):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_record(src):
    path = Path(src)
    if not path.exists():
        raise DataFileError(f"{path}: source file does not exist.")
    identifier = path.name
    try:
        import h5py
        if h5py.is_hdf5(path):
            with h5py.File(path, "r") as fh:
                if "identifier" in fh:
                    raw = fh["identifier"][()]
                    identifier = raw.decode() if isinstance(raw, bytes) else str(raw)
    except OSError:
        pass
    return {"identifier": identifier, "path": str(path.resolve()), "sha256": sha256(path)}


def _json(obj, what):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"{type(o).__name__} is not JSON-serialisable")
    try:
        return json.dumps(obj, default=default, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{what} must be JSON-serialisable (numbers, strings, lists, dicts): {exc}") from None


def _new_nwbfile(description, identifier=None, subject_id="in-silico", subject_description=None):
    from pynwb import NWBFile
    from pynwb.file import Subject

    # nwbinspector treats a missing Subject, sex or age as critical. The "subject" of a file the suite writes
    # is an artefact (a model run, a derived result): it comes into being when the file is written, so its
    # date of birth is the session start, and sex is "U" (unknown / not applicable).
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    subject = Subject(subject_id=subject_id, sex="U", date_of_birth=now,
                      description=subject_description or "simulated circuit (neurosuite)")
    return NWBFile(session_description=description or "neurosuite output",
                   identifier=identifier or str(uuid.uuid4()), session_start_time=now, subject=subject)


def _traces_description(traces, description):
    text = description or f"{traces.name}"
    chans = ", ".join(map(str, traces.channels[:20])) + (", ..." if traces.n_channels > 20 else "")
    text += f" ({traces.n_times} time points x {traces.n_channels} channels: {chans}"
    if traces.channel_units and len(set(traces.channel_units)) > 1:
        text += "; unit per channel: " + ", ".join(traces.channel_units[:20]) + (", ..." if traces.n_channels > 20 else "")
    if traces.epochs is not None:
        text += f"; third axis: {', '.join(map(str, list(traces.epochs)[:50]))}"
    return text + ")"


def _is_wide(traces):
    # nwbinspector's CRITICAL check_data_orientation takes any axis longer than time for a transposed series
    return any(n > traces.n_times for n in traces.data.shape[1:])


def _timeseries(traces, name=None, description=None):
    """Traces → TimeSeries (time first, timestamps or rate). A short series with more channels than time points
    (a few bins of many neurons) would look transposed to every NWB tool, so it becomes a time-first table
    instead (one row per time point: ``timestamps``, ``data``), which ``read_results`` reads back as Traces."""
    from pynwb import TimeSeries

    if not isinstance(traces, Traces):
        raise InvalidInputError(f"expected Traces for {name!r}; got {type(traces).__name__}.")
    name = name or traces.name.replace("/", "_")
    text = _traces_description(traces, description)
    if _is_wide(traces):
        return _time_table(traces, name, text)
    kwargs = dict(name=name, data=np.asarray(traces.data), unit=traces.unit, description=text)
    if traces.rate:
        kwargs.update(rate=traces.rate, starting_time=float(traces.times[0]))
    else:
        kwargs.update(timestamps=np.asarray(traces.times))
    return TimeSeries(**kwargs)


_TIME_TABLE_COLUMNS = ("timestamps", "data")
_UNIT_PREFIX = "unit: "


def _time_table(traces, name, text):
    from hdmf.common import DynamicTable, VectorData

    rate = f", sampled at {traces.rate:g} Hz" if traces.rate else ""
    columns = [VectorData(name="timestamps", description=f"time of each row (s){rate}", data=np.asarray(traces.times)),
               VectorData(name="data", description=_UNIT_PREFIX + str(traces.unit), data=np.asarray(traces.data))]
    return DynamicTable(name=name, description=text + "; stored one row per time point, as there are fewer time "
                        "points than channels", columns=columns)


def _time_table_to_traces(table, name, path):
    what = f"{path}: {name}"
    times = _as_array(table["timestamps"].data, what + "/timestamps")
    data = _as_array(table["data"].data, what + "/data")
    desc = table["data"].description
    unit = desc[len(_UNIT_PREFIX):] if desc.startswith(_UNIT_PREFIX) else "a.u."
    # a time-first table declares its layout: one row per time point
    return Traces(data, times=times, unit=unit, name=name, channels=range(data.shape[1]))


def _dataframe_table(df, name, description):
    from hdmf.common import DynamicTable

    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"table {name!r} must be a pandas DataFrame; got {type(df).__name__}.")
    if len(df) == 0:
        raise InvalidInputError(f"table {name!r} is empty; nothing to write.")
    from hdmf.common import VectorData

    columns = []
    for col in df.columns:
        values = df[col].to_numpy()
        if values.dtype == object:
            values = np.array([_json(v, f"table {name!r} column {col!r}") if not isinstance(v, str) else v
                               for v in values], dtype=object)
        columns.append(VectorData(name=str(col), description=f"column {col}", data=values))
    return DynamicTable(name=name, description=description, columns=columns)


def _array_table(arr, name, description=None):
    from hdmf.common import DynamicTable, VectorData

    arr = np.asarray(arr)
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(f"array {name!r} must be numeric or boolean; got dtype {arr.dtype}.")
    shape = tuple(arr.shape)
    stored = arr.reshape(1) if arr.ndim == 0 else arr
    if stored.shape[0] == 0:
        raise InvalidInputError(f"array {name!r} is empty; nothing to write.")
    # the shape closes the description so that a 0-d array reads back as 0-d ("Array of shape ().")
    text = f"{(description or name).rstrip('.')}. Array of shape {shape}."
    return DynamicTable(name=name, description=text,
                        columns=[VectorData(name="values", description=f"row i holds {name}[i]", data=stored)])


def _array_shape(description):
    """The shape written by ``_array_table`` (or the JSON of files written before it), else None."""
    import re

    found = re.search(r"Array of shape \(([0-9, ]*)\)\.$", description)
    if found:
        return [int(n) for n in found.group(1).replace(" ", "").split(",") if n]
    try:
        meta = json.loads(description)
    except ValueError:
        return None
    return meta["shape"] if isinstance(meta, dict) and meta.get("kind") == "array" else None


def _add_intervals(nwb, name, intervals):
    from pynwb.epoch import TimeIntervals

    if not isinstance(intervals, Intervals):
        raise InvalidInputError(f"intervals {name!r} must be neurodata.io.Intervals; got {type(intervals).__name__}.")
    if len(intervals) == 0:
        raise InvalidInputError(f"intervals {name!r} are empty; nothing to write.")
    table = TimeIntervals(name=name, description=f"{name} ({len(intervals)} intervals)")
    for col in intervals.table.columns:
        table.add_column(name=str(col), description=f"column {col}")
    for i in range(len(intervals)):
        row = {str(c): intervals.table[c].iloc[i] for c in intervals.table.columns}
        row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
        table.add_row(start_time=float(intervals.start[i]), stop_time=float(intervals.stop[i]), **row)
    if name == "trials":
        nwb.trials = table
    elif name == "epochs":
        nwb.epochs = table
    else:
        nwb.add_time_intervals(table)


def _add_ophys(nwb, name, traces):
    """Fluorescence traces as a recording holds them: one ROI per channel in an ImageSegmentation plane and
    ``processing/ophys/Fluorescence/<name>`` (time × ROIs), so that ``read_traces`` reads them back."""
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel

    if not isinstance(traces, Traces) or traces.data.ndim != 2:
        raise InvalidInputError(f"ophys[{name!r}] must be 2-D Traces (time × ROIs).")
    if "ophys" not in nwb.processing:
        device = nwb.create_device(name="simulated_microscope", description="in-silico imaging (neurosuite)")
        channel = OpticalChannel(name="green", description="GCaMP-like indicator", emission_lambda=510.0)
        rate = traces.rate
        if rate is None:
            rate = float(1.0 / np.median(np.diff(traces.times))) if traces.n_times > 1 else 1.0
        nwb.create_imaging_plane(name="plane", optical_channel=channel, description="simulated plane",
                                         device=device, excitation_lambda=488.0, indicator="GCaMP (simulated)",
                                         location="simulated", imaging_rate=float(rate))
        module = nwb.create_processing_module(name="ophys", description="optical physiology (simulated)")
        module.add(ImageSegmentation(name="ImageSegmentation"))
        module.add(Fluorescence(name="Fluorescence"))  # parent first, so ROI regions and series share an ancestor
    module = nwb.processing["ophys"]
    ids = [int(c) for c in traces.channels] if all(isinstance(c, (int, np.integer)) for c in traces.channels) \
        else list(range(traces.n_channels))
    planes = module["ImageSegmentation"].create_plane_segmentation(
        name=f"{name}_rois", description=f"one ROI per channel of {name}", imaging_plane=nwb.imaging_planes["plane"])
    side = int(np.ceil(np.sqrt(len(ids))))
    for k, rid in enumerate(ids):
        mask = np.zeros((side, side))
        mask[k // side, k % side] = 1.0  # a distinct pixel per ROI: simulated cells have no footprint
        planes.add_roi(id=rid, image_mask=mask)
    region = planes.create_roi_table_region(region=list(range(len(ids))), description=f"ROIs of {name}")
    timing = {"rate": traces.rate, "starting_time": traces.start} if traces.rate else {"timestamps": np.asarray(traces.times)}
    module["Fluorescence"].create_roi_response_series(name=name, data=np.asarray(traces.data), rois=region,
                                                     unit=traces.unit, **timing)


def _has_dict(obj):
    if isinstance(obj, dict):
        return True
    return isinstance(obj, (list, tuple)) and any(_has_dict(v) for v in obj)


def _flatten_parameters(obj, path=()):
    """(path, leaf) pairs of nested parameters; dicts (and lists holding dicts) are unpacked into rows, as
    nwbinspector asks of table cells, so that every leaf is JSON without a dict in it."""
    if isinstance(obj, dict) and obj:
        for key in sorted(obj, key=str):
            yield from _flatten_parameters(obj[key], path + (str(key),))
    elif isinstance(obj, (list, tuple)) and obj and _has_dict(obj):
        for i, value in enumerate(obj):
            yield from _flatten_parameters(value, path + (i,))
    else:
        yield path, obj


def _unflatten_parameters(rows):
    """Inverse of ``_flatten_parameters``: str keys rebuild dicts, int keys lists (rows come in order)."""
    def insert(node, path, value):
        if not path:
            return value
        key, rest = path[0], path[1:]
        if node is None:
            node = [] if isinstance(key, int) else {}
        if isinstance(node, list):
            if key == len(node):
                node.append(None)
            node[key] = insert(node[key], rest, value)
        else:
            node[key] = insert(node.get(key), rest, value)
        return node

    root = None
    for path, value in rows:
        root = insert(root, tuple(path), value)
    return {} if root is None else root


def _parameters_table(parameters, name="parameters"):
    from hdmf.common import DynamicTable

    table = DynamicTable(name=name, description="every parameter used, one row per value: 'parameter' joins "
                         "the nested keys with dots, 'path' is the key path as JSON, 'value' the value as JSON")
    for col, text in (("parameter", "name (nested keys joined by dots)"), ("path", "key path (JSON list)"),
                      ("value", "value (JSON)")):
        table.add_column(name=col, description=text)
    for path, value in _flatten_parameters(parameters or {}):
        table.add_row(parameter=".".join(map(str, path)) or "(none)", path=json.dumps(list(path)),
                      value=_json(value, f"parameter {'.'.join(map(str, path))!r}"))
    return table


def _read_parameters(table):
    df = table.to_dataframe()
    rows = [(tuple(json.loads(p)), json.loads(v)) for p, v in zip(df["path"], df["value"])]
    return _unflatten_parameters(rows)


def _add_provenance(nwb, kind, analysis, parameters, sources):
    from hdmf.common import DynamicTable

    from .. import __version__

    module = nwb.create_processing_module(name=SUITE_MODULE, description="neurosuite provenance: how this file "
                                          "was made (its parameters) and from which sources")
    prov = DynamicTable(name="provenance", description="one row: what made this file")
    for col, text in (("kind", "simulation or results"), ("analysis", "the analysis that wrote this file"),
                      ("software", "software and version")):
        prov.add_column(name=col, description=text)
    prov.add_row(kind=kind, analysis=analysis, software=f"neurosuite {__version__}")
    module.add(prov)
    module.add(_parameters_table(parameters))
    if sources:
        table = DynamicTable(name="sources", description="input files this result was computed from")
        for col in ("identifier", "path", "sha256"):
            table.add_column(name=col, description=col)
        for rec in sources:
            table.add_row(**rec)
        module.add(table)


def _write_atomically(nwb, path, *, overwrite=False, inputs=()):
    """Write ``nwb`` through the suite's one atomic writer (existing files, inputs and the suffix checked)."""
    from pynwb import NWBHDF5IO

    try:
        with atomic_path(path, overwrite=overwrite, inputs=inputs, suffix=".nwb") as tmp:
            with NWBHDF5IO(tmp, mode="w") as io:
                io.write(nwb)
    except ValueError as exc:  # content HDF5 cannot store (e.g. a NUL in a string); the temp file is gone
        if isinstance(exc, InvalidInputError):
            raise
        raise InvalidInputError(f"{path}: cannot be written as NWB: {exc}. Nothing was written.") from None
    logger.info("wrote %s", path)
    return Path(path)


def write_simulation(path, *, spikes=None, traces=None, stimuli=None, intervals=None, tables=None, ophys=None,
                     parameters=None, description="neurosuite simulation", resolution=None, identifier=None,
                     overwrite=False):
    """Write a simulation as if it were a recording, to a new ``.nwb`` file.

    spikes     {population: SpikeTrains} → one ``Units`` table, a ``population`` column, ``resolution`` (s)
    traces     {name: Traces} → ``acquisition`` TimeSeries (state variables, SI units)
    stimuli    {name: Traces} → ``stimulus`` TimeSeries
    intervals  {name: Intervals} → TimeIntervals ("trials" and "epochs" go to their standard places)
    tables     {name: DataFrame} → DynamicTables in the ``simulation`` processing module (weights, ...)
    ophys      {name: Traces} → ``processing/ophys/Fluorescence/<name>`` with one ROI per channel
    parameters dict → ``processing/neurosuite/parameters`` (one row per value, JSON) so the run can be reproduced

    The time range of the run is each population's SpikeTrains support [start, end) (give ``start=0,
    end=duration`` for a simulation), stored as every unit's ``obs_intervals``: the Units table's own
    record of when a unit was observed, which ``read_spikes`` takes as the time support and nwbinspector
    checks the spikes against.
    overwrite  an existing ``path`` raises ``OutputExistsError`` unless True
    """
    from pynwb.misc import Units

    check_output_path(path, overwrite=overwrite, suffix=".nwb")  # fail before building anything
    nwb = _new_nwbfile(description, identifier)
    if spikes:
        units = Units(name="units", description="simulated units", resolution=resolution)
        columns = {}
        for trains in spikes.values():
            for col in trains.metadata.columns:
                if col != "population":
                    columns.setdefault(str(col), None)
        units.add_column(name="population", description="simulated population")
        for col in columns:
            units.add_column(name=col, description=f"unit property {col}")
        for population, trains in spikes.items():
            if not isinstance(trains, SpikeTrains):
                raise InvalidInputError(f"spikes[{population!r}] must be SpikeTrains; got {type(trains).__name__}.")
            for j, t in enumerate(trains.times):
                row = {col: (trains.metadata[col].iloc[j] if col in trains.metadata.columns else "")
                       for col in columns}
                row = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
                units.add_unit(spike_times=np.asarray(t), population=str(population),
                               obs_intervals=_support(trains), **row)
        nwb.units = units
    for name, tr in (traces or {}).items():
        nwb.add_acquisition(_timeseries(tr, name))
    for name, tr in (stimuli or {}).items():
        nwb.add_stimulus(_timeseries(tr, name))
    for name, iv in (intervals or {}).items():
        _add_intervals(nwb, name, iv)
    for name, tr in (ophys or {}).items():
        _add_ophys(nwb, name, tr)
    if tables:
        module = nwb.create_processing_module(name="simulation", description="simulation tables (weights, ...)")
        for name, df in tables.items():
            module.add(_dataframe_table(df, name, f"simulation table {name}"))
    _add_provenance(nwb, "simulation", "", parameters, [])
    return _write_atomically(nwb, path, overwrite=overwrite)


def _support(trains):
    """The [start, end] a SpikeTrains covers, as one obs_intervals row."""
    return [[float(trains.start), float(trains.end)]]


def _check_traces_orientation(traces, name, n_units=None):
    """The writer's side of the time-first contract (the readers refuse a series whose shape contradicts its
    ROI table). With the file's units known, traces with one time point per unit and another number of channels
    were built units × time: an error. Without them, more channels than time points and no channel names (so
    nothing declares the layout) is what nwbinspector calls transposed: a warning, since a few bins of many
    neurons is legitimate; naming the channels declares it."""
    if not isinstance(traces, Traces):
        raise InvalidInputError(f"expected Traces for {name!r}; got {type(traces).__name__}.")
    shape = traces.data.shape
    fix = "if it is channels × time, build Traces(x.T, ...)"
    if n_units is not None and traces.n_times == n_units and traces.n_channels != n_units:
        raise InvalidInputError(f"traces {name!r} of shape {shape} have one time point per unit ({n_units} units in "
                                f"this file): they look transposed (units × time); {fix} (time × channels).")
    if traces.n_channels > traces.n_times and not traces.channels_named:
        warnings.warn(f"traces {name!r} of shape {shape} have fewer time points ({traces.n_times}) than channels "
                      f"({traces.n_channels}) and no channel names, so they look transposed; {fix}; if the shape "
                      "is right, give channels=... to declare it.", NeurosuiteWarning, stacklevel=4)


def _fill_results_module(module, analysis, arrays, tables, traces, descriptions=None, n_units=None):
    descriptions = descriptions or {}  # a writer may describe more than one file holds (e.g. optional tables)
    for name, tr in (traces or {}).items():  # checked before anything is built, so nothing partial is written
        _check_traces_orientation(tr, name, n_units)
    for name, arr in (arrays or {}).items():
        module.add(_array_table(arr, name, descriptions.get(name)))
    for name, df in (tables or {}).items():
        module.add(_dataframe_table(df, name, descriptions.get(name, f"{analysis} table {name}")))
    for name, tr in (traces or {}).items():
        module.add(_timeseries(tr, name, descriptions.get(name)))


def _check_analysis_name(analysis):
    if not isinstance(analysis, str) or not analysis.isidentifier():
        raise InvalidInputError(f"analysis must be a short identifier-like name; got {analysis!r}.")


def write_results(path, *, analysis, sources=(), parameters=None, arrays=None, tables=None, traces=None,
                  spikes=None, description=None, descriptions=None, overwrite=False):
    """Write analysis results to a NEW NWB file that names its sources (identifier, path, sha256).

    arrays {name: ndarray} (no time axis) and tables {name: DataFrame} go to the processing module named
    ``analysis``; traces {name: Traces} — every result with a time axis — become TimeSeries there (time first,
    so pynapple loads them; a series with fewer time points than channels is kept as a time-first table, see
    ``_timeseries``); spikes (SpikeTrains) become the Units table. ``descriptions`` {name: text} describe
    arrays, tables and traces in words (default: their names). An existing
    ``path`` raises ``OutputExistsError`` unless ``overwrite=True``; a path among ``sources`` is refused even
    then (to add results to an input, use :func:`add_results_in_place`).
    """
    from pynwb.misc import Units

    _check_analysis_name(analysis)
    sources = list(sources)
    check_output_path(path, overwrite=overwrite, inputs=sources, suffix=".nwb")
    records = [_source_record(s) for s in sources]
    nwb = _new_nwbfile(description or f"neurosuite {analysis} results", subject_id="derived",
                       subject_description="derived data: see processing/neurosuite/sources for the inputs")
    module = nwb.create_processing_module(name=analysis, description=f"{analysis} results")
    _fill_results_module(module, analysis, arrays, tables, traces, descriptions,
                         n_units=None if spikes is None else spikes.n_units)
    if spikes is not None:
        units = Units(name="units", description=f"units analysed by {analysis}")
        for t in spikes.times:
            units.add_unit(spike_times=np.asarray(t), obs_intervals=_support(spikes))
        nwb.units = units
    _add_provenance(nwb, "results", analysis, parameters, records)
    return _write_atomically(nwb, path, overwrite=overwrite, inputs=sources)


def add_results_in_place(path, *, analysis, parameters=None, arrays=None, tables=None, traces=None):
    """Add results to an existing NWB file, only when the user asks (``--in-place``).

    The whole file is exported with the new processing module ``analysis`` (holding the results and a one-row
    ``parameters`` table) to a temporary file that then replaces the original atomically: an interrupted or
    failed write leaves the original untouched.
    """
    from pynwb import NWBHDF5IO

    _check_analysis_name(analysis)
    path = _check_nwb_path(path)
    src_io = NWBHDF5IO(str(path), mode="r", load_namespaces=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # schema-deprecation notices on reading older files, as in open_nwb
            nwb = src_io.read()
        if analysis in nwb.processing:
            raise InvalidInputError(f"{path}: already has a processing module {analysis!r}; choose another "
                                    "analysis name or write a new results file.")
        module = nwb.create_processing_module(name=analysis, description=f"{analysis} results (added in place)")
        _fill_results_module(module, analysis, arrays, tables, traces)
        module.add(_parameters_table(parameters))
        # the one case where a file is replaced: the user asked for exactly this file (``--in-place``)
        with atomic_path(path, overwrite=True) as tmp:
            with NWBHDF5IO(tmp, mode="w") as out:
                out.export(src_io=src_io, nwbfile=nwb)
    finally:
        src_io.close()
    logger.info("added %s results to %s", analysis, path)
    return path


class Results:
    """What ``read_results`` returns: analysis name, parameters, sources and the stored arrays/tables/traces."""

    def __init__(self, analysis, kind, parameters, sources, arrays, tables, traces):
        self.analysis, self.kind, self.parameters = analysis, kind, parameters
        self.sources, self.arrays, self.tables, self.traces = sources, arrays, tables, traces

    def __repr__(self):
        return (f"<Results {self.analysis or self.kind!r}: arrays {list(self.arrays)}, tables {list(self.tables)}, "
                f"traces {list(self.traces)}, {len(self.sources)} source(s)>")


def read_results(path):
    """Read a file written by ``write_results`` or ``write_simulation`` back into a Results object."""
    from hdmf.common import DynamicTable
    from pynwb import TimeSeries

    with open_nwb(path) as nwb:
        if SUITE_MODULE not in nwb.processing:
            raise NWBContentError(f"{path}: was not written by neurosuite (no processing/{SUITE_MODULE}).")
        suite = nwb.processing[SUITE_MODULE]
        prov = suite["provenance"].to_dataframe().iloc[0]
        if "parameters" in suite.data_interfaces:
            parameters = _read_parameters(suite["parameters"])
        else:  # files written before parameters had a table of their own kept one JSON cell
            parameters = json.loads(prov["parameters"])
        sources = suite["sources"].to_dataframe().to_dict("records") if "sources" in suite.data_interfaces else []
        analysis = prov["analysis"]
        arrays, tables, traces = {}, {}, {}
        module_name = analysis if prov["kind"] == "results" else "simulation"
        if module_name in nwb.processing:
            for name, obj in nwb.processing[module_name].data_interfaces.items():
                if isinstance(obj, TimeSeries):
                    traces[name] = _timeseries_to_traces(obj, name, path)
                elif isinstance(obj, DynamicTable):
                    shape = _array_shape(obj.description)
                    if shape is not None and tuple(obj.colnames) == ("values",):
                        arrays[name] = np.asarray(obj["values"].data[:]).reshape(shape)
                    elif tuple(obj.colnames) == _TIME_TABLE_COLUMNS:
                        traces[name] = _time_table_to_traces(obj, name, path)
                    else:
                        tables[name] = obj.to_dataframe().reset_index(drop=True)
        return Results(analysis, prov["kind"], parameters, sources, arrays, tables, traces)
