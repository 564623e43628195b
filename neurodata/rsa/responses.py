"""Condition × channel response matrices from the spine's objects (spikes, traces, MNE data).

Trial-level responses are kept next to the condition means: noise ceilings (split halves) and cross-validated
distances (crossnobis) need them.
"""
from dataclasses import dataclass
import os

import numpy as np
import pandas as pd

from ..errors import InvalidInputError
from ..utils import check_random_state

__all__ = ["ConditionResponses", "condition_responses", "responses_from_mne"]


@dataclass(frozen=True)
class ConditionResponses:
    """Trial-averaged responses per condition, with the trials they came from.

    Attributes
    ----------
    conditions : list
        Condition labels, in the order of the rows of ``means`` (sorted).
    means : ndarray (conditions × channels) or (conditions × channels × times)
    trials : ndarray (n_trials × channels[× times]) or None (e.g. an evoked file holds averages only)
    trial_conditions : ndarray (n_trials,) or None
    channels : list
    times : ndarray (times,) or None
    unit : str
    """

    conditions: list
    means: np.ndarray
    trials: np.ndarray = None
    trial_conditions: np.ndarray = None
    channels: list = None
    times: np.ndarray = None
    unit: str = "a.u."

    def split_halves(self, seed=None):
        """Condition means from two random halves of each condition's trials → (means_a, means_b).

        Each condition needs at least 2 trials; with an odd count the extra trial is left out.
        """
        if self.trials is None:
            raise InvalidInputError("split_halves needs trial-level data; these responses hold averages only.")
        rng = check_random_state(seed)
        halves = ([], [])
        for c in self.conditions:
            idx = np.flatnonzero(self.trial_conditions == c)
            if idx.size < 2:
                raise InvalidInputError(f"condition {c!r} has {idx.size} trial(s); split halves need at least 2.")
            idx = rng.permutation(idx)
            h = idx.size // 2
            halves[0].append(self.trials[idx[:h]].mean(axis=0))
            halves[1].append(self.trials[idx[h:2 * h]].mean(axis=0))
        return np.stack(halves[0]), np.stack(halves[1])


def _trial_table(trials, condition):
    if hasattr(trials, "to_dataframe"):
        df = trials.to_dataframe()
    elif isinstance(trials, pd.DataFrame):
        df = trials
    else:
        raise InvalidInputError(f"trials must be an Intervals object or a DataFrame with start_time/stop_time; "
                                f"got {type(trials).__name__}.")
    for col in ("start_time", "stop_time", condition):
        if col not in df.columns:
            raise InvalidInputError(f"trials table has no column {col!r}; columns are {list(df.columns)}.")
    if len(df) == 0:
        raise InvalidInputError("trials table is empty.")
    return df


def _means(values, labels):
    conds = [c.item() if isinstance(c, np.generic) else c for c in pd.unique(labels)]
    try:
        conds = sorted(conds)
    except TypeError:  # mixed label types: order by their text
        conds = sorted(conds, key=str)
    return conds, np.stack([values[labels == c].mean(axis=0) for c in conds])


