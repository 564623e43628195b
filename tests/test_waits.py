"""#25 item 2: no step is silent for more than 15 s. Long steps without progress of their own (Brian2 runs and
builds, whose first run compiles code; the bi-clustering sampler's first sweep, which compiles numba kernels)
run inside ``announce_waits``, which logs why after 10 s and then every 15 s."""
import ast
import logging
import time
from pathlib import Path

from neurodata.utils import announce_waits

ROOT = Path(__file__).resolve().parent.parent


def test_announce_waits_speaks_while_a_step_runs_long(caplog):
    caplog.set_level(logging.INFO, logger="neurosuite")
    with announce_waits("a slow step", note="why it waits", first_after=0.05, every=0.05):
        time.sleep(0.3)
    messages = [r.getMessage() for r in caplog.records if r.name == "neurosuite"]
    assert messages[0].startswith("a slow step: still working after") and messages[0].endswith("why it waits")
    assert len(messages) >= 3 and all("s so far" in m for m in messages[1:])
    n = len(messages)
    time.sleep(0.2)  # the speaker stops with the step
    assert len([r for r in caplog.records if r.name == "neurosuite"]) == n


def test_a_short_step_says_nothing(caplog):
    caplog.set_level(logging.INFO, logger="neurosuite")
    with announce_waits("a quick step", first_after=5.0):
        pass
    assert not [r for r in caplog.records if r.name == "neurosuite"]


def _unannounced(path, is_long_call):
    """Lines of calls in ``path`` for which is_long_call(node) holds that sit in no ``with announce_waits``."""
    tree = ast.parse(path.read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and is_long_call(node):
            up, announced = parents.get(node), False
            while up is not None and not announced:
                announced = isinstance(up, ast.With) and any(
                    "announce_waits" in ast.unparse(item.context_expr) for item in up.items)
                up = parents.get(up)
            if not announced:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return bad


def test_every_brian2_run_and_build_is_announced():
    """Network.run (runtime: Cython compilation on first use; standalone: the whole build) and device.build."""
    def long_call(node):
        f = node.func
        return isinstance(f, ast.Attribute) and (
            (f.attr == "run" and isinstance(f.value, ast.Name) and f.value.id == "net")
            or (f.attr == "build" and "device" in ast.unparse(f.value).lower()))

    files = [p for p in sorted((ROOT / "neurosim").rglob("*.py")) if "elm" not in p.parts]
    assert sum("net.run(" in p.read_text() for p in files) >= 4  # the check sees the real run sites
    assert _unannounced_all(files, long_call) == []


def test_the_samplers_first_sweep_is_announced():
    def long_call(node):
        return isinstance(node.func, ast.Attribute) and node.func.attr == "sweep"

    assert _unannounced_all([ROOT / "neurodata/bicluster/estimator.py"], long_call) == []


def _unannounced_all(files, long_call):
    return [line for path in files for line in _unannounced(path, long_call)]
