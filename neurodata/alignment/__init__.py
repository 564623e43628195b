"""Brain–model alignment: ridge encoding (alpha per target), noise ceilings, layer × region profiles, the
spatial and temporal hierarchy scores of Raugel et al. (2025), linear CKA and Procrustes shape distance.

Light to import (numpy/scipy); torch is imported only inside :func:`record_activations`.
"""
from .activations import as_activations, record_activations
from .ceiling import noise_ceiling, spearman_brown, split_half_reliability
from .profiles import best_layers, layer_profile, spatial_score, temporal_profile, temporal_score
from .ridge import DEFAULTS, EncodingDefaults, EncodingResult, RidgeEncoder, encoding_scores, pearson_columns
from .similarity import cka, procrustes_distance

__all__ = ["DEFAULTS", "EncodingDefaults", "EncodingResult", "RidgeEncoder", "as_activations", "best_layers",
           "cka", "encoding_scores", "layer_profile", "noise_ceiling", "pearson_columns", "procrustes_distance",
           "record_activations", "spatial_score", "spearman_brown", "split_half_reliability", "temporal_profile",
           "temporal_score"]
