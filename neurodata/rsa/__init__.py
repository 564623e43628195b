"""Representational similarity analysis (RSA) and topological RSA (Lin & Kriegeskorte 2023).

RDMs (Euclidean, correlation, crossnobis), their comparison, the geo-topological transform, geodesic (graph)
distances, the leave-one-subject-out identification evaluation of the tRSA paper, its (l, u) grid search and
category sampler. numpy/scipy only.
"""
from .gridsearch import (CATEGORIES, CategoryResult, GridSearchResult, category_identification, grid_identification,
                         gt_category, sample_bounds)
from .identification import IdentificationResult, bootstrap_identification, identification_accuracy
from .rdm import compare_rdms, compute_rdm, crossnobis, smooth_rdms, squareform, time_resolved_rdms
from .responses import ConditionResponses, condition_responses, responses_from_mne
from .topology import (DEFAULTS, TopologyDefaults, geodesic, geotopological, geotopological_sigmoid, rank_normalize,
                       sigmoid_from_bounds)

__all__ = ["CATEGORIES", "CategoryResult", "ConditionResponses", "DEFAULTS", "GridSearchResult",
           "IdentificationResult", "TopologyDefaults", "bootstrap_identification", "category_identification",
           "compare_rdms", "compute_rdm", "condition_responses", "crossnobis", "geodesic", "geotopological",
           "geotopological_sigmoid", "grid_identification", "gt_category", "identification_accuracy",
           "rank_normalize", "responses_from_mne", "sample_bounds", "sigmoid_from_bounds", "smooth_rdms",
           "squareform", "time_resolved_rdms"]
