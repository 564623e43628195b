"""The NWB spine: reading the real recordings, round trips, nwbinspector, pynapple, bad input."""
import sys
import subprocess

import numpy as np
import pandas as pd
import pytest

from neurodata import io
from neurodata.errors import DataFileError, InvalidInputError, NeurosuiteError, NWBContentError

SPIKES = "nwb/spikes_A8604-211122.nwb"
BEHAVIOR = "nwb/spikes_behavior_A2929-200711.nwb"
CALCIUM = "nwb/calcium_A6512-210915.nwb"
MEG = "meg/sample_evoked-ave.fif.gz"


# ------------------------------------------------------------------------------------------ real data
def test_read_spikes_real(testdata):
    sp = io.read_spikes(testdata / SPIKES)
    assert sp.n_units == 3 and sp.n_spikes == 21354
    sp15 = io.read_spikes(testdata / BEHAVIOR)
    assert sp15.n_units == 15 and sp15.n_spikes == 98794
    assert set(sp15.metadata["location"]) == {"adn", "ca1"}
    assert all(np.all(np.diff(t) >= 0) for t in sp15.times)


def test_bin_counts_every_spike(testdata):
    sp = io.read_spikes(testdata / BEHAVIOR)
    counts = sp.count(0.5, start=0.0, end=1200.0)
    assert counts.data.shape == (2400, 15)
    assert counts.rate == 2.0 and counts.unit == "count"
    assert counts.data.sum() == sp.n_spikes  # all spikes lie in [0, 1200)
    per_unit = np.array([t.size for t in sp.times])
    np.testing.assert_array_equal(counts.data.sum(axis=0), per_unit)


def test_read_traces_real(testdata):
    tr = io.read_traces(testdata / CALCIUM)
    assert tr.data.shape == (35790, 10)
    assert tr.rate is None and tr.times.shape == (35790,)
    assert tr.name == "ophys/Fluorescence/RoiResponseSeries"
    assert io.read_traces(testdata / CALCIUM, name="RoiResponseSeries").data.shape == (35790, 10)


def test_read_behavior_from_acquisition(testdata):
    beh = io.read_behavior(testdata / BEHAVIOR)
    assert {"Position/x", "Position/y", "CompassDirection/ry"} <= set(beh)
    assert beh["Position/x"].n_times == 63527
    assert beh["CompassDirection/ry"].unit == "radian"


def test_read_intervals_real(testdata):
    ints = io.read_intervals(testdata / BEHAVIOR)
    assert len(ints["epochs"]) == 2
    assert len(ints["sleep_ripples"]) == 594
    assert ints["epochs"].total_duration == pytest.approx(1200.0)


def test_read_mne_evoked(testdata):
    tr = io.read_mne(testdata / MEG)  # MEG sensors only by default, conditions in the file's order
    assert tr.data.shape == (421, 306, 4)
    assert tr.epochs == ["Left Auditory", "Right Auditory", "Left visual", "Right visual"]
    assert tr.times[0] == pytest.approx(-0.2, abs=1e-3) and tr.times[-1] == pytest.approx(0.5, abs=1e-3)
    assert tr.rate == pytest.approx(600.615, abs=1e-3) and "irregular" not in repr(tr)
    assert set(tr.channel_types) == {"mag", "grad"} and tr.unit == "T/m, T"
    assert {t: u for t, u in zip(tr.channel_types, tr.channel_units)} == {"mag": "T", "grad": "T/m"}
    assert io.read_mne(testdata / MEG, picks="all").data.shape == (421, 376, 4)
    eeg = io.read_mne(testdata / MEG, picks="eeg")
    assert eeg.n_channels == 60 and set(eeg.channel_units) == {"V"} and eeg.unit == "V"
    one = io.read_mne(testdata / MEG, condition="Left visual")
    assert one.data.shape == (421, 306)
    two = io.read_mne(testdata / MEG, conditions=["Right visual", "Left Auditory"])
    assert two.epochs == ["Right visual", "Left Auditory"]
    import mne
    evoked = mne.read_evokeds(testdata / MEG, condition=0, verbose="error")
    np.testing.assert_array_equal(io.read_mne(evoked, picks="all").data, evoked.data.T)  # SI units kept
    np.testing.assert_allclose(io.read_mne(evoked).times, evoked.times, rtol=0, atol=1e-12)
    with pytest.raises(InvalidInputError, match="Allowed values"):
        io.read_mne(evoked, picks="megg")
    with pytest.raises(InvalidInputError, match="Left visual"):
        io.read_mne(testdata / MEG, conditions=["Left Visual"])
    summary = io.info(testdata / MEG)["traces"]["evoked"]
    assert summary["rate_hz"] == pytest.approx(600.615, abs=1e-3) and summary["channels"] == 376
    assert summary["units"]["mag"] == "T" and summary["units"]["grad"] == "T/m" and summary["units"]["eeg"] == "V"


