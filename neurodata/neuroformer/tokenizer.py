"""Spikes as tokens: every spike is a (neuron-ID, dt) pair inside a short window (Antoniades et al. 2023).

A sample is one *current* window ``[t0, t0 + window)`` whose spikes the model predicts one token at a time,
conditioned on the *past* window ``[t0 - past, t0)`` of the whole population. Within a window, spikes are
ordered by time, then by unit index; a spike's dt token is its offset from the window's start in steps of
``dt``, rounded to the nearest step, so decoding is exact to ``dt / 2``.

Vocabularies (the paper's defaults: dt 0.01 s, 0 to 0.15 s):

- ID: units ``0 .. n_units - 1``, then SOS = n_units, EOS = n_units + 1, PAD = n_units + 2 (n_units + 3);
- dt: offsets ``0 .. n_dt - 1`` (n_dt = round(max_dt / dt) + 1 = 16), then SOS, EOS, PAD (19).

A current sequence is ``[SOS, spikes..., EOS, PAD...]``; the model reads it without its last token and
predicts it without its first. A past sequence is ``[SOS, spikes..., PAD...]``: the SOS keeps at least one
key unmasked when the past window is silent.
"""
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidInputError, NWBContentError
from ..utils import check_random_state, check_scalar

__all__ = ["SpikeTokenizer", "Tokens", "time_block_split"]

_EPS = 1e-9  # relative guard so that 0.15 / 0.01 counts as 15 steps, not 14.999...


@dataclass(frozen=True)
class Tokens:
    """Token windows of one recording (every array has one row per window).

    window_start : (n,) float — t0 of each current window (s)
    id, dt : (n, block + 2) int64 — ``[SOS, tokens..., EOS, PAD...]`` of the current window
    past_id, past_dt : (n, past_block + 1) int64 — ``[SOS, tokens..., PAD...]`` of the past window
    n_current, n_past : (n,) int64 — spikes in each window
    """

    window_start: np.ndarray
    id: np.ndarray
    dt: np.ndarray
    past_id: np.ndarray
    past_dt: np.ndarray
    n_current: np.ndarray
    n_past: np.ndarray

    def __len__(self):
        return len(self.window_start)

    def subset(self, index):
        """The windows at ``index`` (an int array or boolean mask), as new Tokens."""
        return Tokens(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})


