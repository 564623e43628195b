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
from ..utils import lazy_exports
from .metrics import affine_r2, rate_correlation, to_trials
from .prior import fourier_basis, fourier_frequencies, prior_variance, real_dft_basis

__all__ = ["MMGPVAE", "affine_r2", "fourier_basis", "fourier_frequencies", "prior_variance", "rate_correlation",
           "real_dft_basis", "to_trials"]

# The estimator pulls in torch: loaded on first use
__getattr__, __dir__ = lazy_exports(__name__, {"MMGPVAE": "estimator"})
