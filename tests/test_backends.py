"""neurosim.backends: the one device switch, per-process build directories, and the GPU devices.

Runs in every environment. In the main one (.venv, brian2 2.9) brian2cuda/brian2genn are absent and the
tests check the refusal; in .venv-cuda (`make env-cuda`, brian2 2.10.1 + brian2cuda) the cuda_standalone
code generation and nvcc compilation run (no GPU needed); the runs that need a GPU carry `gpu` and compare
against cpp_standalone on the same network.
"""
import importlib.util
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurosim import backends

b2 = pytest.importorskip("brian2")

HAS_BRIAN2CUDA = importlib.util.find_spec("brian2cuda") is not None
needs_brian2cuda = pytest.mark.skipif(not HAS_BRIAN2CUDA, reason="brian2cuda is not installed here "
                                      "(its own environment: make env-cuda)")
_CUDA_MISSING = backends.missing_requirements("cuda_standalone") if HAS_BRIAN2CUDA else []
needs_cuda_toolchain = pytest.mark.skipif(bool(_CUDA_MISSING), reason="; ".join(_CUDA_MISSING)[:300])
needs_cuda_gpu = pytest.mark.skipif(not backends.gpu_present(), reason="nvidia-smi lists no GPU here")


@pytest.fixture
def build_root(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROSUITE_BUILD_DIR", str(tmp_path / "builds"))
    return tmp_path / "builds"


def test_devices_is_the_one_tuple():
    assert backends.DEVICES == ("runtime", "cpp_standalone", "cuda_standalone", "genn")


def test_unknown_device_lists_the_allowed_ones():
    with pytest.raises(InvalidInputError, match="Allowed values are 'runtime'.*Did you mean 'cuda_standalone'"):
        with backends.use_device("cuda_standalon"):
            pass


@pytest.mark.parametrize("name, module, command", [("cuda_standalone", "brian2cuda", "make env-cuda"),
                                                   ("genn", "brian2genn", "make env-genn")])
def test_missing_gpu_package_names_the_make_command(name, module, command, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if it were not installed
    with pytest.raises(BackendUnavailableError, match=f"{module} cannot be imported.*{command}"):
        with backends.use_device(name):
            pass
    with pytest.raises(BackendUnavailableError):
        backends.check_device_available(name)


def test_missing_toolchain_is_one_line_naming_the_fix(monkeypatch, capsys):
    monkeypatch.setattr(backends, "_find_nvcc", lambda: None)
    monkeypatch.setattr(backends, "_find_genn", lambda: None)
    monkeypatch.delenv("GENN_PATH", raising=False)
    cuda = backends.missing_requirements("cuda_standalone")
    assert any("nvcc" in line and "CUDA_PATH" in line for line in cuda)
    genn = backends.missing_requirements("genn")
    assert any("GeNN 4.x" in line and "GENN_PATH" in line for line in genn)
    assert backends.main(["check", "genn"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and "GENN_PATH" in out.err


def test_check_command_reports_an_available_device(capsys):
    assert backends.main(["check", "runtime"]) == 0
    assert capsys.readouterr().out.startswith("runtime: ok (brian2 ")


def test_use_device_restores_device_and_preferences(build_root):
    from brian2.devices.device import get_device

    before = type(get_device())
    threads = b2.prefs["devices.cpp_standalone.openmp_threads"]
    with backends.use_device("cpp_standalone", threads=2, build_on_run=False, label="restore") as dev:
        assert type(dev).__name__ == "CPPStandaloneDevice"
        assert b2.prefs["devices.cpp_standalone.openmp_threads"] == 2
        assert dev.build_options["directory"].startswith(str(build_root / "restore_cpp_standalone_"))
    assert type(get_device()) is before
    assert b2.prefs["devices.cpp_standalone.openmp_threads"] == threads


_CLAIM = textwrap.dedent("""
    import sys
    from neurosim.backends import claim_build_directory
    print(claim_build_directory(sys.argv[1], "claim"))
""")


def _claim_in_other_process(name):
    out = subprocess.run([sys.executable, "-c", _CLAIM, name], capture_output=True, text=True, check=True,
                         env=os.environ.copy())
    return out.stdout.strip()


def test_build_directory_is_per_process_and_reused(build_root):
    mine = backends.claim_build_directory("cuda_standalone", "claim")
    assert mine == backends.claim_build_directory("cuda_standalone", "claim")  # same process: same project
    assert mine.endswith("claim_cuda_standalone_0")
    first = _claim_in_other_process("cuda_standalone")   # this process holds slot 0: the other gets slot 1
    assert first.endswith("claim_cuda_standalone_1")
    assert _claim_in_other_process("cuda_standalone") == first  # ... and a later process reuses slot 1
    assert backends.claim_build_directory("genn", "claim").endswith("claim_genn_0")  # per device


def _network(n=60):
    """A deterministic LIF network (fixed drive, initial state and connectivity; nothing random in Brian2)."""
    rng = np.random.default_rng(3)
    pre, post = np.nonzero(rng.random((n, n)) < 0.1)
    group = b2.NeuronGroup(n, "dv/dt = (I - v) / (10*ms) : 1\nI : 1", threshold="v > 1", reset="v = 0",
                           method="exact", name="check_neurons")
    group.I = np.linspace(0.9, 1.6, n)
    group.v = np.linspace(0.0, 0.9, n)
    syn = b2.Synapses(group, group, on_pre="v_post += 0.05", delay=1 * b2.ms, name="check_synapses")
    syn.connect(i=pre, j=post)
    monitor = b2.SpikeMonitor(group, name="check_spikes")
    return b2.Network(group, syn, monitor, name="check_network"), monitor


def _spike_counts(name, duration=0.2, **kwargs):
    with backends.use_device(name, **kwargs):
        b2.start_scope()
        b2.defaultclock.dt = 0.1 * b2.ms
        net, monitor = _network()
        net.run(duration * b2.second, namespace={})
        return np.asarray(monitor.count[:]).copy()


def test_repeat_cpp_standalone_run_reuses_the_compiled_project(build_root):
    first = _spike_counts("cpp_standalone", label="repeat")
    (directory,) = [d for d in build_root.iterdir() if d.name.startswith("repeat_cpp_standalone_")]
    binary = directory / "main"
    stamp = binary.stat().st_mtime_ns
    second = _spike_counts("cpp_standalone", label="repeat")
    assert binary.stat().st_mtime_ns == stamp, "the repeat run recompiled the project"
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, _spike_counts("runtime", target="numpy"))
    assert first.sum() > 0


@needs_brian2cuda
@pytest.mark.skipif(backends.gpu_present(), reason="a GPU is present")
def test_cuda_standalone_run_without_a_gpu_says_how_to_compile_only(monkeypatch):
    monkeypatch.setattr(backends, "missing_requirements", lambda name: [])  # toolchain or not
    with pytest.raises(BackendUnavailableError, match="needs a GPU to run.*compute_capability"):
        with backends.use_device("cuda_standalone"):
            pass


# brian2cuda 1.0b1's file writer leaves files open (its noise, not ours)
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@needs_brian2cuda
@needs_cuda_toolchain
def test_cuda_standalone_generates_and_compiles_without_a_gpu(build_root):
    """Code generation + nvcc for an H100 (compute capability 9.0) on this machine, GPU or not."""
    with backends.use_device("cuda_standalone", build_on_run=False, compute_capability=9.0, label="compile") as dev:
        assert type(dev).__name__ == "CUDAStandaloneDevice"
        b2.start_scope()
        b2.defaultclock.dt = 0.1 * b2.ms
        net, _ = _network()
        net.run(20 * b2.ms, namespace={})
        directory = dev.build_options["directory"]  # a direct build() call must name it (Brian2's rule)
        assert directory.startswith(str(build_root / "compile_cuda_standalone_"))
        dev.build(directory=directory, run=False, compile=True, with_output=False)
        assert os.path.isfile(os.path.join(directory, "main"))
    assert b2.prefs["devices.cuda_standalone.cuda_backend.compute_capability"] is None  # restored


@pytest.mark.gpu
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@needs_brian2cuda
@needs_cuda_toolchain
@needs_cuda_gpu
def test_cuda_standalone_spike_counts_match_cpp_standalone(build_root):
    """Same deterministic network on the GPU and in C++. Tolerance: both run float64, but nvcc is given
    -use_fast_math (FMA contraction) and g++ -ffast-math, so a membrane potential may round differently near
    threshold; a neuron may gain or lose one spike, in at most 5 % of neurons."""
    cpp = _spike_counts("cpp_standalone", label="match")
    cuda = _spike_counts("cuda_standalone", label="match")
    assert cpp.sum() > 0
    diff = np.abs(cpp - cuda)
    assert diff.max() <= 1 and np.mean(diff > 0) <= 0.05, (cpp, cuda)