class SpikeTokenizer:
    """Turn spike trains into (ID, dt) token windows and back.

    Parameters
    ----------
    n_units : int
        Number of neurons (ID vocabulary ``n_units + 3``).
    window : float
        Current window (s); the paper's 0.05 s.
    past : float
        Past window (s) the model is conditioned on; the paper's 0.15 s.
    dt : float
        Time resolution of the dt tokens (s); the paper's 0.01 s.
    max_dt : float
        Largest offset the dt vocabulary holds (s); the paper's 0.15 s. Both windows must fit in it.
    stride : float, optional
        Step between consecutive window starts (default ``window``: windows tile the recording).
    """

    def __init__(self, n_units, *, window=0.05, past=0.15, dt=0.01, max_dt=0.15, stride=None):
        owner = "SpikeTokenizer"
        check_scalar(n_units, "n_units", owner, kind=numbers.Integral, low=1)
        for name, value in (("window", window), ("past", past), ("dt", dt), ("max_dt", max_dt)):
            check_scalar(value, name, owner, low=0.0, low_inclusive=False)
        if stride is not None:
            check_scalar(stride, "stride", owner, low=0.0, low_inclusive=False)
        self.n_units, self.window, self.past, self.dt, self.max_dt = int(n_units), float(window), float(past), \
            float(dt), float(max_dt)
        self.stride = float(window if stride is None else stride)
        self.n_dt = int(np.floor(self.max_dt / self.dt * (1 + _EPS))) + 1
        for name, length in (("window", self.window), ("past", self.past)):
            steps = int(np.floor(length / self.dt * (1 + _EPS) + 0.5))
            if steps > self.n_dt - 1:
                raise InvalidInputError(
                    f"The {name} window ({length} s) overflows the dt vocabulary: its offsets reach {steps} steps "
                    f"of {self.dt} s but max_dt={self.max_dt} s holds {self.n_dt - 1}. Raise max_dt to at least "
                    f"{length} s or shorten the window.")

    # ------------------------------------------------------------------ vocabularies
    @property
    def id_sos(self):
        return self.n_units

    @property
    def id_eos(self):
        return self.n_units + 1

    @property
    def id_pad(self):
        return self.n_units + 2

    @property
    def id_vocab_size(self):
        return self.n_units + 3

    @property
    def dt_sos(self):
        return self.n_dt

    @property
    def dt_eos(self):
        return self.n_dt + 1

    @property
    def dt_pad(self):
        return self.n_dt + 2

    @property
    def dt_vocab_size(self):
        return self.n_dt + 3

    def get_params(self):
        return {"n_units": self.n_units, "window": self.window, "past": self.past, "dt": self.dt,
                "max_dt": self.max_dt, "stride": self.stride}

    # ------------------------------------------------------------------ windows
    def window_starts(self, start, end):
        """Starts t0 of every full sample (past and current window inside [start, end))."""
        first = start + self.past
        n = int(np.floor((end - self.window - first) / self.stride * (1 + _EPS) + _EPS)) + 1
        if n < 1:
            raise InvalidInputError(
                f"The recording ({end - start:.4g} s) is shorter than one sample: past ({self.past} s) + current "
                f"window ({self.window} s) = {self.past + self.window:.4g} s. Use a longer recording or "
                f"shorter windows.")
        return first + self.stride * np.arange(n)

    def _flat(self, spikes):
        if spikes.n_units != self.n_units:
            raise InvalidInputError(f"SpikeTokenizer was built for {self.n_units} units but {spikes.name!r} has "
                                    f"{spikes.n_units}.")
        if spikes.n_spikes == 0:
            raise NWBContentError(f"{spikes.name!r} holds no spikes; there is nothing to tokenize.")
        times = np.concatenate([np.asarray(t, float) for t in spikes.times])
        units = np.concatenate([np.full(len(t), i, np.int64) for i, t in enumerate(spikes.times)])
        order = np.lexsort((units, times))  # by time, ties by unit index
        return times[order], units[order]

    def _fill(self, times, units, lo, hi, origin, n_dt_max, block, lead, tail, what):
        counts = hi - lo
        if block is None:
            block = max(int(counts.max()), 1)
        elif counts.max() > block:
            w = int(np.argmax(counts))
            raise InvalidInputError(f"A {what} window holds {int(counts[w])} spikes (window {w}), more than its "
                                    f"block of {block} tokens; raise the block size or shorten the window.")
        n = len(lo)
        width = block + 1 + (1 if tail else 0)
        ids = np.full((n, width), self.id_pad, np.int64)
        dts = np.full((n, width), self.dt_pad, np.int64)
        ids[:, 0], dts[:, 0] = lead
        row = np.repeat(np.arange(n), counts)
        col = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        flat = np.repeat(lo, counts) + col
        col = col + 1
        offset = (times[flat] - origin[row]) / self.dt
        steps = np.floor(offset * (1 + _EPS) + 0.5).astype(np.int64)
        np.clip(steps, 0, n_dt_max, out=steps)  # rounding up at the window's end stays in the window's range
        ids[row, col], dts[row, col] = units[flat], steps
        if tail:
            ids[np.arange(n), counts + 1], dts[np.arange(n), counts + 1] = self.id_eos, self.dt_eos
        return ids, dts, counts.astype(np.int64), block

    def tokenize(self, spikes, *, starts=None, block=None, past_block=None):
        """Token windows of ``spikes`` (SpikeTrains) → :class:`Tokens`.

        ``starts``: window starts t0 (default: every ``stride`` from ``start + past``). ``block`` /
        ``past_block``: tokens a current / past window may hold (default: the largest count found, so no spike
        is lost); a window holding more raises InvalidInputError instead of dropping spikes.
        """
        times, units = self._flat(spikes)
        if starts is None:
            starts = self.window_starts(spikes.start, spikes.end)
        starts = np.asarray(starts, float)
        lo = np.searchsorted(times, starts, side="left")
        hi = np.searchsorted(times, _snap(starts + self.window, starts), side="left")
        plo = np.searchsorted(times, _snap(starts - self.past, starts), side="left")
        cur_steps = int(np.floor(self.window / self.dt * (1 + _EPS) + 0.5))
        past_steps = int(np.floor(self.past / self.dt * (1 + _EPS) + 0.5))
        ids, dts, n_cur, _ = self._fill(times, units, lo, hi, starts, cur_steps, block,
                                        (self.id_sos, self.dt_sos), True, "current")
        pids, pdts, n_past, _ = self._fill(times, units, plo, lo, starts - self.past, past_steps, past_block,
                                           (self.id_sos, self.dt_sos), False, "past")
        return Tokens(window_start=starts, id=ids, dt=dts, past_id=pids, past_dt=pdts, n_current=n_cur,
                      n_past=n_past)

    def decode(self, ids, dts, window_start):
        """Spike times per unit from current-window token rows (stops at EOS; SOS and PAD are skipped).

        ``ids``, ``dts``: (n, L) token rows; ``window_start``: (n,) t0. Returns a list of ``n_units`` sorted
        float arrays; a spike's time is ``t0 + dt_token * dt``.
        """
        ids, dts = np.atleast_2d(np.asarray(ids)), np.atleast_2d(np.asarray(dts))
        window_start = np.atleast_1d(np.asarray(window_start, float))
        if ids.shape != dts.shape or ids.shape[0] != window_start.shape[0]:
            raise InvalidInputError(f"decode needs ids and dts of the same shape (n, L) and n window starts; got "
                                    f"{ids.shape}, {dts.shape} and {window_start.shape}.")
        after_eos = np.cumsum(ids == self.id_eos, axis=1) > 0
        keep = (ids < self.n_units) & (dts < self.n_dt) & ~after_eos
        row, _ = np.nonzero(keep)
        t = window_start[row] + dts[keep] * self.dt
        u = ids[keep]
        order = np.lexsort((t, u))
        t, u = t[order], u[order]
        bounds = np.searchsorted(u, np.arange(self.n_units + 1))
        return [t[bounds[i]:bounds[i + 1]].copy() for i in range(self.n_units)]


