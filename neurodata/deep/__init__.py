"""The torch room: every PyTorch model of the suite stands on this package.

Light to import: nothing here imports torch until a function needs it, so ``import neurodata.deep`` works
(and stays cheap) without the ``deep`` extra; the first call that needs torch raises
:class:`~neurodata.errors.BackendUnavailableError` naming ``pip install 'neurosuite[deep]'``.

Modules
-------
runtime    import_torch, resolve_device ("cpu" | "cuda" | "auto"), torch_runtime (threads and denormal
           flushing, restored on exit), torch_generator (a torch.Generator from an int or numpy Generator)
training   TrainingLoop (epochs, progress bar, history_, best state as a deep copy, early stopping, atomic
           checkpoint + exact resume), save_state / load_state (atomic torch files)
arguments  add_torch_arguments: the suite's --torch-device / --torch-threads options
"""
from .arguments import add_torch_arguments
from .runtime import DEVICES, import_torch, resolve_device, torch_generator, torch_runtime
from .training import TrainingLoop, load_state, save_state

__all__ = ["DEVICES", "TrainingLoop", "add_torch_arguments", "import_torch", "load_state", "resolve_device",
           "save_state", "torch_generator", "torch_runtime"]
