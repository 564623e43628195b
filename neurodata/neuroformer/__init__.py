"""Neuroformer: generative pretraining on spike tokens (Antoniades et al. 2023, ICLR 2024).

Light to import: the tokenizer and the time-block splits need only numpy; the model and the estimator
(``neurodata.neuroformer.estimator``) import torch when they are imported.

Modules
-------
tokenizer     spikes (SpikeTrains) → (neuron-ID, dt) token windows and back; contiguous time-block splits
model         the nn.Module (past-state encoder, optional behaviour encoder, cross-attention, ID/dt heads)
estimator     Neuroformer: fit / score / generate / attention on the torch room
connectivity  neuron-pair connectivity read out of the attention, and a lagged cross-correlogram baseline
"""
from ..utils import lazy_exports
from .tokenizer import SpikeTokenizer, Tokens, time_block_split

__all__ = ["Neuroformer", "SpikeTokenizer", "Tokens", "time_block_split"]

# The estimator pulls in torch: loaded on first use
__getattr__, __dir__ = lazy_exports(__name__, {"Neuroformer": "estimator"})