@pytest.mark.parametrize("name", [SPIKES, BEHAVIOR, CALCIUM, MEG])
def test_info_on_every_test_file(testdata, name):
    summary = io.info(testdata / name)
    assert any(k in summary for k in ("units", "traces"))


# ------------------------------------------------------------------------------------------ writing
def _simulated():
    rng = np.random.default_rng(1)
    exc = io.SpikeTrains([np.sort(rng.uniform(0, 2, 40)) for _ in range(4)], name="exc")
    inh = io.SpikeTrains([np.sort(rng.uniform(0, 2, 10)) for _ in range(2)], name="inh")
    v = io.Traces(rng.normal(-0.065, 0.002, (2000, 3)), rate=1000.0, unit="volts", name="v")
    stim = io.Traces(rng.uniform(0, 1, (200, 2)), rate=100.0, unit="a.u.", name="stim")
    trials = io.Intervals([0.0, 1.0], [0.5, 1.5], pd.DataFrame({"condition": ["A", "B"], "p": [0.25, 1.0]}))
    weights = pd.DataFrame({"i": [0, 1, 2], "j": [1, 2, 0], "w": [0.5, -0.2, 1.5]})
    return exc, inh, v, stim, trials, weights


def test_simulation_round_trip(tmp_path):
    exc, inh, v, stim, trials, weights = _simulated()
    path = io.write_simulation(tmp_path / "sim.nwb", spikes={"exc": exc, "inh": inh}, traces={"v": v},
                               stimuli={"stim": stim}, intervals={"trials": trials}, tables={"weights": weights},
                               parameters={"N": 6, "dt": 1e-4, "nested": {"a": [1, 2]}}, resolution=1e-4)
    sp = io.read_spikes(path)
    assert sp.n_units == 6
    for a, b in zip(sp.times, exc.times + inh.times):
        np.testing.assert_array_equal(a, b)
    assert list(sp.metadata["population"]) == ["exc"] * 4 + ["inh"] * 2
    res = io.read_results(path)
    assert res.kind == "simulation"
    assert res.parameters == {"N": 6, "dt": 1e-4, "nested": {"a": [1, 2]}}
    pd.testing.assert_frame_equal(res.tables["weights"], weights, check_names=False, check_index_type=False)
    ints = io.read_intervals(path)
    np.testing.assert_array_equal(ints["trials"].start, [0.0, 1.0])
    assert list(ints["trials"].table["condition"]) == ["A", "B"]
    import pynwb
    with pynwb.NWBHDF5IO(str(path), "r") as nio:
        nwb = nio.read()
        assert nwb.units.resolution == 1e-4
        np.testing.assert_array_equal(nwb.acquisition["v"].data[:], v.data)
        np.testing.assert_array_equal(nwb.stimulus["stim"].data[:], stim.data)


def test_results_round_trip_and_provenance(tmp_path, testdata):
    src = testdata / SPIKES
    counts = io.bin_spikes(src, 0.1)
    arrays = {"factor": np.arange(12.0).reshape(3, 4), "scalar": np.array(3.5), "labels": np.array([0, 1, 1])}
    table = pd.DataFrame({"unit": [0, 1, 2], "cluster": [1, 0, 1], "label": ["a", "b", "c"]})
    path = io.write_results(tmp_path / "res.nwb", analysis="demo", sources=[src], parameters={"bin_size": 0.1},
                            arrays=arrays, tables={"clusters": table}, traces={"counts": counts})
    res = io.read_results(path)
    assert res.analysis == "demo" and res.parameters == {"bin_size": 0.1}
    assert res.sources[0]["identifier"] == "A8604-211122"
    assert res.sources[0]["sha256"] == io.sha256(src)
    for k, a in arrays.items():
        np.testing.assert_array_equal(res.arrays[k], a)
        assert res.arrays[k].shape == a.shape
    np.testing.assert_array_equal(res.traces["counts"].data, counts.data)
    assert res.traces["counts"].rate == pytest.approx(10.0)
    assert list(res.tables["clusters"]["label"]) == ["a", "b", "c"]


def _inspect(path):
    from nwbinspector import Importance, inspect_nwbfile
    return [m for m in inspect_nwbfile(nwbfile_path=str(path)) if m.importance == Importance.CRITICAL]


