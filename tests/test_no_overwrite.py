"""Never overwrite (issue #26, item 1): every writer refuses an existing path unless overwrite=True, never
writes over one of its inputs even then, and checks the ``.nwb`` suffix; batch and sweep reruns still skip
their finished runs and replace only their own files."""
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurodata import io
from neurodata.errors import InvalidInputError, OutputExistsError
from neurodata.utils import atomic_path

SPIKES = "nwb/spikes_A8604-211122.nwb"


def _spikes():
    return io.SpikeTrains([np.array([0.1, 0.5, 1.2]), np.array([0.3, 0.9])], start=0.0, end=2.0)


def _write_simulation(path, **kwargs):
    return io.write_simulation(path, spikes={"exc": _spikes()}, parameters={"n": 2}, **kwargs)


def _write_results(path, sources=(), **kwargs):
    return io.write_results(path, analysis="demo", sources=sources, arrays={"x": np.arange(3.0)}, **kwargs)


def _write_lif(path, **kwargs):
    pytest.importorskip("brian2")
    from neurosim.circuits import write_lif_network
    return write_lif_network(path, n_neurons=20, duration=0.05, seed=1, **kwargs)


def _write_calcium(path, **kwargs):
    from neurosim.groundtruth.connectome import write_calcium_nwb
    traces = io.Traces(np.random.default_rng(0).uniform(size=(50, 3)), rate=10.0, unit="a.u.", name="calcium")
    return write_calcium_nwb(path, traces, **kwargs)


WRITERS = {"write_simulation": _write_simulation, "write_results": _write_results,
           "write_calcium_nwb": _write_calcium}


def _a_recording(tmp_path, testdata, name="recording.nwb"):
    path = tmp_path / name
    shutil.copy(testdata / SPIKES, path)
    return path


