"""Heterogeneous-delay spiking motion detector (Grimaldi & Perrinet 2023, Biol. Cybern.).

Light on import: numpy only. ``neurosim.motion.model`` (PyTorch training), ``neurosim.motion.twin`` (Brian2
event-driven twin) and ``neurosim.motion.prune`` import their heavy dependencies themselves.

Modules
-------
config   MotionConfig and the model card's "paper" / "reduced" configurations
events   event movies from natural images on saccade-like random walks; dense <-> list; NWB I/O
model    HeterogeneousDelayClassifier: causal delay kernel, flip symmetry, training, evaluation (torch)
prune    magnitude pruning, delay shortening, accuracy-vs-weights curve
twin     the kernel as Brian2 synapses with heterogeneous delays; NumPy event-driven reference
"""
from .config import MotionConfig, get_config
from .events import MotionDataset, events_from_movie, make_dataset

__all__ = ["MotionConfig", "MotionDataset", "events_from_movie", "get_config", "make_dataset"]