def test_written_files_pass_nwbinspector_and_load_in_pynapple(tmp_path, testdata):
    import pynapple as nap
    exc, inh, v, stim, trials, weights = _simulated()
    sim = io.write_simulation(tmp_path / "sim.nwb", spikes={"exc": exc, "inh": inh}, traces={"v": v},
                              stimuli={"stim": stim}, intervals={"trials": trials}, tables={"weights": weights},
                              parameters={"N": 6}, resolution=1e-4)
    res = io.write_results(tmp_path / "res.nwb", analysis="demo", sources=[testdata / SPIKES],
                           arrays={"m": np.eye(3)}, traces={"counts": io.bin_spikes(testdata / SPIKES, 1.0)})
    for path in (sim, res):
        assert _inspect(path) == [], f"CRITICAL nwbinspector findings in {path.name}"
    data = nap.load_file(str(sim))
    try:
        units = data["units"]
        assert len(units) == 6 and isinstance(units, nap.TsGroup)
        np.testing.assert_allclose(units[0].t, exc.times[0])
        assert isinstance(data["v"], nap.TsdFrame) and data["v"].shape == (2000, 3)
        assert len(data["trials"]) == 2
    finally:
        data.close()  # pynapple keeps the file open for lazy loading
    results = nap.load_file(str(res))
    try:
        counts = results["counts"]
    finally:
        results.close()
    assert counts.shape[1] == 3


def test_input_never_modified_and_output_cannot_be_input(tmp_path, testdata):
    import shutil
    src = tmp_path / "in.nwb"
    shutil.copy(testdata / SPIKES, src)
    digest = io.sha256(src)
    with pytest.raises(InvalidInputError, match="never overwrites an input"):
        io.write_results(src, analysis="demo", sources=[src], arrays={"x": np.ones(3)})
    io.write_results(tmp_path / "out.nwb", analysis="demo", sources=[src], arrays={"x": np.ones(3)})
    assert io.sha256(src) == digest


