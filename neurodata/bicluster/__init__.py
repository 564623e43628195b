"""Bayesian bi-clustering of spiking activity by MCMC (Wei 2023, arXiv 2309.02213).

Neurons are clustered by shared low-dimensional latent trajectories and time bins by population-wide
linear-dynamics states. The estimator (numba kernels, polyagamma, arviz) loads on first use, so the CLI
can declare its arguments cheaply.

Public names
------------
BiclusterMCMC            the estimator (fit on counts, Traces or an NWB path; posterior summaries, convergence_)
coclustering, pear       posterior similarity matrix of sampled partitions; its expected adjusted Rand index
maxpear                  maxPEAR point estimate of a partition
matching_accuracy        accuracy of estimated labels under the best label matching
mfm_log_v, mfm_prior_num_clusters   the mixture-of-finite-mixtures prior on the number of clusters
"""
from ..utils import lazy_exports
from .mfm import mfm_log_v, mfm_prior_num_clusters
from .summaries import coclustering, matching_accuracy, maxpear, pear

__all__ = ["BiclusterMCMC", "coclustering", "matching_accuracy", "maxpear", "mfm_log_v",
           "mfm_prior_num_clusters", "pear"]

# The estimator pulls in numba, polyagamma and arviz: loaded on first use
__getattr__, __dir__ = lazy_exports(__name__, {"BiclusterMCMC": "estimator"})
