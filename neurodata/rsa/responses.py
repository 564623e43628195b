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
        Condition labels, in the order of the rows of ``means`` (the data's order: evoked conditions as in the
        file, Epochs by event_id, trials by first appearance in the trials table).
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


def _means(values, labels, conditions=None):
    """Condition means in the data's own order (first appearance; the file's order), or in ``conditions``."""
    if conditions is None:
        conds = [c.item() if isinstance(c, np.generic) else c for c in pd.unique(labels)]
    else:
        conds = list(conditions)
        missing = [c for c in conds if not np.any(labels == c)]
        if missing:
            raise InvalidInputError(f"conditions {missing} have no trials. Allowed values are "
                                    f"{[str(c) for c in pd.unique(labels)]}.")
    return conds, np.stack([values[labels == c].mean(axis=0) for c in conds])


def condition_responses(data, trials, condition="condition", window=None, conditions=None):
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
    conditions : list, optional
        Conditions to keep, in this order; default every label in order of first appearance in the table.

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
    conds, means = _means(values, labels, conditions)
    if conditions is not None:
        keep = np.isin(labels, conds)
        values, labels = values[keep], labels[keep]
    return ConditionResponses(conditions=conds, means=means, trials=values, trial_conditions=labels,
                              channels=channels, unit=unit)


def responses_from_mne(obj, picks="meg", scale="channel_type", tmin=None, tmax=None, conditions=None):
    """Condition × channel × time responses from MNE Evoked (list or ``-ave.fif``) or Epochs.

    A thin layer over the spine's one MEG reader, :func:`neurodata.io.read_mne` (same channels, same
    condition order), that only turns its time-first Traces into condition-first means and scales them.

    Parameters
    ----------
    obj : path, mne.Evoked, list of mne.Evoked, or mne.Epochs
    picks : {"meg", "eeg", "all"} or list of str
        Channel selection, as in ``read_mne`` (default the MEG sensors).
    scale : {"channel_type", "none"}
        Magnetometers (T) and gradiometers (T/m) differ by orders of magnitude; ``channel_type`` divides
        each channel type by its root-mean-square over the data so that types contribute comparably.
    tmin, tmax : float, optional
        Crop to this time window (s).
    conditions : list of str, optional
        Conditions to keep, in this order; default every condition in the file's order (evoked comments;
        the event_id order of Epochs).

    Returns
    -------
    ConditionResponses with ``means`` (conditions × channels × times); ``trials`` for Epochs.
    """
    import mne

    from ..io import read_mne

    if scale not in ("channel_type", "none"):
        raise InvalidInputError(f"Allowed values for 'scale' are 'channel_type', 'none', but got {scale!r} instead.")
    traces = read_mne(obj, picks=picks, conditions=conditions, tmin=tmin, tmax=tmax)
    data = np.array(traces.data, dtype=float)  # a writable copy: time × channels [× epochs]
    if data.ndim == 2:
        data = data[:, :, None]
    is_epochs = isinstance(obj, mne.BaseEpochs) or (isinstance(obj, (str, os.PathLike)) and traces.name == "epochs")
    labels = np.asarray(traces.epochs if traces.epochs is not None else [traces.name])
    if scale == "channel_type":
        types = np.asarray(traces.channel_types)
        for ty in dict.fromkeys(traces.channel_types):
            sel = types == ty
            rms = np.sqrt(np.mean(data[:, sel, :] ** 2))
            if rms > 0:
                data[:, sel, :] /= rms
    per_item = data.transpose(2, 1, 0)  # epochs/conditions × channels × time
    if conditions is None and is_epochs:
        present = set(labels.tolist())
        conditions = [c for c in _event_names(obj, traces) if c in present]
    conds, means = _means(per_item, labels, conditions)
    return ConditionResponses(conditions=conds, means=means, trials=per_item if is_epochs else None,
                              trial_conditions=labels if is_epochs else None, channels=list(traces.channels),
                              times=np.asarray(traces.times),
                              unit="a.u." if scale == "channel_type" else traces.unit)


def _event_names(obj, traces):
    """Event names of Epochs in the file's event_id order (labels seen first otherwise)."""
    event_id = getattr(obj, "event_id", None)
    return list(event_id) if event_id else list(dict.fromkeys(traces.epochs))
