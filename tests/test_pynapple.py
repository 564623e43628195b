"""Spine objects ↔ pynapple: SpikeTrains ↔ TsGroup, Traces ↔ TsdFrame/TsdTensor/Tsd, Intervals ↔ IntervalSet."""
import numpy as np
import pandas as pd
import pytest

from neurodata.errors import InvalidInputError
from neurodata.io import Intervals, SpikeTrains, Traces

nap = pytest.importorskip("pynapple")


def test_spike_trains_round_trip():
    rng = np.random.default_rng(0)
    trains = [np.sort(rng.uniform(0.5, 9.5, n)) for n in (40, 1, 0, 7)]
    metadata = pd.DataFrame({"population": ["exc", "exc", "inh", "inh"]},
                            index=pd.Index(["a", "b", "c", "d"], name="unit_id"))
    spikes = SpikeTrains(trains, unit_ids=["a", "b", "c", "d"], metadata=metadata, start=0.0, end=10.0)
    group = spikes.to_pynapple()
    assert isinstance(group, nap.TsGroup) and len(group) == 4
    np.testing.assert_allclose(group[0].index.values, trains[0])
    assert list(group.metadata["population"]) == ["exc", "exc", "inh", "inh"]
    assert float(group.time_support.start[0]) == 0.0 and float(group.time_support.end[0]) == 10.0
    np.testing.assert_allclose(group.metadata["rate"], [t.size / 10.0 for t in trains])
    back = SpikeTrains.from_pynapple(group)
    assert back.unit_ids == spikes.unit_ids
    assert (back.start, back.end) == (0.0, 10.0)
    for a, b in zip(back.times, spikes.times):
        np.testing.assert_allclose(a, b, atol=1e-9)
    pd.testing.assert_frame_equal(back.metadata, spikes.metadata)
    counts = back.count(0.5)  # the spine's verbs work on what came back
    np.testing.assert_array_equal(counts.data, spikes.count(0.5).data)


def test_spike_trains_from_a_plain_tsgroup():
    group = nap.TsGroup({3: nap.Ts(np.array([0.1, 0.4, 0.9])), 5: nap.Ts(np.array([0.2, 0.3]))},
                        time_support=nap.IntervalSet(0.0, 1.0))
    spikes = SpikeTrains.from_pynapple(group)
    assert spikes.unit_ids == [3, 5] and spikes.n_spikes == 5 and spikes.duration == 1.0
    assert list(spikes.metadata.columns) == []  # pynapple's computed rate is not carried as metadata


@pytest.mark.parametrize("regular", [True, False])
def test_traces_round_trip(regular):
    rng = np.random.default_rng(1)
    data = rng.normal(size=(50, 3))
    kwargs = dict(rate=20.0, start=1.0) if regular else dict(times=np.sort(rng.uniform(0, 5, 50)))
    traces = Traces(data, channels=["x", "y", "z"], unit="V", channel_units=["V", "V", "A"],
                    channel_types=["eeg", "eeg", "misc"], **kwargs)
    frame = traces.to_pynapple()
    assert isinstance(frame, nap.TsdFrame) and frame.shape == (50, 3)
    assert list(frame.columns) == ["x", "y", "z"]
    np.testing.assert_array_equal(frame.values, data)
    back = Traces.from_pynapple(frame, unit="V")
    np.testing.assert_array_equal(back.data, traces.data)
    np.testing.assert_allclose(back.times, traces.times, atol=1e-9)
    assert back.channels == traces.channels
    assert back.channel_units == ["V", "V", "A"] and back.channel_types == ["eeg", "eeg", "misc"]
    if regular:
        assert back.rate == pytest.approx(20.0, rel=1e-9)
    else:
        assert back.rate is None


def test_counts_and_epochs_and_tsd():
    counts = SpikeTrains([np.array([0.1, 0.2, 0.7]), np.array([0.5])], start=0.0, end=1.0).count(0.25)
    back = Traces.from_pynapple(counts.to_pynapple(), unit="count")
    np.testing.assert_array_equal(back.data, counts.data)
    assert back.data.dtype.kind == "i"
    cube = Traces(np.arange(24.0).reshape(4, 3, 2), rate=10.0)
    tensor = cube.to_pynapple()
    assert isinstance(tensor, nap.TsdTensor)
    np.testing.assert_array_equal(Traces.from_pynapple(tensor).data, cube.data)
    tsd = nap.Tsd(t=np.arange(5) * 0.1, d=np.arange(5.0))
    one = Traces.from_pynapple(tsd)
    assert one.data.shape == (5, 1) and one.rate == pytest.approx(10.0)


def test_intervals_round_trip():
    table = pd.DataFrame({"condition": ["a", "b", "a"], "trial": [0, 1, 2]})
    intervals = Intervals([0.0, 2.0, 4.0], [1.0, 3.0, 4.5], table=table, name="trials")
    iset = intervals.to_pynapple()
    assert isinstance(iset, nap.IntervalSet) and len(iset) == 3
    assert list(iset.metadata["condition"]) == ["a", "b", "a"]
    back = Intervals.from_pynapple(iset, name="trials")
    np.testing.assert_array_equal(back.start, intervals.start)
    np.testing.assert_array_equal(back.stop, intervals.stop)
    pd.testing.assert_frame_equal(back.table, intervals.table)
    plain = Intervals.from_pynapple(Intervals([0.0], [1.0]).to_pynapple())
    assert len(plain) == 1 and list(plain.table.columns) == []


def test_intervals_pynapple_would_change_are_refused():
    with pytest.raises(InvalidInputError, match="overlap"):
        Intervals([0.0, 0.5], [1.0, 2.0]).to_pynapple()
    with pytest.raises(InvalidInputError, match="zero duration"):
        Intervals([0.0, 1.0], [0.0, 2.0]).to_pynapple()


def test_wrong_type_is_a_suite_error():
    with pytest.raises(InvalidInputError, match="TsGroup"):
        SpikeTrains.from_pynapple(np.zeros(3))
    with pytest.raises(InvalidInputError, match="IntervalSet"):
        Intervals.from_pynapple(nap.Ts(np.array([0.1, 0.2])))


def test_inputs_are_not_modified():
    spikes = SpikeTrains([np.array([0.1, 0.2])], metadata=pd.DataFrame({"population": ["e"]}), start=0, end=1)
    before = spikes.metadata.copy()
    spikes.to_pynapple()
    pd.testing.assert_frame_equal(spikes.metadata, before)
