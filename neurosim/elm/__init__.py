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

from neurodata.utils import lazy_exports

__all__ = ["ELMNet", "NeuronIOModel"]

# Both pull in torch: loaded on first use
__getattr__, __dir__ = lazy_exports(__name__, {"ELMNet": "model", "NeuronIOModel": "training"})
