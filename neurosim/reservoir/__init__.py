"""Izhikevich reservoir with three-factor readouts that learn what, when and how likely (Yamada & Chao 2025),
plus FORCE/RLS baselines (Sussillo & Abbott 2009; Nicola & Clopath 2017).

Brian2 is imported by the submodules that run simulations, not here.
"""
from .params import InputParams, ReadoutParams, ReservoirParams, RLSParams
from .task import Paradigm, Switch

__all__ = ["InputParams", "Paradigm", "ReadoutParams", "ReservoirParams", "RLSParams", "Switch"]
