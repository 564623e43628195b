"""Expressive Leaky Memory neuron (Spieler et al. 2023, ICLR 2024), fitted to our own Brian2 neuron.

Light on import: nothing heavy here. ``neurosim.elm.model`` and ``neurosim.elm.training`` import torch,
``neurosim.elm.neuron`` imports Brian2 inside its functions.

Modules
-------
model     ELMNet: ELM v1/v2, Branch-ELM, neuronio and random routing (torch)
neuron    the NeuronIO-like data set: 1278 Poisson inputs onto a neuron with NMDA-spiking dendrites (Brian2) -> NWB
training  NeuronIOModel: ELM, linear (LIF-like) and LSTM fitted with the paper's recipe; AUC and soma RMSE
plots     soma / spike probability / memory figure
cli       neurosim elm data|train|evaluate
"""

__all__ = ["ELMNet", "NeuronIOModel"]


def __dir__():  # so dir() and help() list the lazily loaded estimator too
    return sorted(set(globals()) | set(__all__))


def __getattr__(name):  # both pull in torch: load them only when asked for
    if name == "ELMNet":
        from .model import ELMNet
        return ELMNet
    if name == "NeuronIOModel":
        from .training import NeuronIOModel
        return NeuronIOModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
