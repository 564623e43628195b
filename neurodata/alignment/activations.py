"""Model activations as stimuli × features arrays: recorded from named layers of a PyTorch module, or taken
from plain arrays (e.g. reservoir states simulated with ``neurosim``)."""
import difflib

import numpy as np

from ..deep import import_torch, torch_runtime
from ..errors import InvalidInputError
from ..inputs import check_data
from ..utils import check_scalar

__all__ = ["record_activations", "as_activations"]


def as_activations(arrays, names=None):
    """Dict name → new float array (stimuli × features) from arrays, a dict or list of them, or spine objects.

    Arrays with more than 2 dimensions are flattened after the first (stimulus) axis. Spine ``Traces`` are
    **time first** (time × channels[× epochs]), so their rows are time samples, not stimuli: an epoched
    Traces (time × channels × epochs, e.g. ``read_mne`` of an evoked or epochs file) gives one row per epoch
    (its channels × times flattened); a continuous 2-D Traces is refused — average it per stimulus first
    (``neurodata.rsa.condition_responses``). A ``ConditionResponses`` gives one row per condition. All must
    have the same number of stimuli.
    """
    if isinstance(arrays, dict):
        items = list(arrays.items())
    else:
        if isinstance(arrays, np.ndarray) or hasattr(arrays, "data") or hasattr(arrays, "means"):
            arrays = [arrays]
        try:
            arrays = list(arrays)
        except TypeError:
            raise InvalidInputError(f"as_activations: expected arrays, a dict or a list of them; got "
                                    f"{type(arrays).__name__}.") from None
        names = names or [f"layer{i}" for i in range(len(arrays))]
        if len(names) != len(arrays):
            raise InvalidInputError(f"{len(names)} names for {len(arrays)} arrays.")
        items = list(zip(names, arrays))
    if not items:
        raise InvalidInputError("no activations given.")
    out = {}
    for name, a in items:
        out[str(name)] = _stimuli_first(a, f"activations {name!r}")
    n = {v.shape[0] for v in out.values()}
    if len(n) > 1:
        raise InvalidInputError(f"activations have different numbers of stimuli: {sorted(n)}.")
    return out


def _stimuli_first(a, what):
    """One activation source as (stimuli × features), through the suite's input contract."""
    from ..io import Traces

    if isinstance(a, Traces):
        if a.data.ndim != 3:
            raise InvalidInputError(f"as_activations: {what} is a Traces of shape {a.data.shape} (time × "
                                    "channels): its rows are time samples, not stimuli. Average it per stimulus "
                                    "first (neurodata.rsa.condition_responses(traces, trials).means), or pass an "
                                    "epoched Traces (time × channels × epochs).")
        a = np.transpose(a.data, (2, 1, 0))  # epochs (stimuli) × channels × time
    arr = check_data(a, method="as_activations", name=what, ndim=None, axes=("stimuli", "features"),
                     conditions=True)
    if arr.ndim < 2:
        raise InvalidInputError(f"{what} must be (stimuli × features…); got shape {arr.shape}.")
    return arr.reshape(arr.shape[0], -1)


def record_activations(model, stimuli, layers, *, batch_size=64, device="cpu", n_threads=None):
    """Record the outputs of named submodules of a PyTorch ``model`` for a batch of stimuli.

    Parameters
    ----------
    model : torch.nn.Module
    stimuli : array or tensor (stimuli × …) — the model's input.
    layers : list of str — names from ``model.named_modules()`` (e.g. ``"features.3"``).
    batch_size : int
    device : {"cpu", "cuda", "auto"}
        Where the stimuli are sent; the model must already be there (it is not moved: inputs are not modified).
    n_threads : int, optional
        torch CPU threads while recording (restored afterwards).

    Returns
    -------
    dict name → ndarray (stimuli × features), in the order of ``layers`` (outputs flattened per stimulus).

    The model runs in eval mode under ``torch.no_grad()``; its previous train/eval mode is restored and the
    hooks removed afterwards, whatever happens.
    """
    torch = import_torch("record_activations")
    if not isinstance(model, torch.nn.Module):
        raise InvalidInputError(f"model must be a torch.nn.Module; got {type(model).__name__}. "
                                "For precomputed arrays use as_activations.")
    check_scalar(batch_size, "batch_size", "record_activations", kind=int, low=1)
    if isinstance(layers, str):
        layers = [layers]
    modules = dict(model.named_modules())
    for name in layers:
        if name not in modules:
            close = difflib.get_close_matches(name, list(modules), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidInputError(f"model has no submodule {name!r}.{hint} Available: {list(modules)[:20]}")
    x = stimuli if isinstance(stimuli, torch.Tensor) else torch.as_tensor(np.asarray(stimuli))
    if x.dtype == torch.float64:
        x = x.float()
    store = {name: [] for name in layers}

    def hook_for(name):
        def hook(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            store[name].append(out.detach().reshape(out.shape[0], -1).to("cpu", torch.float64).numpy())
        return hook

    handles = [modules[name].register_forward_hook(hook_for(name)) for name in layers]
    was_training = model.training
    try:
        model.eval()
        with torch_runtime(device, n_threads) as resolved, torch.no_grad():
            for start in range(0, x.shape[0], batch_size):
                model(x[start:start + batch_size].to(resolved))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {name: np.concatenate(store[name], axis=0) for name in layers}
