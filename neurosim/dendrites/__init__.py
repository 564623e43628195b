"""Active-dendrite neurons on sparse distributed representations (Ahmad & Hawkins 2016, arXiv:1601.00720).

- :mod:`.theory`: exact false-positive / false-negative / union probabilities, in log space;
- :mod:`.montecarlo`: vectorised sampling of random SDRs and segments, with binomial confidence intervals;
- :mod:`.neurons`: Brian2 neurons with NMDA-spiking dendritic segments (Brian2 imported only when used).
"""
from .theory import (log_p_false_negative, log_p_false_positive, log_p_union_false_positive_exact,
                     optimal_threshold, p_false_negative, p_false_positive,
                     p_mixed_segment_false_positive, p_neuron_false_positive, p_union_false_positive,
                     p_union_false_positive_exact, threshold_sweep, union_on_bits, union_size_distribution)

from .montecarlo import mc_false_negative, mc_false_positive, mc_union_false_positive, random_sdrs
from .neurons import ActiveDendriteNeurons, NeuronParams  # brian2 is imported only when a network runs
from .experiment import run_experiment, write_run

__all__ = ["ActiveDendriteNeurons", "NeuronParams", "mc_false_negative", "mc_false_positive",
           "mc_union_false_positive", "random_sdrs", "run_experiment", "write_run",
           "log_p_false_negative", "log_p_false_positive", "log_p_union_false_positive_exact", "optimal_threshold",
           "p_false_negative", "p_false_positive",
           "p_mixed_segment_false_positive", "p_neuron_false_positive", "p_union_false_positive",
           "p_union_false_positive_exact", "threshold_sweep", "union_on_bits", "union_size_distribution"]