# ------------------------------------------------------------------------------------------ bad input
def _write_units(path, times):
    import datetime
    import pynwb
    nwb = pynwb.NWBFile(session_description="bad", identifier="bad",
                        session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    for t in times:
        nwb.add_unit(spike_times=t)
    with pynwb.NWBHDF5IO(str(path), "w") as nio:
        nio.write(nwb)
    return path


def _write_rrs(path, data, timestamps=None):
    import datetime
    import pynwb
    from pynwb.ophys import Fluorescence, ImageSegmentation, OpticalChannel, RoiResponseSeries
    nwb = pynwb.NWBFile(session_description="rrs", identifier="rrs",
                        session_start_time=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    dev = nwb.create_device(name="scope")
    chan = OpticalChannel(name="green", description="", emission_lambda=520.0)
    plane = nwb.create_imaging_plane(name="plane", optical_channel=chan, description="", device=dev,
                                     excitation_lambda=480.0, indicator="GCaMP", location="CA1", imaging_rate=10.0)
    seg = ImageSegmentation()
    ps = seg.create_plane_segmentation(name="ps", description="", imaging_plane=plane)
    for i in range(5):
        mask = np.zeros((4, 4))
        mask[i % 4, i // 4] = 1
        ps.add_roi(image_mask=mask)
    mod = nwb.create_processing_module(name="ophys", description="")
    mod.add(seg)
    rois = ps.create_roi_table_region(region=list(range(5)), description="all")
    kwargs = {"timestamps": timestamps} if timestamps is not None else {"rate": 10.0}
    fluorescence = Fluorescence()
    mod.add(fluorescence)
    fluorescence.add_roi_response_series(RoiResponseSeries(name="RoiResponseSeries", data=data, rois=rois,
                                                           unit="lumens", **kwargs))
    with pynwb.NWBHDF5IO(str(path), "w") as nio:
        nio.write(nwb)
    return path


def test_missing_path():
    with pytest.raises(DataFileError, match="no such file"):
        io.read_spikes("/nonexistent/file.nwb")


def test_non_hdf5_file(tmp_path):
    path = tmp_path / "notes.nwb"
    path.write_text("not hdf5")
    with pytest.raises(DataFileError, match="not an HDF5 file"):
        io.read_spikes(path)


def test_truncated_hdf5(tmp_path, testdata):
    raw = (testdata / SPIKES).read_bytes()
    path = tmp_path / "truncated.nwb"
    path.write_bytes(raw[: len(raw) // 3])
    with pytest.raises(DataFileError, match="truncated.nwb"):
        io.read_spikes(path)


def test_nwb_without_units(testdata):
    with pytest.raises(NWBContentError, match="no units table"):
        io.read_spikes(testdata / CALCIUM)


def test_negative_and_unsorted_spike_times(tmp_path):
    neg = _write_units(tmp_path / "neg.nwb", [[0.1, 0.2], [-0.5, 0.3]])
    with pytest.raises(NWBContentError, match="neg.nwb.*unit 1.*negative"):
        io.read_spikes(neg)
    uns = _write_units(tmp_path / "uns.nwb", [[0.3, 0.1, 0.2]])
    with pytest.raises(NWBContentError, match="uns.nwb.*unit 0.*not sorted"):
        io.read_spikes(uns)


def test_transposed_roi_response_series(tmp_path):
    rng = np.random.default_rng(0)
    good = _write_rrs(tmp_path / "good.nwb", rng.normal(size=(100, 5)))
    assert io.read_traces(good).data.shape == (100, 5)
    with pytest.warns(UserWarning, match="transposed"):  # pynwb warns but still writes such files
        bad = _write_rrs(tmp_path / "transposed.nwb", rng.normal(size=(5, 100)))
    with pytest.raises(NWBContentError, match="transposed.nwb.*transposed"):
        io.read_traces(bad)


def test_traces_with_nans(tmp_path):
    data = np.random.default_rng(0).normal(size=(50, 5))
    data[3, 2] = np.nan
    path = _write_rrs(tmp_path / "nans.nwb", data)
    with pytest.raises(NWBContentError, match="nans.nwb.*NaN"):
        io.read_traces(path)
    with pytest.raises(InvalidInputError, match="NaN"):
        io.Traces(data, rate=10.0)


@pytest.mark.parametrize("bin_size", [0, -0.1, float("nan")])
def test_bin_size_not_positive(testdata, bin_size):
    sp = io.read_spikes(testdata / SPIKES)
    with pytest.raises(InvalidInputError, match="bin size"):
        sp.count(bin_size)


def test_failed_write_leaves_nothing(tmp_path):
    exc, *_ = _simulated()
    target = tmp_path / "sim.nwb"
    with pytest.raises(InvalidInputError, match="JSON"):
        io.write_simulation(target, spikes={"exc": exc}, parameters={"bad": object()})
    with pytest.raises(InvalidInputError, match="empty"):
        io.write_results(target, analysis="x", tables={"t": pd.DataFrame()})
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_through_the_write_leaves_nothing(tmp_path, monkeypatch):
    import pynwb
    exc, *_ = _simulated()

    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(pynwb.NWBHDF5IO, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        io.write_simulation(tmp_path / "sim.nwb", spikes={"exc": exc})
    assert list(tmp_path.iterdir()) == []


def test_errors_share_one_hierarchy():
    for cls in (DataFileError, InvalidInputError, NWBContentError):
        assert issubclass(cls, NeurosuiteError)


def test_import_is_light():
    code = "import neurodata, neurodata.io, neurosim, sys; print('torch' in sys.modules, 'brian2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_in_place_only_when_asked_and_atomic(tmp_path, testdata, monkeypatch):
    import shutil

    import pynwb
    path = tmp_path / "session.nwb"
    shutil.copy(testdata / SPIKES, path)
    before = io.read_spikes(path)
    io.add_results_in_place(path, analysis="rates", parameters={"bin_size": 1.0},
                            arrays={"rate": np.array([1.0, 2.0, 3.0])})
    after = io.read_spikes(path)
    assert all(np.array_equal(a, b) for a, b in zip(before.times, after.times))  # original content kept
    with io.open_nwb(path) as nwb:
        np.testing.assert_array_equal(nwb.processing["rates"]["rate"]["values"].data[:], [1.0, 2.0, 3.0])
        assert nwb.processing["rates"]["parameters"]["parameter"][0] == "bin_size"  # one row per value
    assert _inspect(path) == []
    with pytest.raises(InvalidInputError, match="already has a processing module 'rates'"):
        io.add_results_in_place(path, analysis="rates", arrays={"rate": np.ones(3)})
    digest = io.sha256(path)

    def broken_export(self, *args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(pynwb.NWBHDF5IO, "export", broken_export)
    with pytest.raises(OSError, match="disk full"):
        io.add_results_in_place(path, analysis="other", arrays={"x": np.ones(2)})
    assert io.sha256(path) == digest and sorted(p.name for p in tmp_path.iterdir()) == ["session.nwb"]


def test_simulated_calcium_reads_back_as_ophys(tmp_path):
    rng = np.random.default_rng(2)
    calcium = io.Traces(rng.uniform(0, 1, (300, 7)), rate=30.0, unit="a.u.", name="calcium")
    path = io.write_simulation(tmp_path / "calcium.nwb", ophys={"RoiResponseSeries": calcium}, parameters={"N": 7})
    back = io.read_traces(path)
    np.testing.assert_array_equal(back.data, calcium.data)
    assert back.rate == 30.0 and back.channels == list(range(7))
    assert back.name == "ophys/Fluorescence/RoiResponseSeries"
    assert _inspect(path) == []


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    exc, *_ = _simulated()
    path = io.write_simulation(tmp_path / "sim.nwb", spikes={"exc": exc})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
