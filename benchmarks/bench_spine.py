"""Spine: read + bin the real 15-unit recording, ours vs a hand-written pynwb loop (time and peak memory)."""
from pathlib import Path

import numpy as np

from _timing import timed

FILE = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "nwb" / "spikes_behavior_A2929-200711.nwb"
BIN = 0.01  # 10 ms bins: 120,000 bins × 15 units


def _ours():
    from neurodata.io import read_spikes
    return read_spikes(FILE).count(BIN).data


def _baseline():
    """What a user writes by hand: pynwb, per-unit spike times, np.histogram per unit."""
    import pynwb
    with pynwb.NWBHDF5IO(str(FILE), "r") as nio:
        nwb = nio.read()
        trains = [np.asarray(nwb.units.get_unit_spike_times(i)) for i in range(len(nwb.units))]
    start = min(t[0] for t in trains if t.size)
    end = max(t[-1] for t in trains if t.size)
    n_bins = int(np.floor((end - start) / BIN + 1e-9))
    edges = start + BIN * np.arange(n_bins + 1)
    return np.stack([np.histogram(t, edges)[0] for t in trains], axis=1)


def _measure(func, repeats):
    """Best time and largest peak memory over ``repeats`` calls."""
    runs = [timed(func) for _ in range(repeats)]
    return min(r[1] for r in runs), max(r[2] for r in runs), runs[-1][0]


def bench_read_and_bin_15_units(quick=True):
    """Read the real 15-unit recording and bin it in 10 ms bins: neurodata.io (ours) vs a hand-written pynwb loop
    with np.histogram per unit (baseline); time and peak memory."""
    if not FILE.exists():
        raise FileNotFoundError(f"{FILE} (the shared test data) is needed for this benchmark")
    repeats = 3 if quick else 10
    _measure(_ours, 1), _measure(_baseline, 1)  # warm file cache and imports for both
    ours_t, ours_mem, ours = _measure(_ours, repeats)
    base_t, base_mem, base = _measure(_baseline, repeats)
    # spikes lying within float rounding of a bin edge may land one bin apart between the two edge formulas
    n = min(len(ours), len(base))
    moved = int(np.abs(ours[:n] - base[:n]).sum() // 2)
    return {"name": "spine.read_and_bin_15_units", "ours": ours_t, "baseline": base_t,
            "peak_mem_ours_mb": ours_mem, "peak_mem_baseline_mb": base_mem,
            "spikes_in_other_bin": moved, "total_spikes": int(base.sum()), "shape": list(ours.shape)}