def condition_responses(data, trials, condition="condition", window=None):
    """Responses per trial and per condition from spikes or traces and a trials table.

    Parameters
    ----------
    data : SpikeTrains or Traces (time × channels)
        Spikes give firing rates (Hz) per trial window; traces give the mean sample value in it.
    trials : Intervals or pandas.DataFrame
        One row per trial with ``start_time``, ``stop_time`` (s) and a ``condition`` column.
    condition : str
        Column holding the condition label.
    window : (float, float), optional
        Response window relative to each trial's start (s); default the whole [start, stop) of the trial.

    Returns
    -------
    ConditionResponses
    """
    df = _trial_table(trials, condition)
    starts = df["start_time"].to_numpy(float)
    stops = df["stop_time"].to_numpy(float)
    if window is not None:
        w0, w1 = map(float, window)
        if not w1 > w0:
            raise InvalidInputError(f"window must be (start, stop) with stop > start; got {window!r}.")
        starts, stops = starts + w0, starts + w1
    if np.any(stops <= starts):
        raise InvalidInputError("every trial window must have positive duration.")
    labels = df[condition].to_numpy()
    if hasattr(data, "times") and hasattr(data, "unit_ids") and not hasattr(data, "data"):
        counts = np.stack([np.searchsorted(t, stops, side="left") - np.searchsorted(t, starts, side="left")
                           for t in data.times], axis=1)
        values = counts / (stops - starts)[:, None]
        channels, unit = list(data.unit_ids), "Hz"
    elif hasattr(data, "data") and hasattr(data, "times"):
        if data.data.ndim != 2:
            raise InvalidInputError("condition_responses expects continuous traces (time × channels); "
                                    "for epoched MNE data use responses_from_mne.")
        t = np.asarray(data.times)
        lo = np.searchsorted(t, starts, side="left")
        hi = np.searchsorted(t, stops, side="left")
        empty = np.flatnonzero(hi <= lo)
        if empty.size:
            raise InvalidInputError(f"{empty.size} trial window(s) contain no samples (first: trial {empty[0]}, "
                                    f"{starts[empty[0]]:.3f}–{stops[empty[0]]:.3f} s).")
        csum = np.vstack([np.zeros((1, data.data.shape[1])), np.cumsum(data.data, axis=0, dtype=float)])
        values = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
        channels, unit = list(data.channels), data.unit
    else:
        raise InvalidInputError(f"data must be SpikeTrains or Traces; got {type(data).__name__}.")
    conds, means = _means(values, labels)
    return ConditionResponses(conditions=conds, means=means, trials=values, trial_conditions=labels,
                              channels=channels, unit=unit)


def responses_from_mne(obj, picks="meg", scale="channel_type", tmin=None, tmax=None):
    """Condition × channel × time responses from MNE Evoked (list or ``-ave.fif``) or Epochs.

    Parameters
    ----------
    obj : path, mne.Evoked, list of mne.Evoked, or mne.Epochs
    picks : str or list
        MNE channel selection (default all MEG sensors).
    scale : {"channel_type", "none"}
        Magnetometers (T) and gradiometers (T/m) differ by orders of magnitude; ``channel_type`` divides
        each channel type by its root-mean-square over the data so that types contribute comparably.
    tmin, tmax : float, optional
        Crop to this time window (s).

    Returns
    -------
    ConditionResponses with ``means`` (conditions × channels × times); ``trials`` for Epochs.
    """
    from ..io import read_mne

    if scale not in ("channel_type", "none"):
        raise InvalidInputError(f"Allowed values for 'scale' are 'channel_type', 'none', but got {scale!r} instead.")
    import mne

    if isinstance(obj, (str, os.PathLike)):
        obj = read_mne_objects(obj)
    items = obj if isinstance(obj, list) else [obj]
    try:
        picked = [o.copy().pick(picks) for o in items]
        if tmin is not None or tmax is not None:
            picked = [o.crop(tmin=tmin, tmax=tmax) for o in picked]
    except ValueError as exc:
        raise InvalidInputError(f"responses_from_mne: cannot pick/crop ({exc}).") from None
    traces = read_mne(picked if isinstance(obj, list) else picked[0])
    data = np.array(traces.data, dtype=float)  # a writable copy: time × channels [× epochs]
    if data.ndim == 2:
        data = data[:, :, None]
    labels = np.asarray(traces.epochs if traces.epochs is not None else [getattr(picked[0], "comment", "evoked")])
    if scale == "channel_type":
        types = np.asarray(picked[0].get_channel_types())
        for ty in np.unique(types):
            sel = types == ty
            rms = np.sqrt(np.mean(data[:, sel, :] ** 2))
            if rms > 0:
                data[:, sel, :] /= rms
    per_item = data.transpose(2, 1, 0)  # epochs/conditions × channels × time
    is_epochs = isinstance(items[0], mne.BaseEpochs)
    conds, means = _means(per_item, labels)
    return ConditionResponses(conditions=conds, means=means, trials=per_item if is_epochs else None,
                              trial_conditions=labels if is_epochs else None, channels=list(traces.channels),
                              times=np.asarray(traces.times), unit="a.u." if scale == "channel_type" else "SI")


def read_mne_objects(path):
    """Load an MNE FIF file as MNE objects (a list of Evoked for ``-ave.fif``, Epochs for ``-epo.fif``)."""
    from pathlib import Path

    import mne

    from ..errors import DataFileError

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file.")
    try:
        with mne.utils.use_log_level("error"):
            if "-epo.fif" in path.name:
                return mne.read_epochs(path)
            return list(mne.read_evokeds(path))
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be read by MNE ({type(exc).__name__}: {exc}).") from None
