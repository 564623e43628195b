"""Where torch runs: the import with a clear install hint, the device, CPU threads, denormals and seeds.

Thread count and denormal flushing are process-global in torch, so they are only ever changed inside
:func:`torch_runtime`, which restores both in ``finally`` (the Brian2-device rule of the house).
"""
import contextlib
import numbers

import numpy as np

from ..errors import BackendUnavailableError, InvalidInputError
from ..utils import check_option, check_scalar

__all__ = ["DEVICES", "import_torch", "resolve_device", "torch_generator", "torch_runtime"]

#: the torch devices the suite accepts, everywhere (estimators and ``--torch-device``)
DEVICES = ("cpu", "cuda", "auto")

INSTALL_HINT = "pip install 'neurosuite[deep]'"


def import_torch(purpose=None):
    """Return the ``torch`` module, or raise BackendUnavailableError naming the install that fixes it.

    ``purpose`` (e.g. ``"record_activations"``) names what needed torch, for the message.
    """
    try:
        import torch
    except ImportError as exc:
        who = f"{purpose} needs PyTorch" if purpose else "PyTorch is needed here"
        raise BackendUnavailableError(f"{who}, which is not installed; run: {INSTALL_HINT}") from exc
    return torch


def resolve_device(device="auto"):
    """The torch device string to use: ``"cpu"``, ``"cuda"``, or for ``"auto"`` CUDA when torch sees a GPU.

    Raises InvalidInputError for anything else, and BackendUnavailableError for ``"cuda"`` without CUDA.
    """
    check_option(device, "device", DEVICES)
    torch = import_torch(f"device={device!r}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise BackendUnavailableError("device='cuda' was asked for but torch sees no CUDA GPU; use device='cpu' "
                                      "(or 'auto'), or install a CUDA build of torch.")
    return device


def _check_threads(n_threads):
    if n_threads is None:
        return None
    return int(check_scalar(n_threads, "n_threads", "torch_runtime", kind=numbers.Integral, low=1))


def _denormals_flushed(torch):
    # torch has a setter but no getter: 1e-30 * 1e-10 is a float32 denormal, which reads 0 when flushing is on
    return (torch.tensor([1e-30], dtype=torch.float32) * 1e-10).item() == 0.0


@contextlib.contextmanager
def torch_runtime(device="auto", n_threads=None, *, flush_denormal=True):
    """Run torch work on ``device`` with ``n_threads`` CPU threads; yields the resolved device string.

    On CPU, denormal floats are flushed to zero inside the block (``torch.set_flush_denormal``): tiny values
    otherwise slow float arithmetic down many times over. The previous thread count and flushing mode are
    restored on exit, whatever happens. ``n_threads=None`` leaves the thread count as it is.
    """
    n_threads = _check_threads(n_threads)
    resolved = resolve_device(device)
    torch = import_torch()
    previous_threads = torch.get_num_threads()
    flush = flush_denormal and resolved == "cpu"
    previous_flush = _denormals_flushed(torch) if flush else None
    try:
        if n_threads is not None:
            torch.set_num_threads(n_threads)
        if flush:
            torch.set_flush_denormal(True)  # returns False (a no-op) where the CPU cannot flush
        yield resolved
    finally:
        torch.set_num_threads(previous_threads)
        if flush:
            torch.set_flush_denormal(previous_flush)


def torch_generator(seed=None, device="cpu"):
    """A ``torch.Generator`` seeded from None, an int, or a ``numpy.random.Generator``.

    An int seeds it directly; a numpy Generator gives one draw below 2**31 (so a model's whole randomness can
    follow the estimator's one ``seed``); None seeds it from fresh OS entropy. The global torch RNG is not
    touched, so seeding one model never changes another's numbers.
    """
    torch = import_torch()
    if isinstance(seed, np.random.Generator):
        value = int(seed.integers(2 ** 31))
    elif seed is None:
        value = int(np.random.default_rng().integers(2 ** 31))
    elif isinstance(seed, (numbers.Integral, np.integer)) and not isinstance(seed, bool):
        value = int(check_scalar(int(seed), "seed", "torch_generator", kind=numbers.Integral, low=0,
                                 high=2 ** 64 - 1))
    else:
        raise InvalidInputError(f"seed must be None, an int or a numpy.random.Generator. "
                                f"Got {type(seed).__name__} instead.")
    return torch.Generator(device=device).manual_seed(value)
