"""The house's import rules, checked on the source: ``neurosim → neurodata``, never back; ground-truth
generators share no code with the estimators they check; demos that wire the two live in examples/."""
import ast
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
# an import path written as text, resolved later: "package.module:function"
IMPORT_PATH = re.compile(r"^([A-Za-z_][\w.]*)(:[A-Za-z_]\w*)?$")


def _imported_modules(path):
    """(line, module) for every import in a file: import statements, importlib.import_module("...") and
    "package.module:function" strings (what the registries resolve)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            match = IMPORT_PATH.match(node.value.strip())
            if match and (match.group(2) or "." in match.group(1)):
                found.append((node.lineno, match.group(1)))
    return found


def _violations(package, forbidden):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_the_data_layer_never_imports_the_simulation_layer():
    assert _violations("neurodata", ["neurosim"]) == []


def test_the_check_sees_every_kind_of_import(tmp_path):
    (tmp_path / "m.py").write_text("import neurosim\nfrom neurosim.groundtruth import bicluster\n"
                                   "import importlib\nimportlib.import_module('neurosim.circuits')\n"
                                   "TARGET = 'neurosim.sweep.core:run_sweep'\n"
                                   "# neurosim in a comment is fine\nTEXT = 'made with neurosim'\n")
    assert sorted(m for _, m in _imported_modules(tmp_path / "m.py") if m.startswith("neurosim")) == \
        ["neurosim", "neurosim.circuits", "neurosim.groundtruth", "neurosim.sweep.core"]


def test_ground_truth_generators_use_no_estimator_code():
    """Only the spine, errors and helpers: a bug in an estimator must not hide in its own ground truth."""
    allowed = ("neurodata.io", "neurodata.errors", "neurodata.utils")
    bad = [v for v in _violations("neurosim/groundtruth", ["neurodata"])
           if not any(v.endswith(f" imports {a}") or f" imports {a}." in v for a in allowed)]
    assert bad == []


def test_no_demo_module_in_the_data_layer_imports_neurosim():
    assert not [p for p in (ROOT / "neurodata").rglob("demo.py") if "neurosim" in p.read_text()]


def test_ground_truth_loadings_agree_with_the_samplers_own():
    """The two constructions of the [1, c_i] block matrix are written independently; they must agree."""
    from neurodata.bicluster.updates import loading_matrix
    from neurosim.groundtruth.bicluster import cluster_loadings, load_reference_simulation

    rng = np.random.default_rng(0)
    for n_clusters, p in ((1, 1), (3, 2), (4, 3)):
        labels = rng.integers(n_clusters, size=17)
        C = rng.normal(size=(17, p))
        np.testing.assert_array_equal(cluster_loadings(labels, C, n_clusters), loading_matrix(labels, C, n_clusters))
    truth = load_reference_simulation()
    np.testing.assert_array_equal(cluster_loadings(truth.labels, truth.C, 3), loading_matrix(truth.labels, truth.C, 3))


@pytest.mark.parametrize("name", ["bicluster", "connectome"])
def test_the_moved_demo_steps_are_in_examples(name):
    step = ROOT / "examples" / "demo_steps" / f"{name}.py"
    assert "def demo(out_dir, testdata=None, quick=True)" in step.read_text()
    assert not (ROOT / "neurodata" / name / "demo.py").exists()
