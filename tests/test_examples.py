"""#25 item 4: every ``examples/*.py`` runs, as a user runs it (a subprocess, from a fresh folder), in a small
configuration, and leaves the files it says it writes: NWB files that read back through the spine's
readers, and non-empty PNG figures.

``examples/demo.py`` is left to tests/test_report.py and tests/test_cli_registry.py (its steps take
minutes); ``examples/jobqueue_slurm.py`` runs with ``--dry-run`` (prints the sbatch script; nothing is
submitted; tests/test_sweep.py checks the script's contents).
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _results(path):
    from neurodata.io import read_results
    read_results(path)


def _spikes(path):
    from neurodata.io import read_spikes
    assert read_spikes(path).n_units > 0


def _connectome(path):
    from neurodata.connectome import read_connectome
    read_connectome(path)


def _neuron(path):
    from neurosim.elm.neuron import read_neuron_data
    read_neuron_data(path)


def _events(path):
    from neurosim.motion.events import read_events
    read_events(path)


# script → (command-line arguments, needs ../shared/testdata, {file it writes (relative to cwd): reader or None})
CASES = {
    "alignment": ([], False, {"out/alignment_example.nwb": _results, "out/alignment_example.png": None}),
    "batch": ([], False, {"out/batch/summary.nwb": _results, "out/batch/rates.png": None,
                          **{f"out/batch/sessions/session{i}.nwb": _spikes for i in range(4)},
                          **{f"out/batch/session{i}.summary.nwb": _results for i in range(4)}}),
    "bicluster": ([], False, {"out/bicluster/bicluster_demo.nwb": _results,
                              "out/bicluster/bicluster_demo.png": None}),
    "connectome": ([], False, {"out/connectome/connectome_results.nwb": _connectome,
                               "out/connectome/connectome.png": None,
                               **{f"out/connectome/animal{a}.nwb": None for a in range(4)}}),
    "dendrites": ([], False, {"out/dendrites/dendrites_run.nwb": _spikes, "out/dendrites/dendrites.png": None}),
    "elm": (["--quick"], False, {"out/elm/neuron.nwb": _neuron, "out/elm/elm_prediction.png": None}),
    "elm_adding": (["--quick"], False, {"out/elm_adding/elm_adding.nwb": _results,
                                        "out/elm_adding/elm_adding.png": None}),
    "jobqueue_slurm": (["--dry-run"], False, {}),
    "mmgpvae": (["--n-epochs", "3"], True, {"out/mmgpvae/simulation.png": None, "out/mmgpvae/head_direction.nwb": _results,
                           "out/mmgpvae/head_direction.png": None}),
    "motion": (["--quick"], False, {"out/motion_test.nwb": _events, "out/motion_pruning.png": None,
                           "out/motion_kernels.png": None, "out/motion_twin_evidence.npy": None,
                           "out/motion_twin_spikes.npy": None}),
    # a 2-minute hub network (the default, 20 min, is the card's validation run), no GLM baseline
    "neuroformer": (["--duration", "120", "--no-glm", "--n-generate-windows", "50"], False,
                    {"out/neuroformer/hub_network_seed0.nwb": _spikes,
                     "out/neuroformer/metrics_seed0.json": None}),
    "reservoir": (["--n-trials", "16", "--n-neurons", "500"], False, {"out/reservoir.nwb": _spikes, "out/reservoir_switch.png": None}),
    "rsa": ([], True, {"out/rsa_example.nwb": _results, "out/rsa_example.png": None}),
    "rsa_grid": (["--figure", "out/rsa_grid.png"], False, {"out/rsa_grid.nwb": _results, "out/rsa_grid.png": None}),
    "sweep": ([], False, {"out/sweep/summary.nwb": _results, "out/sweep/rates.png": None}),
}


def test_every_example_has_a_case():
    scripts = {p.stem for p in EXAMPLES.glob("*.py")} - {"demo"}
    assert scripts == set(CASES), f"examples without a case here: {sorted(scripts - set(CASES))}; " \
                                  f"cases without a script: {sorted(set(CASES) - scripts)}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs(name, tmp_path, request):
    args, needs_data, written = CASES[name]
    if needs_data:
        args = [*args, *(["--testdata", str(request.getfixturevalue("testdata"))] if name != "rsa"
                         else [str(request.getfixturevalue("testdata"))])]
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(EXAMPLES), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, str(EXAMPLES / f"{name}.py"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name}.py exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    for rel, reader in written.items():
        path = tmp_path / rel
        assert path.is_file(), f"{name}.py did not write {rel}; it wrote {sorted(map(str, tmp_path.rglob('*')))}"
        assert path.stat().st_size > 0, f"{rel} is empty"
        if path.suffix == ".png":
            assert path.read_bytes()[:8] == PNG_MAGIC, f"{rel} is not a PNG"
        if reader is not None:
            reader(path)
    if name == "jobqueue_slurm":
        assert proc.stdout.startswith("#!") and "#SBATCH" in proc.stdout
