"""One component table per layer: every registered component reaches the CLI, batch, sweep and the demo; each
analysis writes the same structure from its command as from ``batch``; ``--out`` never replaces a file
unless ``--overwrite``."""
import importlib
import importlib.util
import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

import neurodata.cli
import neurodata.registry
import neurosim.cli
import neurosim.registry
from neurodata.batch import ANALYSES, run_batch

ROOT = Path(__file__).resolve().parent.parent
SPIKES = "nwb/spikes_A8604-211122.nwb"


def _resolves(target):
    module, _, func = target.partition(":")
    return callable(getattr(importlib.import_module(module), func))


def _top_commands(parser):
    return set(next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices)


# ------------------------------------------------------------------------------------------- the registry
@pytest.mark.parametrize("program, table", [(neurodata.cli, neurodata.registry.COMPONENTS),
                                            (neurosim.cli, neurosim.registry.COMPONENTS)])
def test_every_component_reaches_the_cli(program, table):
    commands = _top_commands(program.parser())
    registered = {cmd for c in table for cmd in c.commands}
    assert registered <= commands
    assert commands - registered <= {"info"}  # the one built-in that is not a component
    assert program.SUBCOMMAND_MODULES == list(dict.fromkeys(c.cli for c in table if c.cli))
    for c in table:
        assert c.kind in ("analysis", "simulator", "driver", "tool"), c
        assert bool(c.cli) == bool(c.commands), c


def test_every_analysis_reaches_batch():
    from neurodata.batch.core import ANALYSES as core_analyses

    expected = {c.name: c.analysis for c in neurodata.registry.COMPONENTS if c.analysis}
    assert {k: v for k, v in core_analyses.items() if k in expected} == expected
    for name, target in expected.items():
        assert _resolves(target), name
        func = importlib.import_module(target.partition(":")[0]).__dict__[target.partition(":")[2]]
        assert callable(getattr(func, "parameters", None)), f"{name}: the batch function lists no parameters()"


def test_every_simulation_reaches_the_sweep():
    from neurodata.cards import load_card
    from neurosim.sweep import SIMULATIONS

    expected = {c.card: c.simulation for c in neurosim.registry.COMPONENTS if c.simulation}
    assert {k: v for k, v in SIMULATIONS.items() if k in expected} == expected
    for card, target in expected.items():
        assert _resolves(target), card
        assert load_card(card)["name"] if "name" in load_card(card) else True


def test_every_demo_step_is_in_the_main_job(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "examples"))  # steps kept in examples/ import from there, as in the demo
    spec = importlib.util.spec_from_file_location("neurosuite_demo_main", ROOT / "examples" / "demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    steps = dict(demo.COMPONENT_STEPS)
    for c in neurodata.registry.COMPONENTS + neurosim.registry.COMPONENTS:
        if c.demo:
            assert steps.get(c.demo_title) == c.demo, c.name
            module = c.demo.partition(":")[0]
            assert importlib.util.find_spec(module) is not None, f"{c.name}: demo module {module} not found"
    assert len(steps) == len(demo.COMPONENT_STEPS)  # one folder per step
    # simulators, then analyses, then the scale-out drivers (the order the demo has always run in)
    kinds = {c.demo_title: c.kind for c in neurodata.registry.COMPONENTS + neurosim.registry.COMPONENTS}
    order = [kinds[title] for title, _ in demo.COMPONENT_STEPS]
    assert order == sorted(order, key=("simulator", "analysis", "tool", "driver").index)


# ------------------------------------------------------------- one path per analysis: CLI == batch structure
def _trials_file(path):
    from neurodata.io import Intervals, SpikeTrains, write_simulation

    rng = np.random.default_rng(0)
    starts = np.arange(20) * 1.0
    cond = np.tile(["c0", "c1", "c2", "c3"], 5)
    trains = [np.sort(np.concatenate([s + rng.uniform(0, 0.5, 2 + 3 * int(c[1]) + u) for s, c in zip(starts, cond)]))
              for u in range(4)]
    write_simulation(path, spikes={"cells": SpikeTrains(trains)},
                     intervals={"trials": Intervals(starts, starts + 0.5, table=pd.DataFrame({"condition": cond}))})
    return path


def _calcium_file(path):
    from neurosim.groundtruth.connectome import simulate_dynamic_communities, write_calcium_nwb

    members = np.array([np.arange(12) < 6, np.arange(12) >= 6])
    sim = simulate_dynamic_communities(n_neurons=12, n_animals=1, duration=60.0, members=members,
                                       animals=np.ones((2, 1), bool), seed=4)
    write_calcium_nwb(path, sim.traces[0], parameters={"seed": 4})
    return path


# analysis → (input maker, CLI argv after the input, the same parameters for batch)
CASES = {
    "bin": (SPIKES, ["bin", "--bin-size", "0.5"], {"bin_size": 0.5}),
    "summary": (SPIKES, ["summary"], {}),
    "bicluster": (SPIKES, ["bicluster", "--bin-size", "2.0", "--n-iterations", "12", "--thin", "2",
                           "--n-chains", "2"],
                  {"bin_size": 2.0, "n_iter": 12, "thin": 2, "n_chains": 2}),
    "rsa": (_trials_file, ["rsa", "rdm"], {}),
    "connectome": (_calcium_file, ["connectome", "--rank", "2", "--resolution", "1.0"],
                   {"rank": 2, "resolution": 1.0}),
    "neuroformer": (SPIKES, ["neuroformer", "pretrain", "--n-epochs", "1", "--n-embedding-dims", "8", "--n-heads", "2",
                             "--n-layers", "1", "--torch-device", "cpu", "--torch-threads", "1"],
                    {"epochs": 1, "n_embd": 8, "n_head": 2, "n_state": 1, "n_history": 1, "n_self": 1,
                     "device": "cpu", "n_threads": 1}),
}


def _structure(path):
    """{object path: shape} of every dataset a reader would see (file-level metadata left out)."""
    out = {}
    with h5py.File(path, "r") as fh:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset) and name.split("/")[0] in ("processing", "units", "intervals",
                                                                           "analysis", "acquisition"):
                out[name] = obj.shape
        fh.visititems(visit)
    return out


