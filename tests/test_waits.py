"""#25 item 2: no step is silent for more than 15 s. Long steps without progress of their own run inside
``announce_waits``, which logs why after 10 s and then every 15 s: everything under
``neurosim.backends.use_device`` (Brian2 generates and compiles code when a network is first built or run) and
the bi-clustering sampler's first sweep (numba compiles its kernels)."""
import logging
import re
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


def test_brian2_work_under_use_device_is_announced(caplog, monkeypatch):
    """A real (small) Brian2 run, with the announcement due at once: the message names the network and why."""
    import neurodata.utils
    from neurosim.circuits import simulate_lif_network

    monkeypatch.setattr(neurodata.utils, "WAIT_FIRST_S", 0.0)
    caplog.set_level(logging.INFO, logger="neurosuite")
    simulate_lif_network(n_neurons=20, duration=0.05, seed=0)
    messages = [r.getMessage() for r in caplog.records if "still working" in r.getMessage()]
    assert messages and messages[0].startswith("lif_network (Brian2, runtime): still working after")
    assert "compilation" in messages[0]


def test_every_brian2_network_runs_under_use_device():
    """Each simulator module that runs a Brian2 network switches the device with use_device (or, for the
    compiled LIF network, its own _active, which announces the same way), so its waits are announced."""
    files = [p for p in sorted((ROOT / "neurosim").rglob("*.py")) if re.search(r"\bNetwork\(", p.read_text())]
    assert len(files) >= 5  # the LIF network, dendrites, motion twin, reservoir, ELM neuron
    unswitched = [str(p.relative_to(ROOT)) for p in files
                  if "use_device(" not in p.read_text() and "self._active()" not in p.read_text()]
    assert not unswitched
    active = (ROOT / "neurosim/circuits.py").read_text()
    assert 'with announce_waits("compiled LIF network' in active


def test_the_samplers_first_sweep_is_announced():
    source = (ROOT / "neurodata/bicluster/estimator.py").read_text()
    assert 'announce_waits(f"{type(self).__name__}: first sweep", note=NUMBA_NOTE) if first else nullcontext()' \
        in source and source.count("sampler.sweep()") == 1


def test_parallel_runs_say_why_the_parent_waits(caplog, monkeypatch):
    """Workers log in their own processes (a cold 4-point sweep on 2 workers sat silent 46 s in the demo): the
    parent announces the wait and how many tasks are done."""
    import neurodata.utils
    from neurodata.execution import run_tasks

    monkeypatch.setattr(neurodata.utils, "WAIT_FIRST_S", 0.0)
    monkeypatch.setattr(neurodata.utils, "WAIT_EVERY_S", 0.2)
    caplog.set_level(logging.INFO, logger="neurosuite")
    outcomes = run_tasks("subprocess:run", [{"args": ["sleep", "1"]}] * 2, n_jobs=2, desc="sleeps", verbose=False)
    assert [o["status"] for o in outcomes] == ["ok", "ok"]
    messages = [r.getMessage() for r in caplog.records if r.name == "neurosuite"]
    assert messages[0].startswith("sleeps: 2 task(s) on joblib workers: still working after")
    assert "worker processes" in messages[0]
    assert any(re.search(r"s so far, [012] of 2 done$", m) for m in messages[1:])
