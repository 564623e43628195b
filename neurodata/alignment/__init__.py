"""Brain–model alignment: ridge encoding (alpha per target), noise ceilings, layer × region profiles, the
spatial and temporal hierarchy scores of Raugel et al. (2025) with their negative controls and
subject-level aggregation, linear CKA and Procrustes shape distance.

Light to import (numpy/scipy); torch is imported only inside :func:`record_activations`.
"""
from .activations import as_activations, record_activations
from .ceiling import noise_ceiling, spearman_brown, split_half_reliability
from .profiles import (ControlResult, SubjectSummary, aggregate_subjects, best_layers, layer_profile,
                       shuffled_hierarchy_control, shuffled_stimuli_control, spatial_score, temporal_profile,
                       temporal_score)
from .ridge import (DEFAULTS, EncodingDefaults, EncodingResult, RidgeEncoder, encoding_scores, normalized_score,
                    pearson_columns)
from .similarity import cka, procrustes_distance

__all__ = ["ControlResult", "DEFAULTS", "EncodingDefaults", "EncodingResult", "RidgeEncoder", "SubjectSummary",
           "aggregate_subjects", "as_activations", "best_layers", "cka", "encoding_scores", "layer_profile",
           "noise_ceiling", "normalized_score", "pearson_columns", "procrustes_distance", "record_activations",
           "shuffled_hierarchy_control", "shuffled_stimuli_control", "spatial_score", "spearman_brown",
           "split_half_reliability", "temporal_profile", "temporal_score"]
