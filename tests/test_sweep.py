"""Sweeps: identical per-point results in-process, with joblib and on a Dask LocalCluster; seeds per run;
resume; failures per point; compiled cpp_standalone reuse; CLI; the dask-jobqueue example's job script."""
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurodata.errors import InvalidInputError
from neurodata.execution import derive_seed, run_tasks
from neurodata.io import read_results, read_spikes
from neurosim.sweep import expand_grid, parse_grid, run_sweep

ROOT = Path(__file__).resolve().parent.parent
# a faithful small configuration of the built-in network: 50 neurons, 0.1 s, numpy target (no compiler)
SMALL = {"n_neurons": 50, "duration": 0.1, "target": "numpy", "record_v": 2}
GRID_8 = {"g": [3.0, 4.0, 5.0, 6.0], "nu_ext_ratio": [1.0, 2.0]}


def _spike_times(path):
    return [np.asarray(t) for t in read_spikes(path).times]


# ------------------------------------------------------------------------------------------------ unit
def test_derive_seed_depends_only_on_base_and_key():
    assert derive_seed(0, "a") == derive_seed(0, "a")
    seeds = {derive_seed(0, f"point{i}") for i in range(200)}
    assert len(seeds) == 200                               # distinct streams per run
    assert derive_seed(1, "a") != derive_seed(0, "a")
    assert all(0 <= s < 2**31 - 1 for s in seeds)
    with pytest.raises(InvalidInputError, match="seed"):
        derive_seed(-1, "a")


