"""MM-GPVAE: multi-modal Gaussian-process VAE with shared and private latents (Gondur et al. 2023).

Light to import: the prior and the helpers are numpy; torch loads only with the estimator
(``from neurodata.mmgpvae import MMGPVAE`` raises BackendUnavailableError naming ``pip install
'neurosuite[deep]'`` where torch is missing).

Modules
-------
prior      Fourier-domain GP prior: kept frequencies, real DFT basis, spectrum K(ω)
network    torch modules: encoders, Poisson / Gaussian / image decoders, the ELBO (corrected and reference)
estimator  MMGPVAE (fit / transform / reconstruct / score)
metrics    affine R² of latents against a truth, rate correlation
io         modalities from NWB through the spine (binned units, behaviour, ophys), results back to NWB
"""
from .metrics import affine_r2, rate_correlation, to_trials
from .prior import fourier_basis, fourier_frequencies, prior_variance, real_dft_basis

__all__ = ["MMGPVAE", "affine_r2", "fourier_basis", "fourier_frequencies", "prior_variance", "rate_correlation",
           "real_dft_basis", "to_trials"]


def __dir__():  # so dir() and help() list the lazily loaded estimator too
    return sorted(set(globals()) | set(__all__))


def __getattr__(name):  # the estimator pulls in torch: load it only when asked for
    if name == "MMGPVAE":
        from .estimator import MMGPVAE
        return MMGPVAE
    raise AttributeError(f"module 'neurodata.mmgpvae' has no attribute {name!r}")
