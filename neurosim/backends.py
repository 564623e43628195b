"""The one place that knows Brian2 devices.

``use_device`` switches Brian2 to a device inside a ``with`` block and restores the previous device and the
preferences it touched in ``finally`` — no global state leaks out of a simulation.

Supported names:
  runtime          Brian2's runtime device (code generation target from ``target``: "numpy" or "cython")
  cpp_standalone   C++ standalone, optionally with OpenMP threads
  cuda_standalone  Brian2CUDA: its own environment (``make env-cuda``: brian2 == 2.10.1, Python >= 3.12,
                   CUDA's nvcc)
  genn             Brian2GeNN: its own environment (``make env-genn``: brian2 < 2.6, numpy < 2, GeNN 4.x)

Standalone projects (every device but runtime) are built in a directory this process holds alone: slot k of
``<root>/<label>_<device>_<k>`` whose lock file this process holds until it exits. Slots are reused by later
processes, so a repeat run finds the project compiled and ``make`` has nothing to do, but two processes
running at once never share one.

``python -m neurosim.backends check DEVICE`` prints one line: what the device needs that is missing here
(and how to get it), or what it found; the exit status is 1 when something is missing (the Makefile's
``env-cuda`` / ``env-genn`` end with it).
"""
import contextlib
import gc
import importlib
import os
import shutil
import subprocess
import sys

from neurodata.errors import BackendUnavailableError
from neurodata.utils import announce_waits, check_option, logger

DEVICES = ("runtime", "cpp_standalone", "cuda_standalone", "genn")

_EXTRA_MODULE = {"cuda_standalone": "brian2cuda", "genn": "brian2genn"}
_ENV_COMMAND = {"cuda_standalone": "make env-cuda", "genn": "make env-genn"}
_INSTALL_HINT = {
    "brian2": "pip install 'neurosuite[sim]'",
    "brian2cuda": "make env-cuda (its own environment .venv-cuda: brian2 == 2.10.1, Python >= 3.12; "
                  "constraints-cuda.txt)",
    "brian2genn": "make env-genn (its own environment .venv-genn: brian2 < 2.6, numpy < 2, GeNN 4.x; "
                  "constraints-genn.txt)",
}
# Preferences use_device may set; saved on entry and restored in finally (those a device registers only when
# its package is imported are saved once it is).
_CORE_PREFS = ("codegen.target", "devices.cpp_standalone.openmp_threads")
_CUDA_PREFS = ("codegen.cpp.extra_compile_args_gcc",
               "devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc",
               "devices.cuda_standalone.cuda_backend.detect_gpus",
               "devices.cuda_standalone.cuda_backend.gpu_id",
               "devices.cuda_standalone.cuda_backend.compute_capability")

_BUILD_SLOTS = {}  # (root, device, label) → (directory, flock'ed file descriptor) held by this process


def import_brian2():
    """Import brian2 or raise BackendUnavailableError naming the install that fixes it."""
    try:
        return importlib.import_module("brian2")
    except ImportError as exc:
        raise BackendUnavailableError(f"Brian2 is not installed ({exc}); run: {_INSTALL_HINT['brian2']}") from None


# ------------------------------------------------------------------------------------------ diagnostics
def _find_nvcc():
    """CUDA's compiler the way Brian2CUDA looks for it: CUDA_PATH, then PATH, then /usr/local/cuda."""
    candidates = []
    if os.environ.get("CUDA_PATH"):
        candidates.append(os.path.join(os.environ["CUDA_PATH"], "bin", "nvcc"))
    on_path = shutil.which("nvcc")
    if on_path:
        candidates.append(on_path)
    candidates.append("/usr/local/cuda/bin/nvcc")
    return next((c for c in candidates if os.path.isfile(c) and os.access(c, os.X_OK)), None)


