"""``neurosim dendrites theory|simulate`` and the README demo."""
import pytest

from neurodata.cli import build_parser, run

pytestmark = pytest.mark.filterwarnings("ignore::pyparsing.warnings.PyparsingDeprecationWarning")


def neurosim(argv):
    # the same parser the console script builds, with this subcommand registered
    return run(build_parser(prog="neurosim", description="neurosim", modules=["neurosim.dendrites.cli"]), argv)


def test_theory_prints_paper_values_and_sweep(capsys, tmp_path):
    fig = tmp_path / "theory.png"
    assert neurosim(["dendrites", "theory", "--n-inputs", "10000", "--n-active", "300", "--n-synapses", "24",
                     "--theta", "12", "--n-noise", "150", "--n-patterns", "2", "--sweep", "--figure", str(fig)]) == 0
    out = capsys.readouterr().out
    assert "P_FP = 8.375845e-13" in out
    assert "median P_FP < 1e-7 from theta = 8" in out
    assert fig.stat().st_size > 10_000


def test_theory_bad_input_exits_1(capsys):
    assert neurosim(["dendrites", "theory", "--n-synapses", "10", "--theta", "12"]) == 1
    err = capsys.readouterr().err
    assert "theta=12 exceeds the number of synapses s=10" in err and len(err.strip().splitlines()) == 1


def test_simulate_writes_nwb_and_figure(tmp_path, capsys):
    pytest.importorskip("brian2")
    out, fig = tmp_path / "run.nwb", tmp_path / "run.png"
    assert neurosim(["dendrites", "simulate", "--n-inputs", "300", "--n-active", "15", "--n-neurons", "5",
                     "--n-segments", "4", "--n-synapses", "10", "--theta", "3", "--n-random", "8",
                     "--n-learned", "4", "--n-noise", "2", "--seed", "1", "--out", str(out), "--figure", str(fig), "--quiet"]) == 0
    from neurodata.io import read_spikes
    spikes = read_spikes(out)
    assert spikes.n_units == 300 + 5 + 20
    assert fig.is_file()
    assert neurosim(["dendrites", "simulate", "--n-synapses", "50", "--n-active", "40",
                     "--out", str(tmp_path / "bad.nwb")]) == 1
    assert not (tmp_path / "bad.nwb").exists()


def test_demo_writes_nwb_and_png(tmp_path, demo_steps):
    pytest.importorskip("brian2")
    from demo_steps.dendrites import demo
    files = demo(tmp_path, quick=True)
    assert files["nwb"].is_file() and files["figure"].is_file()
    assert abs(files["summary"]["segment_false_positive"]["z"]) < 3.5
