"""What the suite writes, as NWB tools see it (#26 items 6, 7): a simulation's time range is its time support;
results with a time axis are TimeSeries that pynapple loads; nwbinspector finds nothing CRITICAL (and no dict
in a table cell) on any writer's file, short recordings (fewer bins than neurons) included."""
import json

import numpy as np
import pandas as pd
import pytest

from neurodata import io

MEG = "meg/sample_evoked-ave.fif.gz"


def _findings(path):
    from nwbinspector import Importance, inspect_nwbfile

    found = list(inspect_nwbfile(nwbfile_path=str(path)))
    critical = [f"{m.check_function_name} {m.object_name}: {m.message}" for m in found
                if m.importance == Importance.CRITICAL]
    dicts = [m.object_name for m in found if m.check_function_name == "check_table_values_for_dict"]
    return critical, dicts


def _short_recording(path, n_units=30, duration=2.0, seed=0):
    """30 units over 2 s with 6 trials of 3 conditions: binned at 0.25 s, 8 bins < 30 neurons."""
    rng = np.random.default_rng(seed)
    trains = [np.sort(rng.uniform(0, duration, rng.integers(5, 40))) for _ in range(n_units)]
    starts = np.arange(6) * 0.3
    trials = io.Intervals(starts, starts + 0.3, pd.DataFrame({"condition": ["a", "b", "c"] * 2}))
    return io.write_simulation(path, spikes={"cells": io.SpikeTrains(trains, start=0.0, end=duration)},
                               intervals={"trials": trials}, parameters={"duration": duration, "seed": seed,
                                                                         "nested": {"grid": [{"g": 1}, {"g": 2}]}})


def _pynapple_keys(path):
    import pynapple as nap

    data = nap.load_file(str(path))
    try:
        return set(data.keys())
    finally:
        data.close()


def test_simulated_run_keeps_its_time_range(tmp_path):
    from neurosim.circuits import write_lif_network

    path = write_lif_network(tmp_path / "lif.nwb", n_neurons=40, duration=2.0, seed=3)
    spikes = io.read_spikes(path)
    first = min(t[0] for t in spikes.times if t.size)
    assert first > 0.0  # no spike at 0: the support does not come from the spikes
    assert (spikes.start, spikes.end) == (0.0, 2.0)
    counts = spikes.count(0.05)
    assert counts.n_times == 40 and counts.start == 0.0
    assert counts.data.sum() == spikes.n_spikes
    import h5py
    with h5py.File(path, "r") as fh:  # the NWB-native record: every unit's obs_intervals
        np.testing.assert_array_equal(fh["units/obs_intervals"][()], np.tile([0.0, 2.0], (40, 1)))
    critical, dicts = _findings(path)
    assert critical == [] and dicts == []