def test_parse_and_expand_grid():
    grid = parse_grid(["g=3,4.5", "device=runtime", "flag=true"])
    assert grid == {"g": [3, 4.5], "device": ["runtime"], "flag": [True]}
    points = expand_grid({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(points) == 6 and points[0] == {"a": 1, "b": "x"} and points[1] == {"a": 1, "b": "y"}
    for bad in (["g"], ["=1,2"], ["g="]):
        with pytest.raises(InvalidInputError, match="param=v1,v2"):
            parse_grid(bad)
    with pytest.raises(InvalidInputError, match="repeats a value"):
        expand_grid({"g": [1, 1]})


def test_unknown_parameter_fails_before_running(tmp_path):
    with pytest.raises(InvalidInputError, match="did you mean 'nu_ext_ratio'"):
        run_sweep("lif_network", {"nu_ext": [1.0]}, out=tmp_path)
    with pytest.raises(InvalidInputError, match="Did you mean 'lif_network'"):
        run_sweep("lif_netwrk", {"g": [1.0]}, out=tmp_path)
    assert not list(tmp_path.glob("*.nwb"))


def _count_calls(value):
    return value * 2


def test_run_tasks_records_failures_and_keeps_order():
    outcomes = run_tasks(_count_calls, [{"value": 1}, {"value": "x"}, {"value": None}, {"value": 4}],
                         verbose=False)
    assert [o["status"] for o in outcomes] == ["ok", "ok", "failed", "ok"]
    assert [o.get("value") for o in outcomes] == [2, "xx", None, 8]
    assert "TypeError" in outcomes[2]["error"]


# ------------------------------------------------------------------------------------ number 1 of the issue
def test_sweep_identical_in_process_joblib_and_dask_localcluster(tmp_path):
    """An 8-point sweep gives identical per-point results (seeds, metrics, every spike time) in-process, with
    joblib (2 processes) and on a Dask LocalCluster with 2 worker processes."""
    runs = {}
    for name, options in {"serial": {}, "joblib": {"n_jobs": 2},
                          "dask": {"n_jobs": 2, "scheduler": "local"}}.items():
        summary = run_sweep("lif_network", GRID_8, fixed=SMALL, out=tmp_path / name, seed=7, verbose=False,
                            **options)
        assert summary.ok, summary.table["error"].tolist()
        assert len(summary.table) == 8
        runs[name] = summary.table
    metrics = ["g", "nu_ext_ratio", "seed", "rate_exc_hz", "rate_inh_hz", "cv_isi_exc", "n_spikes"]
    for name in ("joblib", "dask"):
        pd.testing.assert_frame_equal(runs[name][metrics], runs["serial"][metrics])
        for a, b in zip(runs["serial"]["file"], runs[name]["file"]):
            assert Path(a).name == Path(b).name
            assert all(np.array_equal(x, y) for x, y in zip(_spike_times(a), _spike_times(b)))
    table = runs["serial"]
    assert table["seed"].nunique() == 8                            # one seed per point
    # the physics is there: doubling the external drive raises the rates several-fold at every g
    low = table[table.nu_ext_ratio == 1.0].set_index("g")["rate_exc_hz"]
    high = table[table.nu_ext_ratio == 2.0].set_index("g")["rate_exc_hz"]
    assert (high > 2 * low).all()


def test_seed_of_a_point_does_not_depend_on_the_rest_of_the_grid(tmp_path):
    one = run_sweep("lif_network", {"g": [5.0]}, fixed=SMALL, out=tmp_path / "one", seed=7, verbose=False)
    many = run_sweep("lif_network", {"g": [4.0, 5.0]}, fixed=SMALL, out=tmp_path / "many", seed=7, verbose=False)
    row = many.table[many.table.g == 5.0].iloc[0]
    assert row["seed"] == one.table["seed"].iloc[0]
    assert row["n_spikes"] == one.table["n_spikes"].iloc[0]


def test_sweep_summary_nwb_resume_and_failed_point(tmp_path):
    # v_reset above theta is rejected by the circuit: that point fails, the other two run
    summary = run_sweep("lif_network", {"v_reset": [0.0, 0.01, 0.05]}, fixed=SMALL, out=tmp_path, verbose=False)
    status = summary.table.set_index("v_reset")["status"]
    assert status.to_dict() == {0.0: "ok", 0.01: "ok", 0.05: "failed"}
    error = summary.table.loc[summary.table.v_reset == 0.05, "error"].iloc[0]
    assert "InvalidInputError" in error and "v_reset" in error
    assert not Path(summary.table.loc[summary.table.v_reset == 0.05, "file"].iloc[0]).exists()
    res = read_results(summary.nwb_path)
    assert res.analysis == "sweep" and len(res.tables["runs"]) == 3 and len(res.sources) == 2
    assert res.parameters["simulation"] == "lif_network"
    ok_files = [Path(f) for f in summary.table.loc[summary.table.status == "ok", "file"]]
    stamps = {f: f.stat().st_mtime_ns for f in ok_files}
    again = run_sweep("lif_network", {"v_reset": [0.0, 0.01, 0.05]}, fixed=SMALL, out=tmp_path, verbose=False)
    assert again.table.set_index("v_reset")["status"].to_dict() == {0.0: "skipped", 0.01: "skipped", 0.05: "failed"}
    assert {f: f.stat().st_mtime_ns for f in ok_files} == stamps       # finished runs were not redone
    assert again.table["n_spikes"].iloc[:2].tolist() == summary.table["n_spikes"].iloc[:2].tolist()
    params = read_results(ok_files[0]).parameters
    assert params["v_reset"] == 0.0 and params["n_neurons"] == 50


def test_sweep_cli(tmp_path, capsys):
    from neurodata.cli import build_parser, run

    parser = build_parser(prog="neurosim", modules=["neurosim.sweep_cli"])
    argv = ["sweep", "lif_network", "--grid", "g=4,5", "--set", "n_neurons=50", "--set", "duration=0.1",
            "--set", "target=numpy", "--out", str(tmp_path), "--seed", "3"]
    assert run(parser, argv) == 0
    assert "2 of 2 runs ok" in capsys.readouterr().out
    table = pd.read_csv(tmp_path / "summary.csv")
    assert list(table["g"]) == [4, 5] and (table["status"] == "ok").all()
    assert run(parser, argv[:2] + ["--grid", "gg=1", "--out", str(tmp_path)]) == 1
    assert "did you mean 'g'" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ cpp_standalone
@pytest.mark.slow
def test_cpp_standalone_sweep_compiles_once_and_reruns_with_run_args(tmp_path, monkeypatch):
    """Three points on cpp_standalone: one build in this process, one results directory per run, runs
    reproducible from their seeds (a repeated seed gives the same spikes, another seed different ones)."""
    from neurosim import circuits

    builds = []
    original = circuits.CompiledLIFNetwork.build
    monkeypatch.setattr(circuits.CompiledLIFNetwork, "build", lambda self: builds.append(1) or original(self))
    monkeypatch.setattr(circuits, "_COMPILED", {})
    fixed = {"n_neurons": 50, "duration": 0.1, "device": "cpp_standalone"}
    summary = run_sweep("lif_network", {"g": [4.0, 5.0, 6.0]}, fixed=fixed, out=tmp_path / "a", verbose=False)
    assert summary.ok, summary.table["error"].tolist()
    assert len(builds) == 1
    net = next(iter(circuits._COMPILED.values()))
    assert not any((Path(net.directory) / "results").glob("lif_network_*"))   # per-run results read and removed
    pops, _, _ = net.run({"g": 5.0}, seed=11, results_directory="results/check_a")
    pops_again, _, _ = net.run({"g": 5.0}, seed=11, results_directory="results/check_b")
    pops_other, _, _ = net.run({"g": 5.0}, seed=12, results_directory="results/check_c")
    same = [np.array_equal(a, b) for a, b in zip(pops["exc"].times, pops_again["exc"].times)]
    assert all(same)
    assert not all(np.array_equal(a, b) for a, b in zip(pops["exc"].times, pops_other["exc"].times))
    assert (summary.table["rate_exc_hz"] > 0).all()
    with pytest.raises(InvalidInputError, match="without recompiling"):
        net.run({"p": 0.2}, seed=1, results_directory="results/check_d")


# ------------------------------------------------------------------------------------ dask-jobqueue
def test_jobqueue_slurm_example_job_script():
    """The documented SLURM example produces a valid sbatch script (nothing is submitted)."""
    spec = importlib.util.spec_from_file_location("jobqueue_slurm", ROOT / "examples" / "jobqueue_slurm.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    cluster = example.make_cluster(queue="normal", account="lab", cores=4, memory="16GB", walltime="01:30:00",
                                   python="/opt/venv/bin/python", env=["module load gcc"])
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    assert lines[0].startswith("#!")
    for directive in ("#SBATCH -p normal", "#SBATCH -A lab", "#SBATCH --cpus-per-task=4", "#SBATCH -t 01:30:00"):
        assert directive in lines
    assert any(line.startswith("#SBATCH --mem=") for line in lines)
    assert "module load gcc" in lines
    worker = lines[-1]
    assert worker.startswith("/opt/venv/bin/python -m distributed.cli.dask_worker tcp://")
    assert "--nthreads 1" in worker and "--nworkers 4" in worker          # single-threaded processes


# ------------------------------------------------------------------------------------ other registered models
def test_dendrites_and_reservoir_are_sweepable(tmp_path):
    """The registry's other models run through the same path: one NWB per point with the model's metrics."""
    pytest.importorskip("neurosim.dendrites.experiment")
    dendrites = run_sweep("ahmad_hawkins_2016", {"theta": [3, 4]}, out=tmp_path / "d", verbose=False,
                          fixed={"n_inputs": 200, "n_active": 20, "n_neurons": 5, "n_segments": 4,
                                 "n_synapses": 10, "n_random": 10})
    assert dendrites.ok, dendrites.table["error"].tolist()
    theory = dendrites.table.set_index("theta")["segment_false_positive_theory"]
    assert theory[4] < theory[3]                       # a higher NMDA threshold: fewer false positives
    assert read_results(dendrites.table["file"][0]).parameters["citation"].startswith("Ahmad & Hawkins")

    pytest.importorskip("neurosim.reservoir.network")
    reservoir = run_sweep("yamada_chao_2025_reservoir", {"eta_when": [0.1, 0.2]}, out=tmp_path / "r",
                          fixed={"n_neurons": 100, "n_trials": 4, "target": "numpy"}, verbose=False)
    assert reservoir.ok, reservoir.table["error"].tolist()
    assert (reservoir.table["rate_hz"] > 0).all()
    assert len(read_spikes(reservoir.table["file"][0]).times) == 100