def _find_genn():
    """GeNN 4.x the way Brian2GeNN looks for it: GENN_PATH, else genn-buildmodel.sh on PATH."""
    root = os.environ.get("GENN_PATH")
    if root:
        script = os.path.join(root, "bin", "genn-buildmodel.sh")
        return root if os.path.isfile(script) else None
    script = shutil.which("genn-buildmodel.sh")
    return os.path.dirname(os.path.dirname(script)) if script else None


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # not installed, or installed without metadata
        return None


def missing_requirements(name):
    """What device ``name`` needs that this environment lacks: a list of one-line explanations (empty: usable).

    Checks the Python package (brian2cuda / brian2genn importable next to a Brian2 it supports) and the
    toolchain the device compiles with (a C++ compiler; nvcc for cuda_standalone; GeNN 4.x for genn). It does
    not check for a GPU: both devices generate and compile code without one (see :func:`gpu_present`).
    """
    check_option(name, "device", DEVICES)
    missing = []
    try:
        import_brian2()
    except BackendUnavailableError as exc:
        return [str(exc)]
    if name == "runtime":
        return missing
    if not (shutil.which(os.environ.get("CXX", "g++")) or shutil.which("c++")):
        missing.append(f"a C++ compiler for {name} (apt-get install g++, or set CXX)")
    module = _EXTRA_MODULE.get(name)
    if module is not None:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a broken install (or the wrong brian2 for it) raises more than ImportError
            missing.append(f"{module} cannot be imported here ({type(exc).__name__}: {exc})")
    nvcc = _find_nvcc() if name == "cuda_standalone" else None
    if nvcc is not None:
        roots = [os.environ.get("CUDA_PATH"), "/usr/local/cuda", os.path.dirname(os.path.dirname(os.path.realpath(nvcc)))]
        roots = [r for r in roots if r and os.path.isdir(r)]
        toolkit = roots[0]
        if not any(os.path.isfile(os.path.join(r, "include", "curand.h")) for r in roots):
            missing.append(f"cuRAND (the CUDA toolkit at {toolkit} has no include/curand.h; Brian2CUDA draws its "
                           "random numbers with it): install the toolkit's cuRAND (Debian: apt-get install "
                           "nvidia-cuda-toolkit, or NVIDIA's libcurand-dev package for this CUDA version)")
    if name == "cuda_standalone" and nvcc is None:
        missing.append("CUDA's compiler nvcc (not on PATH, not under $CUDA_PATH/bin or /usr/local/cuda/bin): "
                       "install the CUDA toolkit (Debian: apt-get install nvidia-cuda-toolkit) or set CUDA_PATH")
    if name == "genn" and _find_genn() is None:
        where = (f"GENN_PATH={os.environ['GENN_PATH']} has no bin/genn-buildmodel.sh"
                 if os.environ.get("GENN_PATH") else "GENN_PATH is unset and genn-buildmodel.sh is not on PATH")
        missing.append(f"GeNN 4.x ({where}): GeNN is not on PyPI; get a GeNN 4.x source tree (the "
                       "genn-team/genn repository, tag 4.9.0) and export GENN_PATH=/path/to/it")
    return missing


def gpu_present():
    """True when ``nvidia-smi -L`` lists at least one GPU (what Brian2CUDA itself asks before a run)."""
    if shutil.which("nvidia-smi") is None:
        return False
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def check_device_available(name):
    """Raise BackendUnavailableError unless Brian2 device ``name`` can be used here.

    The message names what is missing and the command that builds an environment with it.
    """
    check_option(name, "device", DEVICES)
    import_brian2()
    missing = missing_requirements(name)
    if missing:
        raise BackendUnavailableError(f"Brian2 device {name!r} is unavailable: {_explain(name, missing)}")


def _explain(name, missing):
    text = "; ".join(missing)
    module = _EXTRA_MODULE.get(name)
    if module is not None and any(item.startswith(module) for item in missing):
        text += f". Build its environment with {_INSTALL_HINT[module]}"
    return text


