"""Console scripts: --help everywhere, exit codes 0 / 1 (one line on stderr, no traceback) / 2 (usage)."""
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurodata import io
from neurodata.cli import main as neurodata_main
from neurosim.cli import main as neurosim_main

SPIKES = "nwb/spikes_A8604-211122.nwb"


def _script(name):
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip(f"console script {name} not installed in this environment (pip install -e .)")
    return str(path)


def test_info_all_test_files_text_and_json(testdata, capsys):
    files = [str(p) for p in sorted((testdata / "nwb").glob("*.nwb"))] + [str(testdata / "meg/sample_evoked-ave.fif.gz")]
    assert neurodata_main(["info", *files]) == 0
    out = capsys.readouterr().out
    assert "3 units, 21354 spikes" in out and "15 units, 98794 spikes" in out
    assert "35790 samples × 10 channels" in out and "Position/x" in out and "sleep_ripples" in out
    assert "Left Auditory" in out
    assert neurodata_main(["info", "--json", str(testdata / SPIKES)]) == 0
    assert '"count": 3' in capsys.readouterr().out


def test_bin_writes_counts(testdata, tmp_path):
    out = tmp_path / "counts.nwb"
    assert neurodata_main(["bin", str(testdata / SPIKES), "--bin-size", "0.5", "--out", str(out), "--quiet"]) == 0
    res = io.read_results(out)
    assert res.parameters["bin_size"] == 0.5
    counts = res.traces["counts"]
    spikes = io.read_spikes(testdata / SPIKES)
    # half-open bins of equal width: spikes after the last full bin are not counted
    last_edge = spikes.start + counts.n_times * 0.5
    assert counts.data.sum() == sum(int(np.sum(t < last_edge)) for t in spikes.times)


def test_bin_in_place_only_when_asked(testdata, tmp_path, capsys):
    path = tmp_path / "session.nwb"
    shutil.copy(testdata / SPIKES, path)
    assert neurodata_main(["bin", str(path), "--bin-size", "1"]) == 1
    assert "exactly one of --out FILE" in capsys.readouterr().err
    assert neurodata_main(["bin", str(path), "--bin-size", "1", "--in-place", "--quiet"]) == 0
    with io.open_nwb(path) as nwb:
        assert nwb.processing["binning"]["counts"].data.shape[1] == 3


def test_data_errors_exit_1_with_one_line(tmp_path, testdata, capsys):
    assert neurodata_main(["info", str(tmp_path / "missing.nwb")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.nwb" in err[0] and "no such file" in err[0]
    out = tmp_path / "never.nwb"
    assert neurodata_main(["bin", str(testdata / SPIKES), "--bin-size", "0", "--out", str(out)]) == 1
    assert "bin size" in capsys.readouterr().err
    assert not out.exists()
    assert neurodata_main(["bin", str(testdata / "nwb/calcium_A6512-210915.nwb"), "--bin-size", "1",
                           "--out", str(out)]) == 1
    assert "no units table" in capsys.readouterr().err


def test_usage_errors_exit_2():
    assert neurodata_main(["nonsense"]) == 2
    assert neurodata_main(["bin", "x.nwb"]) == 2  # --bin-size missing
    assert neurosim_main(["nonsense"]) == 2


def test_help_everywhere(capsys):
    assert neurodata_main(["--help"]) == 0
    assert neurosim_main(["--help"]) == 0
    for sub in ("info", "bin"):
        assert neurodata_main([sub, "--help"]) == 0
    assert "--bin-size" in capsys.readouterr().out


def test_console_scripts_in_a_subprocess(testdata, tmp_path):
    script = _script("neurodata")
    ok = subprocess.run([script, "info", str(testdata / SPIKES)], capture_output=True, text=True)
    assert ok.returncode == 0 and "21354 spikes" in ok.stdout
    bad = tmp_path / "bad.nwb"
    bad.write_bytes(b"garbage")
    fail = subprocess.run([script, "info", str(bad)], capture_output=True, text=True)
    assert fail.returncode == 1
    assert "Traceback" not in fail.stderr and len(fail.stderr.strip().splitlines()) == 1
    assert subprocess.run([_script("neurosim"), "--help"], capture_output=True).returncode == 0


def test_cards_loader_errors():
    from neurodata.cards import load_card
    from neurodata.errors import InvalidInputError
    with pytest.raises(InvalidInputError, match="No model card named 'no_such_model'"):
        load_card("no_such_model")


def test_builtin_circuit_to_nwb(tmp_path):
    pytest.importorskip("brian2")
    from neurosim.circuits import calcium_from_spikes, write_lif_network
    path = write_lif_network(tmp_path / "lif.nwb", n_neurons=50, duration=0.5, seed=3)
    sp = io.read_spikes(path)
    assert sp.n_units == 50 and set(sp.metadata["population"]) == {"exc", "inh"}
    assert sp.n_spikes > 0
    res = io.read_results(path)
    assert res.parameters["n_neurons"] == 50 and res.parameters["seed"] == 3
    calcium = calcium_from_spikes(sp, seed=0)
    assert calcium.data.shape[1] == 50 and np.all(np.isfinite(calcium.data))
    shutil.rmtree(tmp_path)


def test_lif_card_matches_the_code_defaults():
    import inspect

    from neurodata.cards import load_card
    from neurosim.circuits import simulate_lif_network
    card = load_card("lif_network")
    signature = inspect.signature(simulate_lif_network).parameters
    for name, value in card["defaults"].items():
        assert signature[name].default == value, name
