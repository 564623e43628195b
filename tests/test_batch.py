"""Batches: a corrupt file among good ones; killed midway and resumed without redoing finished files;
summary CSV + NWB; per-file seeds; CLI; real recordings."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurodata.batch import ANALYSES, register_analysis, run_batch
from neurodata.errors import InvalidInputError
from neurodata.execution import is_complete
from neurodata.io import SpikeTrains, read_results, write_simulation

HERE = Path(__file__).resolve().parent


def _session(path, seed, n_units=4, duration=20.0, overwrite=False):
    """A small NWB recording: Poisson units at known rates (2, 4, 6, ... Hz)."""
    rng = np.random.default_rng(seed)
    times = [np.sort(rng.uniform(0, duration, rng.poisson(2.0 * (u + 1) * duration))) for u in range(n_units)]
    write_simulation(path, spikes={"units": SpikeTrains(times, start=0.0, end=duration)},
                     parameters={"seed": seed}, description="test session", overwrite=overwrite)
    return path


@pytest.fixture
def sessions(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    return [_session(folder / f"session{i}.nwb", i) for i in range(6)]


# a slow analysis for the kill test: counts its calls in a file named by the environment
def slow_summary(nwb_path, out_path, params):
    from neurodata.batch.analyses import spike_summary

    with open(os.environ["BATCH_CALLS"], "a") as fh:
        fh.write(f"{Path(nwb_path).name}\n")
    time.sleep(float(os.environ.get("BATCH_DELAY", "0")))
    return spike_summary(nwb_path, out_path, params)


slow_summary.parameters = lambda: {"fano_bin": 1.0}


# ------------------------------------------------------------------------------------ number 2 of the issue
def test_corrupt_file_is_reported_and_good_files_complete(sessions, tmp_path):
    truncated = tmp_path / "in" / "truncated.nwb"
    data = sessions[0].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])                 # a copy cut off mid-write
    not_hdf5 = tmp_path / "in" / "notes.nwb"
    not_hdf5.write_text("this is not an NWB file")
    files = [sessions[0], truncated, sessions[1], not_hdf5, sessions[2], tmp_path / "in" / "missing.nwb"]
    summary = run_batch("summary", files, out=tmp_path / "out", verbose=False)

    table = summary.table.set_index(summary.table["source"].map(lambda s: Path(s).name))
    assert table["status"].to_dict() == {"session0.nwb": "ok", "truncated.nwb": "failed", "session1.nwb": "ok",
                                         "notes.nwb": "failed", "session2.nwb": "ok", "missing.nwb": "failed"}
    assert summary.n_failed == 3 and not summary.ok
    assert "DataFileError" in table.loc["truncated.nwb", "error"] and "truncated.nwb" in table.loc["truncated.nwb", "error"]
    assert "not an HDF5 file" in table.loc["notes.nwb", "error"]
    assert "no such file" in table.loc["missing.nwb", "error"]
    for name in ("session0", "session1", "session2"):
        res = read_results(tmp_path / "out" / f"{name}.summary.nwb")
        assert res.sources[0]["path"].endswith(f"{name}.nwb")
        rates = res.tables["units"]["rate_hz"].to_numpy()
        assert np.allclose(rates, [2, 4, 6, 8], rtol=0.35)     # Poisson rates within ±35 % over 20 s
    assert not (tmp_path / "out" / "truncated.summary.nwb").exists()   # nothing partial written for bad inputs
    assert not list((tmp_path / "out").glob(".*tmp*"))
    csv = pd.read_csv(summary.csv_path)
    assert len(csv) == 6 and set(csv.columns) >= {"source", "file", "status", "error", "n_units", "median_rate_hz"}
    res = read_results(summary.nwb_path)
    assert res.analysis == "batch" and len(res.tables["runs"]) == 6 and len(res.sources) == 3


# ------------------------------------------------------------------------------------ number 3 of the issue
def _finished(out):
    """Records of finished files (a run's record says "running" from its start, "ok" once done)."""
    import json
    return sorted(p for p in out.glob("session*.json") if json.loads(p.read_text()).get("status") == "ok")


def test_killed_batch_resumes_without_redoing_finished_files(sessions, tmp_path, monkeypatch):
    """A batch process is SIGKILLed after some files are done; rerunning finishes only the rest."""
    out, calls = tmp_path / "out", tmp_path / "calls.txt"
    script = (f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_batch\n"
              "from neurodata.batch import ANALYSES, register_analysis, run_batch\n"
              "register_analysis('slow_summary', test_batch.slow_summary)\n"
              f"run_batch('slow_summary', {[str(s) for s in sessions]!r}, out={str(out)!r}, verbose=False)\n")
    env = dict(os.environ, BATCH_CALLS=str(calls), BATCH_DELAY="1.0")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    try:
        deadline = time.monotonic() + 120
        while len(_finished(out)) < 2:
            assert proc.poll() is None, "the batch ended before it could be killed"
            assert time.monotonic() < deadline, "the batch made no progress"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    finished = _finished(out)
    assert 2 <= len(finished) < len(sessions)
    done_before = {p.with_suffix(".nwb").name: p.with_suffix(".nwb").stat().st_mtime_ns for p in finished}
    calls.write_text("")

    monkeypatch.setenv("BATCH_CALLS", str(calls))
    monkeypatch.setitem(ANALYSES, "slow_summary", None)                # restored after the test
    register_analysis("slow_summary", slow_summary)
    summary = run_batch("slow_summary", sessions, out=out, verbose=False)
    assert summary.ok
    redone = calls.read_text().split()
    assert len(redone) == len(sessions) - len(done_before)           # only the unfinished files ran
    assert not {Path(n).name.replace(".slow_summary.nwb", ".nwb") for n in done_before} & set(redone)
    assert {n: (out / n).stat().st_mtime_ns for n in done_before} == done_before   # finished files untouched
    assert summary.n_skipped == len(done_before)
    assert not list(out.glob(".*tmp*"))                                # the killed writer's temp file is gone
    for s in sessions:
        assert read_results(out / f"{s.stem}.slow_summary.nwb").tables["units"].shape[0] == 4


def test_changed_input_or_parameters_are_recomputed(sessions, tmp_path):
    out = tmp_path / "out"
    first = run_batch("bin", sessions[:2], out=out, params={"bin_size": 0.5}, verbose=False)
    assert first.ok
    again = run_batch("bin", sessions[:2], out=out, params={"bin_size": 0.5}, verbose=False)
    assert again.n_skipped == 2
    other = run_batch("bin", sessions[:2], out=out, params={"bin_size": 1.0}, verbose=False)
    assert other.n_skipped == 0 and other.table["n_bins"].tolist() == [n // 2 for n in first.table["n_bins"]]
    _session(sessions[0], 99, overwrite=True)                        # the input changes
    once_more = run_batch("bin", sessions[:2], out=out, params={"bin_size": 1.0}, verbose=False)
    assert once_more.table["status"].tolist() == ["ok", "skipped"]
    record = out / "session1.bin.json"
    record.write_text("{ truncated")                                 # a damaged record means: not done
    assert is_complete(out / "session1.bin.nwb", record, {}) is None


def test_bad_arguments(sessions, tmp_path):
    with pytest.raises(InvalidInputError, match="Did you mean 'summary'"):
        run_batch("sumary", sessions, out=tmp_path)
    with pytest.raises(InvalidInputError, match="no parameter"):
        run_batch("bin", sessions, out=tmp_path, params={"binsize": 1})
    with pytest.raises(InvalidInputError, match="twice"):
        run_batch("bin", [sessions[0], sessions[0]], out=tmp_path, params={"bin_size": 1})
    summary = run_batch("bin", sessions[:1], out=tmp_path / "o", verbose=False)   # bin_size missing
    assert summary.table["status"].tolist() == ["failed"] and "needs bin_size" in summary.table["error"][0]


def test_stochastic_analysis_gets_a_seed_per_file_independent_of_workers(sessions, tmp_path, monkeypatch):
    calls = tmp_path / "calls.txt"
    seen = {}

    def seeded(nwb_path, out_path, params):
        seen[Path(nwb_path).name] = params["seed"]
        return slow_summary(nwb_path, out_path, {})

    seeded.parameters = lambda: {"seed": None}
    monkeypatch.setenv("BATCH_CALLS", str(calls))
    monkeypatch.setitem(ANALYSES, "seeded", seeded)
    run_batch("seeded", sessions[:3], out=tmp_path / "a", seed=5, verbose=False)
    first = dict(seen)
    seen.clear()
    table = run_batch("seeded", sessions[2::-1], out=tmp_path / "b", seed=5, verbose=False).table
    assert seen == first and len(set(first.values())) == 3                # order does not change a file's seed
    assert sorted(table["seed"]) == sorted(first.values())


def test_joblib_batch_matches_serial(sessions, tmp_path):
    serial = run_batch("summary", sessions[:4], out=tmp_path / "s", verbose=False).table
    parallel = run_batch("summary", sessions[:4], out=tmp_path / "p", n_jobs=2, verbose=False).table
    cols = ["n_units", "n_spikes", "median_rate_hz", "mean_cv_isi", "mean_fano"]
    pd.testing.assert_frame_equal(serial[cols], parallel[cols])


def test_batch_cli(sessions, tmp_path, capsys):
    from neurodata.cli import build_parser, run

    parser = build_parser(modules=["neurodata.batch_cli"])
    files = [str(s) for s in sessions[:2]]
    assert run(parser, ["batch", "bin", *files, "--param", "bin_size=0.5", "--out", str(tmp_path / "o")]) == 0
    assert "2 of 2 files ok" in capsys.readouterr().out
    bad = tmp_path / "bad.nwb"
    bad.write_text("x")
    assert run(parser, ["batch", "bin", *files, str(bad), "--param", "bin_size=0.5", "--out",
                        str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert "2 of 3 files ok (2 already done)" in captured.out
    assert "failed: " in captured.err and "bad.nwb" in captured.err


def test_batch_on_real_recordings(testdata, tmp_path):
    files = sorted((testdata / "nwb").glob("*.nwb"))
    summary = run_batch("summary", files, out=tmp_path, verbose=False)
    table = summary.table.set_index(summary.table["source"].map(lambda s: Path(s).name))
    assert table.loc["spikes_A8604-211122.nwb", "n_spikes"] == 21354            # README: 3 units, 21,354 spikes
    assert table.loc["spikes_behavior_A2929-200711.nwb", "n_units"] == 15
    assert table.loc["calcium_A6512-210915.nwb", "status"] == "failed"            # imaging only: no Units table
    assert "units" in table.loc["calcium_A6512-210915.nwb", "error"].lower()
