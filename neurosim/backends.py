"""The one place that knows Brian2 devices.

``use_device`` switches Brian2 to a device inside a ``with`` block and restores the previous device and the
preferences it touched in ``finally`` — no global state leaks out of a simulation.

Supported names:
  runtime          Brian2's runtime device (code generation target from ``target``: "numpy" or "cython")
  cpp_standalone   C++ standalone, optionally with OpenMP threads
  cuda_standalone  Brian2CUDA (needs ``pip install brian2cuda``; pins brian2 == 2.10.1, Python >= 3.12)
  genn             Brian2GeNN (needs ``pip install brian2genn`` with brian2 < 2.6, numpy < 2 and GeNN 4.x)
"""
import contextlib
import importlib
import os

from neurodata.errors import BackendUnavailableError
from neurodata.utils import check_option, logger

DEVICES = ("runtime", "cpp_standalone", "cuda_standalone", "genn")

_EXTRA_MODULE = {"cuda_standalone": "brian2cuda", "genn": "brian2genn"}
_INSTALL_HINT = {
    "brian2": "pip install 'neurosuite[sim]'",
    "brian2cuda": "pip install brian2cuda (in its own environment: brian2 == 2.10.1, Python >= 3.12)",
    "brian2genn": "pip install brian2genn (in its own environment: brian2 < 2.6, numpy < 2, GeNN 4.x)",
}


def import_brian2():
    """Import brian2 or raise BackendUnavailableError naming the install that fixes it."""
    try:
        return importlib.import_module("brian2")
    except ImportError as exc:
        raise BackendUnavailableError(f"Brian2 is not installed ({exc}); run: {_INSTALL_HINT['brian2']}") from None


def check_device_available(name):
    """Raise BackendUnavailableError unless Brian2 device ``name`` can be used here."""
    check_option(name, "device", DEVICES)
    import_brian2()
    module = _EXTRA_MODULE.get(name)
    if module is not None:
        try:
            importlib.import_module(module)
        except Exception as exc:  # a broken install raises more than ImportError
            raise BackendUnavailableError(
                f"Brian2 device {name!r} is unavailable: {module} cannot be imported ({exc}). "
                f"Install it with: {_INSTALL_HINT[module]}"
            ) from None


def default_build_directory(name, label="neurosuite"):
    """A stable per-label build directory, so repeated standalone runs reuse the compiled project."""
    root = os.environ.get("NEUROSUITE_BUILD_DIR", os.path.join(os.path.expanduser("~"), ".cache", "neurosuite"))
    return os.path.join(root, f"{label}_{name}")


@contextlib.contextmanager
def use_device(name="runtime", *, directory=None, threads=None, build_on_run=True, target=None,
               label="neurosuite"):
    """Run the body with Brian2 set to device ``name``; always restore the previous device and preferences.

    Parameters
    ----------
    name : {"runtime", "cpp_standalone", "cuda_standalone", "genn"}
    directory : str, optional
        Standalone project directory; defaults to a stable cache folder per ``label`` so builds are reused.
    threads : int, optional
        OpenMP threads for cpp_standalone (``devices.cpp_standalone.openmp_threads``); None keeps 0 (off).
    build_on_run : bool
        Standalone only: build and run at the first ``run()``. Pass False to call ``device.build`` yourself
        (several ``run`` calls, or ``run_args`` sweeps on one compiled binary).
    target : {"numpy", "cython"}, optional
        Runtime code-generation target; None keeps Brian2's current preference.

    Yields the Brian2 device object.
    """
    check_device_available(name)
    b2 = import_brian2()
    from brian2.devices.device import get_device, set_device, reset_device, device as active_device  # noqa: F401

    previous = get_device()
    saved_prefs = {key: b2.prefs[key] for key in ("codegen.target", "devices.cpp_standalone.openmp_threads")}
    if name != "cpp_standalone" and threads is not None:
        logger.warning("threads=%s is ignored: OpenMP threads apply to cpp_standalone only.", threads)
    try:
        if target is not None:
            b2.prefs["codegen.target"] = check_option(target, "target", ("numpy", "cython"))
        if name == "runtime":
            set_device("runtime")
        else:
            if name == "cpp_standalone" and threads is not None:
                b2.prefs["devices.cpp_standalone.openmp_threads"] = int(threads)
            if name in _EXTRA_MODULE:
                importlib.import_module(_EXTRA_MODULE[name])  # registers the device with Brian2
            set_device(name, directory=directory or default_build_directory(name, label),
                       build_on_run=build_on_run)
        yield get_device()
    finally:
        current = get_device()
        if name != "runtime" and hasattr(current, "reinit"):
            current.reinit()  # standalone devices keep generated code in memory; drop it
        reset_device(previous)
        for key, value in saved_prefs.items():
            b2.prefs[key] = value