def test_output_exists_error_names_the_path_and_the_fix(tmp_path):
    err = OutputExistsError(tmp_path / "x.nwb")
    assert isinstance(err, InvalidInputError)
    assert str(tmp_path / "x.nwb") in str(err) and "pass overwrite=True / --overwrite" in str(err).replace("Pass", "pass")
    assert str(pickle.loads(pickle.dumps(err))) == str(err)  # crosses worker processes intact


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_writer_refuses_an_existing_file_and_leaves_it_intact(writer, tmp_path, testdata):
    target = _a_recording(tmp_path, testdata)
    before = target.read_bytes()
    with pytest.raises(OutputExistsError, match="recording.nwb"):
        WRITERS[writer](target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recording.nwb"]  # no temp file left either


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_overwrite_true_replaces_it(writer, tmp_path, testdata):
    target = _a_recording(tmp_path, testdata)
    assert WRITERS[writer](target, overwrite=True) == target
    assert io.read_results(target).kind in ("simulation", "results")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recording.nwb"]


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("name", ["out.h5", "out", "out.nwb.json"])
def test_wrong_suffix_is_rejected(writer, name, tmp_path):
    with pytest.raises(InvalidInputError, match=r"must end in '\.nwb'"):
        WRITERS[writer](tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_results_never_written_over_an_input_even_with_overwrite(tmp_path, testdata):
    src = _a_recording(tmp_path, testdata)
    before = src.read_bytes()
    link = tmp_path / "link.nwb"
    link.symlink_to(src)
    hard = tmp_path / "hard.nwb"
    hard.hardlink_to(src)
    for target in (src, link, hard, tmp_path / "." / "recording.nwb"):
        with pytest.raises(InvalidInputError, match="never overwrites an input"):
            _write_results(target, sources=[src], overwrite=True)
    assert src.read_bytes() == before


def test_a_directory_is_never_a_target(tmp_path):
    (tmp_path / "d.nwb").mkdir()
    with pytest.raises(InvalidInputError, match="is a directory"):
        _write_simulation(tmp_path / "d.nwb", overwrite=True)


def test_lif_network_refuses_before_simulating(tmp_path, testdata, monkeypatch):
    import neurosim.circuits as circuits
    target = _a_recording(tmp_path, testdata)
    before = target.read_bytes()
    monkeypatch.setattr(circuits, "simulate_lif_network", lambda **kw: pytest.fail("simulated anyway"))
    with pytest.raises(OutputExistsError):
        circuits.write_lif_network(target, n_neurons=20)
    with pytest.raises(InvalidInputError, match="must end in"):
        circuits.write_lif_network(tmp_path / "lif.h5", n_neurons=20)
    assert target.read_bytes() == before


@pytest.mark.slow
def test_lif_network_overwrite_true_replaces(tmp_path, testdata):
    target = _a_recording(tmp_path, testdata)
    _write_lif(target, overwrite=True)
    assert io.read_results(target).parameters["n_neurons"] == 20


def test_a_file_appearing_during_the_write_is_not_replaced(tmp_path):
    """The check at the start is repeated by the final rename (no clobbering a file made meanwhile)."""
    target = tmp_path / "t.csv"
    with pytest.raises(OutputExistsError):
        with atomic_path(target) as tmp:
            Path(tmp).write_text("ours")
            target.write_text("someone else's")
    assert target.read_text() == "someone else's" and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    with atomic_path(target, overwrite=True) as tmp:
        Path(tmp).write_text("ours")
    assert target.read_text() == "ours"


# ------------------------------------------------------------------------------------------- the CLI
def test_bin_refuses_an_existing_out_and_in_place_still_works(tmp_path, testdata, capsys):
    from neurodata.cli import main
    src = _a_recording(tmp_path, testdata)
    other = _a_recording(tmp_path, testdata, "another_recording.nwb")
    before = other.read_bytes()
    assert main(["bin", str(src), "--bin-size", "1.0", "--out", str(other)]) == 1   # the typo of the issue
    err = capsys.readouterr().err
    assert "another_recording.nwb" in err and "--overwrite" in err and err.count("\n") == 1
    assert other.read_bytes() == before
    assert main(["bin", str(src), "--bin-size", "1.0", "--out", str(src)]) == 1     # output = input
    assert "recording.nwb" in capsys.readouterr().err
    assert main(["bin", str(src), "--bin-size", "1.0", "--out", str(src), "--overwrite"]) == 1  # even then
    assert "never overwrites an input" in capsys.readouterr().err
    assert main(["bin", str(src), "--bin-size", "1.0", "--out", str(tmp_path / "counts.nwb")]) == 0
    assert main(["bin", str(src), "--bin-size", "1.0", "--in-place"]) == 0          # asked for: allowed
    with io.open_nwb(src) as nwb:
        assert "binning" in nwb.processing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["another_recording.nwb", "counts.nwb", "recording.nwb"]


# ------------------------------------------------------------------------------------ batch and sweep
def test_batch_keeps_a_file_it_did_not_write_and_replaces_it_only_when_asked(tmp_path, testdata):
    from neurodata.batch import run_batch
    src = _a_recording(tmp_path, testdata)
    out = tmp_path / "out"
    out.mkdir()
    foreign = out / "recording.bin.nwb"                   # where the batch would write: somebody's file
    shutil.copy(src, foreign)
    before = foreign.read_bytes()
    summary = run_batch("bin", [src], out=out, params={"bin_size": 1.0}, verbose=False)
    assert summary.table["status"].tolist() == ["failed"]
    assert "OutputExistsError" in summary.table["error"][0] and "overwrite" in summary.table["error"][0]
    assert foreign.read_bytes() == before
    summary = run_batch("bin", [src], out=out, params={"bin_size": 1.0}, verbose=False, overwrite=True)
    assert summary.table["status"].tolist() == ["ok"] and foreign.read_bytes() != before
    again = run_batch("bin", [src], out=out, params={"bin_size": 1.0}, verbose=False)
    assert again.table["status"].tolist() == ["skipped"]                      # reruns still skip
    record = json.loads((out / "recording.bin.json").read_text())
    assert record["status"] == "ok" and record["file"] == "recording.bin.nwb"


def test_batch_redoes_its_own_unfinished_output(tmp_path, testdata):
    """A run killed after its output appeared (record still "running") is redone without overwrite=True."""
    from neurodata.batch import run_batch
    src = _a_recording(tmp_path, testdata)
    out = tmp_path / "out"
    first = run_batch("bin", [src], out=out, params={"bin_size": 1.0}, verbose=False)
    assert first.ok
    record = out / "recording.bin.json"
    record.write_text(json.dumps(dict(json.loads(record.read_text()), status="running")))
    again = run_batch("bin", [src], out=out, params={"bin_size": 1.0}, verbose=False)
    assert again.table["status"].tolist() == ["ok"]
    assert json.loads(record.read_text())["status"] == "ok"


def test_save_figure_refuses_an_existing_file(tmp_path):
    import matplotlib.pyplot as plt

    from neurodata.utils import save_figure
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    target = tmp_path / "fig.png"
    target.write_bytes(b"somebody's picture")
    with pytest.raises(OutputExistsError):
        save_figure(fig, target)
    assert target.read_bytes() == b"somebody's picture"
    save_figure(fig, target, overwrite=True)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    save_figure(fig, tmp_path / "fig.pdf")
    assert (tmp_path / "fig.pdf").read_bytes()[:4] == b"%PDF"
    plt.close(fig)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.pdf", "fig.png"]