# -------------------------------------------------------------------------------------- build directories
def _build_root():
    return os.environ.get("NEUROSUITE_BUILD_DIR", os.path.join(os.path.expanduser("~"), ".cache", "neurosuite"))


def default_build_directory(name, label="neurosuite"):
    """A stable per-label build directory (not claimed: for callers that manage sharing themselves)."""
    return os.path.join(_build_root(), f"{label}_{name}")


def claim_build_directory(name, label="neurosuite"):
    """This process's build directory for device ``name`` and ``label``: slot k of ``<label>_<name>_<k>``.

    The first call in a process takes the lowest slot whose lock no live process holds (``flock``; the OS
    drops the lock when the process ends, even on a crash) and keeps it; later calls with the same device and
    label return the same directory. So a repeat run — in this process or a later one — reuses the compiled
    project, while two processes at once get two directories.
    """
    import fcntl

    key = (_build_root(), name, label)
    if key in _BUILD_SLOTS:
        return _BUILD_SLOTS[key][0]
    held = {directory for directory, _ in _BUILD_SLOTS.values()}
    for slot in range(1024):
        directory = os.path.join(_build_root(), f"{label}_{name}_{slot}")
        if directory in held:
            continue
        os.makedirs(directory, exist_ok=True)
        fd = os.open(os.path.join(directory, ".neurosuite.lock"), os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        _BUILD_SLOTS[key] = (directory, fd)
        return directory
    raise BackendUnavailableError(  # pragma: no cover - 1024 live processes on one label
        f"no free build directory for {label!r} on {name!r} under {_build_root()} (1024 in use); "
        "set NEUROSUITE_BUILD_DIR to another folder")


# ------------------------------------------------------------------------------------------------ switch
@contextlib.contextmanager
def use_device(name="runtime", *, directory=None, threads=None, build_on_run=True, target=None,
               label="neurosuite", compute_capability=None):
    """Run the body with Brian2 set to device ``name``; always restore the previous device and preferences.

    Parameters
    ----------
    name : {"runtime", "cpp_standalone", "cuda_standalone", "genn"}
    directory : str, optional
        Standalone project directory; defaults to this process's slot for ``label``
        (:func:`claim_build_directory`), so builds are reused but never shared by two processes at once.
    threads : int, optional
        OpenMP threads for cpp_standalone (``devices.cpp_standalone.openmp_threads``); None keeps 0 (off).
    build_on_run : bool
        Standalone only: build and run at the first ``run()``. Pass False to call ``device.build`` yourself
        (several ``run`` calls, ``run_args`` sweeps on one compiled binary, or ``run=False`` to compile only);
        such a call must name the directory: ``device.build(directory=device.build_options["directory"])``.
    target : {"numpy", "cython"}, optional
        Runtime code-generation target; None keeps Brian2's current preference.
    label : str
        Names the build directory (one per model, so models do not overwrite each other's projects).
    compute_capability : float, optional
        cuda_standalone only: compile for this GPU architecture (9.0 for an H100/H200) without asking
        ``nvidia-smi`` for one, so code can be generated and compiled on a machine that has no GPU. None
        lets Brian2CUDA detect the GPU in use.

    Yields the Brian2 device object.
    """
    check_device_available(name)
    if name == "cuda_standalone" and build_on_run and compute_capability is None and not gpu_present():
        raise BackendUnavailableError(
            "Brian2 device 'cuda_standalone' needs a GPU to run, and nvidia-smi lists none here. To generate and "
            "compile the CUDA project only, pass compute_capability= (9.0 for an H100) and build_on_run=False, "
            "then call device.build(directory=device.build_options['directory'], run=False).")
    b2 = import_brian2()
    from brian2.devices.device import get_device, set_device, reset_device

    if compute_capability is not None and name != "cuda_standalone":
        logger.warning("compute_capability=%s is ignored: it applies to cuda_standalone only.", compute_capability)
    if name != "cpp_standalone" and threads is not None:
        logger.warning("threads=%s is ignored: OpenMP threads apply to cpp_standalone only.", threads)
    if name in _EXTRA_MODULE:
        importlib.import_module(_EXTRA_MODULE[name])  # registers the device (and its preferences) with Brian2
    keys = _CORE_PREFS + (_CUDA_PREFS if name == "cuda_standalone" else ())
    previous = get_device()
    saved_prefs = {key: b2.prefs[key] for key in keys}
    try:
        if target is not None:
            b2.prefs["codegen.target"] = check_option(target, "target", ("numpy", "cython"))
        if name == "runtime":
            set_device("runtime")
        else:
            # Brian2 makes a name unique against every object still alive, and a finished run's objects often
            # sit in reference cycles: collect them, so a repeat run in this process generates the same code
            # object names, its files stay byte-identical and make has nothing to rebuild.
            gc.collect()
            if name == "cpp_standalone" and threads is not None:
                b2.prefs["devices.cpp_standalone.openmp_threads"] = int(threads)
            if name == "cuda_standalone":
                # CUDA 13's Thrust/CUB/libcu++ headers need C++17, but Brian2's g++ flags ask for C++11 and
                # Brian2CUDA 1.0b1's makefile hard-codes nvcc -std=c++11: a later -std=c++17 wins (nvcc >= 11)
                b2.prefs["codegen.cpp.extra_compile_args_gcc"] = [
                    "-std=c++17" if arg.startswith("-std=") else arg
                    for arg in b2.prefs["codegen.cpp.extra_compile_args_gcc"]]
                nvcc_args = [a for a in b2.prefs["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"]
                             if not a.startswith("-std=")]
                b2.prefs["devices.cuda_standalone.cuda_backend.extra_compile_args_nvcc"] = nvcc_args + ["-std=c++17"]
            if name == "cuda_standalone" and compute_capability is not None:
                b2.prefs["devices.cuda_standalone.cuda_backend.detect_gpus"] = False
                b2.prefs["devices.cuda_standalone.cuda_backend.compute_capability"] = float(compute_capability)
                if b2.prefs["devices.cuda_standalone.cuda_backend.gpu_id"] is None:
                    b2.prefs["devices.cuda_standalone.cuda_backend.gpu_id"] = 0
            set_device(name, directory=directory or claim_build_directory(name, label),
                       build_on_run=build_on_run)
        # Brian2 generates and compiles code (Cython, C++) the first time a network is built or run, silently
        with announce_waits(f"{label} (Brian2, {name})"):
            yield get_device()
    finally:
        current = get_device()
        if name != "runtime" and hasattr(current, "reinit"):
            current.reinit()  # standalone devices keep generated code in memory; drop it
        reset_device(previous)
        for key, value in saved_prefs.items():
            b2.prefs[key] = value


# ------------------------------------------------------------------------------------------- command line
def _describe(name):
    b2 = _version("brian2")
    parts = [f"brian2 {b2}"]
    module = _EXTRA_MODULE.get(name)
    if module:
        parts.append(f"{module} {_version(module)}")
    if name == "cuda_standalone":
        parts.append(f"nvcc {_find_nvcc()}")
        parts.append("GPU present" if gpu_present() else "no GPU here (code generation and compilation only)")
    if name == "genn":
        parts.append(f"GeNN {_find_genn()}")
    return ", ".join(parts)


def main(argv=None):
    """``python -m neurosim.backends check DEVICE``: one line, exit 1 when something is missing."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m neurosim.backends",
                                     description="Check what a Brian2 device needs in this environment.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="print what the device lacks here (exit 1) or what it found (exit 0)")
    check.add_argument("device", choices=DEVICES)
    args = parser.parse_args(argv)
    missing = missing_requirements(args.device)
    if missing:
        print(f"{args.device}: missing {_explain(args.device, missing)}", file=sys.stderr)
        return 1
    print(f"{args.device}: ok ({_describe(args.device)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