def test_every_analysis_writer_on_a_short_recording(tmp_path, testdata):
    from neurodata.batch import analyses
    from neurodata.cli import build_parser, run

    src = _short_recording(tmp_path / "short.nwb")
    assert io.read_spikes(src).count(0.25).n_times == 8
    written = {"simulation": src}
    for name, func, params in [("bin", analyses.bin_spikes, {"bin_size": 0.25}),
                               ("summary", analyses.spike_summary, {}),
                               ("bicluster", analyses.bicluster, {"bin_size": 0.25, "n_iter": 12, "thin": 2,
                                                                  "n_chains": 1}),
                               ("rsa", analyses.rsa, {"gt": (0.4, 0.6)})]:
        written[name] = tmp_path / f"{name}.nwb"
        func(str(src), written[name], params)
    np.save(tmp_path / "model.npy", np.eye(4)[:, :2])
    written["rsa_meg"] = tmp_path / "rsa_meg.nwb"
    analyses.rsa_compare(str(testdata / MEG), written["rsa_meg"], {"model": str(tmp_path / "model.npy")})
    from test_cli_registry import _calcium_file
    written["connectome"] = tmp_path / "connectome.nwb"
    analyses.connectome(str(_calcium_file(tmp_path / "calcium.nwb")), written["connectome"], {"rank": 2})
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "layers.npz", l0=rng.standard_normal((40, 3)), l1=rng.standard_normal((40, 5)))
    np.save(tmp_path / "meg.npy", rng.standard_normal((40, 3, 6)))
    written["alignment"] = tmp_path / "align.nwb"
    argv = ["align", "temporal", "--features", str(tmp_path / "layers.npz"), "--meg", str(tmp_path / "meg.npy"),
            "--sfreq", "100", "--out", str(written["alignment"]), "--quiet"]
    run(build_parser(modules=["neurodata.alignment.cli"]), argv)  # random data: the score may be undefined
    written = {k: v for k, v in written.items() if v.exists()}
    assert {"bin", "summary", "bicluster", "rsa", "rsa_meg", "connectome"} <= set(written)
    for name, path in written.items():
        critical, dicts = _findings(path)
        assert critical == [], f"{name}: {critical}"
        assert dicts == [], f"{name}: a table cell holds a dict: {dicts}"

    # time-axis results are TimeSeries that pynapple loads (those with more time points than columns)
    assert {"states", "state_raster"} & _pynapple_keys(written["bicluster"]) == {"states"}
    assert {"rdms", "similarity"} <= _pynapple_keys(written["rsa_meg"])
    assert "temporal" in _pynapple_keys(written["connectome"])
    # ... and read_results reads back every one of them, the short ones too
    bic = io.read_results(written["bicluster"])
    assert bic.traces["states"].n_times == 8 and bic.traces["states"].start == 0.0
    assert bic.traces["log_rate_mean"].data.shape == (8, 30)  # kept as a time-first table: 8 bins < 30 units
    assert bic.arrays["coclustering_neurons"].shape == (30, 30)
    counts = io.read_results(written["bin"]).traces["counts"]
    assert counts.data.shape == (8, 30) and counts.unit == "count"
    meg = io.read_results(written["rsa_meg"])
    assert meg.traces["similarity"].n_times == 421 and meg.arrays["model_rdm"].shape == (6,)
    assert list(meg.tables["conditions"]["condition"]) == ["Left Auditory", "Right Auditory", "Left visual",
                                                           "Right visual"]
    assert io.read_results(src).parameters == {"duration": 2.0, "seed": 0,
                                               "nested": {"grid": [{"g": 1}, {"g": 2}]}}


def test_array_descriptions_are_words(tmp_path):
    import pynwb

    path = io.write_results(tmp_path / "r.nwb", analysis="demo", arrays={"m": np.eye(3), "s": np.array(2.0)},
                            descriptions={"m": "identity matrix"})
    with pynwb.NWBHDF5IO(str(path), "r") as nio:
        module = nio.read().processing["demo"]
        assert module["m"].description == "identity matrix. Array of shape (3, 3)."
        assert module["s"].description == "s. Array of shape ()."
        for name in ("m", "s"):
            with pytest.raises(ValueError):
                json.loads(module[name].description)
    res = io.read_results(path)
    assert res.arrays["s"].shape == () and res.arrays["m"].shape == (3, 3)


def test_writer_checks_orientation_like_the_readers(tmp_path):
    """#26 item 2: a Traces built units × time is refused by write_results when the file's units contradict it,
    warned about when nothing declares the layout, and written silently once channel names declare it; nothing
    is left behind by a refusal."""
    from neurodata.errors import InvalidInputError, NeurosuiteWarning

    rng = np.random.default_rng(0)
    units_by_time = rng.poisson(2.0, size=(12, 400)).astype(float)  # 12 units × 400 bins, built the wrong way
    wrong = io.Traces(units_by_time, rate=10.0)
    spikes = io.SpikeTrains([np.sort(rng.uniform(0, 40, 20)) for _ in range(12)], start=0.0, end=40.0)
    out = tmp_path / "r.nwb"
    with pytest.raises(InvalidInputError, match=r"\(12, 400\).*transposed.*Traces\(x\.T"):
        io.write_results(out, analysis="demo", traces={"counts": wrong}, spikes=spikes)
    assert not out.exists()
    with pytest.warns(NeurosuiteWarning, match=r"fewer time points \(12\) than channels \(400\).*channels=\.\.\."):
        io.write_results(out, analysis="demo", traces={"counts": wrong})
    declared = io.Traces(units_by_time, rate=10.0, channels=[f"roi{i}" for i in range(400)])
    io.write_results(tmp_path / "ok.nwb", analysis="demo", traces={"counts": declared})  # warnings are errors here
    right = io.Traces(units_by_time.T, rate=10.0)
    io.write_results(tmp_path / "right.nwb", analysis="demo", traces={"counts": right}, spikes=spikes)
    assert io.read_results(tmp_path / "right.nwb").traces["counts"].data.shape == (400, 12)
