"""Shared fixtures: the real test data, and a guard that fails any test leaving global state changed."""
import logging
import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"


@pytest.fixture(scope="session")
def testdata():
    """Path to ../shared/testdata (real recordings); skips when the folder is absent."""
    if not TESTDATA.is_dir():
        pytest.skip(f"real test data not found at {TESTDATA} (the ../shared/testdata folder beside the project)")
    return TESTDATA


def _cuda_available():
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config, items):
    """`gpu` tests skip cleanly where there is no CUDA device."""
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False here)")
        for item in gpu_items:
            item.add_marker(skip)


def _global_state():
    state = {"root_level": logging.getLogger().level,
             "suite_level": logging.getLogger("neurosuite").level}
    if "brian2" in sys.modules:
        import brian2
        from brian2.devices.device import get_device
        state["brian2_device"] = type(get_device()).__name__
        state["brian2_target"] = brian2.prefs["codegen.target"]
        state["brian2_openmp"] = brian2.prefs["devices.cpp_standalone.openmp_threads"]
    if "torch" in sys.modules:
        import torch
        state["torch_threads"] = torch.get_num_threads()
    return state


@pytest.fixture
def one_thread():
    """One torch thread for the test (small torch ops scale badly across threads), the count restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True)
def no_global_state_change():
    """Fail a test that changes the Brian2 device/preferences, log levels or torch threads."""
    before = _global_state()
    yield
    after = _global_state()
    changed = {k: (before[k], after[k]) for k in before if k in after and before[k] != after[k]}
    assert not changed, f"test left global state changed (before, after): {changed}"


@pytest.fixture
def demo_steps(monkeypatch):
    """The README demo's steps live in examples/demo_steps (out of the library): importable as
    ``demo_steps.<name>`` for the test, as ``examples/demo.py`` imports them."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
