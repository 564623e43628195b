"""Representational similarity analysis (RSA) and topological RSA (Lin & Kriegeskorte 2023).

RDMs (Euclidean, correlation, crossnobis), their comparison, the geo-topological transform, geodesic (graph)
distances, and the leave-one-subject-out identification evaluation of the tRSA paper. numpy/scipy only.
"""
from .identification import IdentificationResult, bootstrap_identification, identification_accuracy
from .rdm import compare_rdms, compute_rdm, crossnobis, smooth_rdms, squareform, time_resolved_rdms
from .responses import ConditionResponses, condition_responses, responses_from_mne
from .topology import DEFAULTS, TopologyDefaults, geodesic, geotopological, rank_normalize

__all__ = ["ConditionResponses", "DEFAULTS", "IdentificationResult", "TopologyDefaults",
           "bootstrap_identification", "compare_rdms", "compute_rdm", "condition_responses", "crossnobis",
           "geodesic", "geotopological", "identification_accuracy", "rank_normalize", "responses_from_mne", "smooth_rdms",
           "squareform", "time_resolved_rdms"]
