"""Dynamic functional connectome (Dyballa et al. 2024): derivative affinities → NTF → weighted-SBM communities.

Importing this package loads numpy/scipy only; tensorly, scikit-learn and matplotlib load when used.
"""
from .affinity import compute_affinity, pair_indices, pairs_to_matrix
from .ntf import NTF, factor_match_score
from .pipeline import DynamicConnectome, compute_connectome
from .result import ConnectomeResult, read_connectome
from .sbm import WeightedSBM
from .tensor import build_affinity_tensor

__all__ = [
           "NTF",
           "ConnectomeResult",
           "DynamicConnectome",
           "WeightedSBM",
           "build_affinity_tensor",
           "compute_affinity",
           "compute_connectome",
           "factor_match_score",
           "pair_indices",
           "pairs_to_matrix",
           "read_connectome",
]
