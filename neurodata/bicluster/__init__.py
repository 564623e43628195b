"""Bayesian bi-clustering of spiking activity by MCMC (Wei 2023, arXiv 2309.02213).

Neurons are clustered by shared low-dimensional latent trajectories and time bins by population-wide
linear-dynamics states. The estimator (numba kernels, polyagamma, arviz) loads on first use, so the CLI
can declare its arguments cheaply.
"""
from .mfm import mfm_log_v, mfm_prior_num_clusters
from .summaries import coclustering, matching_accuracy, maxpear, pear

__all__ = ["BiclusterMCMC", "coclustering", "matching_accuracy", "maxpear", "mfm_log_v",
           "mfm_prior_num_clusters", "pear"]


def __getattr__(name):
    if name == "BiclusterMCMC":
        from .estimator import BiclusterMCMC
        return BiclusterMCMC
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