def _snap(edges, starts):
    """Edges within 1e-9 s of a window start become that start, so tiled windows share their boundaries
    exactly (``t0 + window`` and the next ``t0`` can differ in the last bit, and a spike there would be lost)."""
    if len(starts) == 0:
        return edges
    j = np.clip(np.searchsorted(starts, edges), 1, len(starts) - 1) if len(starts) > 1 else np.zeros(len(edges), int)
    out = edges.copy()
    for k in (j - 1, j):
        close = np.abs(starts[k] - edges) < 1e-9
        out[close] = starts[k][close]
    return out


def time_block_split(window_start, *, window, past, test_fraction=0.2, n_blocks=10, seed=0):
    """Split samples into train and test by contiguous blocks of time, with no overlap between the two.

    The recording's samples (current windows at ``window_start``, each reading ``past`` seconds before it)
    are cut into ``n_blocks`` contiguous blocks; ``round(test_fraction * n_blocks)`` of them (at least one),
    drawn with ``seed``, are test blocks. Every training sample whose span ``[t0 - past, t0 + window)``
    overlaps the span of a test sample is dropped, so no spike a test sample sees (as past or as target) is
    ever seen in training. Returns ``(train_index, test_index)``, sorted int arrays.
    """
    owner = "time_block_split"
    t0 = np.asarray(window_start, float)
    check_scalar(n_blocks, "n_blocks", owner, kind=numbers.Integral, low=2)
    check_scalar(test_fraction, "test_fraction", owner, low=0.0, high=1.0, low_inclusive=False,
                 high_inclusive=False)
    if t0.ndim != 1 or len(t0) < n_blocks:
        raise InvalidInputError(f"time_block_split needs at least n_blocks={n_blocks} samples in a 1-D array of "
                                f"window starts; got shape {t0.shape}.")
    if np.any(np.diff(t0) <= 0):
        raise InvalidInputError("time_block_split needs window starts in increasing order.")
    rng = check_random_state(seed)
    block = np.minimum((np.arange(len(t0)) * n_blocks) // len(t0), n_blocks - 1)
    n_test = min(max(1, int(round(test_fraction * n_blocks))), n_blocks - 1)
    test_blocks = np.sort(rng.choice(n_blocks, size=n_test, replace=False))
    is_test = np.isin(block, test_blocks)
    # test spans as merged intervals (test samples are contiguous within a block)
    lo, hi = t0 - past, t0 + window
    tl, th = lo[is_test], hi[is_test]
    j = np.searchsorted(tl, hi, side="left")  # test spans starting before each sample's end
    # a sample overlaps a test span when some test span starts before its end and ends after its start;
    # test spans are sorted by start and by end, so the last one starting before hi[i] has the largest end
    overlap = (j > 0) & (th[np.maximum(j - 1, 0)] > lo)
    train = np.nonzero(~is_test & ~overlap)[0]
    return train, np.nonzero(is_test)[0]