def test_cases_cover_every_registered_analysis():
    assert set(CASES) == set(neurodata.registry.analyses())


@pytest.mark.filterwarnings("ignore::neurodata.errors.ConvergenceWarning")  # short chains, on purpose
@pytest.mark.parametrize("name", sorted(CASES))
def test_cli_and_batch_write_the_same_structure(name, testdata, tmp_path):
    make, argv, params = CASES[name]
    source = testdata / make if isinstance(make, str) else make(tmp_path / f"{name}_input.nwb")
    cli_out = tmp_path / "cli.nwb"
    command, rest = argv[0], argv[1:]
    words = [command] + ([rest.pop(0)] if rest and not rest[0].startswith("-") else [])
    assert neurodata.cli.main([*words, str(source), *rest, "--out", str(cli_out), "--quiet"]) == 0
    summary = run_batch(name, [source], out=tmp_path / "batch", params=params, verbose=False)
    assert summary.ok, summary.table
    batch_out = Path(summary.table["file"].iloc[0])
    cli_structure, batch_structure = _structure(cli_out), _structure(batch_out)
    assert [k for k in cli_structure if k.startswith(f"processing/")], cli_structure
    assert cli_structure == batch_structure


# ------------------------------------------------------------------------------------------- --overwrite
def test_out_refuses_an_existing_file_unless_overwrite(testdata, tmp_path, capsys):
    real = testdata / "nwb" / "spikes_behavior_A2929-200711.nwb"
    existing = tmp_path / "existing.nwb"
    shutil.copy(testdata / SPIKES, existing)  # another real recording, as in the issue
    before = existing.read_bytes()
    argv = ["bin", str(real), "--bin-size", "0.1", "--out", str(existing), "--quiet"]
    assert neurodata.cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "existing.nwb" in err[0] and "--overwrite" in err[0], err
    assert existing.read_bytes() == before
    assert neurodata.cli.main(argv + ["--overwrite"]) == 0
    from neurodata.io import read_results
    res = read_results(existing)
    assert res.analysis == "binning" and res.traces["counts"].n_channels == 15


def test_overwrite_never_replaces_an_input(testdata, tmp_path, capsys):
    path = tmp_path / "session.nwb"
    shutil.copy(testdata / SPIKES, path)
    before = path.read_bytes()
    assert neurodata.cli.main(["summary", str(path), "--out", str(path), "--overwrite", "--quiet"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert path.read_bytes() == before


def test_every_out_command_passes_overwrite():
    """Each run function hands args.overwrite on: a source check, since most commands are too slow to run."""
    import inspect

    for program in (neurodata.cli, neurosim.cli):
        for module in program.SUBCOMMAND_MODULES:
            source = inspect.getsource(importlib.import_module(module))
            n_out = source.count("add_common_options(") - source.count("out=False")
            if n_out:
                assert source.count("overwrite=args.overwrite") >= n_out, module
