"""The Fourier-domain Gaussian-process prior of the MM-GPVAE (Gondur et al. 2023).

An RBF-kernel GP on a trial of ``n_bins`` samples, embedded in a circle of ``n_circ = (1 + circ_extension) *
n_bins`` points, is diagonal in the real discrete Fourier basis. Its spectrum falls off as
``exp(-ω ℓ² / 2)``, so frequencies whose prior variance would be below ``1 / condthresh`` of the largest one
for any length scale ``ℓ >= min_length`` are dropped; what remains is a handful of coefficients per latent
(12 for 60 bins with the defaults). Everything here is numpy except :func:`prior_variance`, which follows the
type of its ``length_scale`` (a torch tensor gives a differentiable torch result).
"""
import math

import numpy as np

from ..errors import InvalidInputError

__all__ = ["FourierBasis", "fourier_basis", "fourier_frequencies", "prior_variance", "real_dft_basis",
           "rbf_covariance"]

#: the reference's choices (GP_fourier defaults used by its networks)
MIN_LENGTH = 10.0
CONDTHRESH = 1e8
CIRC_EXTENSION = 0.2


def fourier_frequencies(n_bins, *, min_length=MIN_LENGTH, condthresh=CONDTHRESH, circ_extension=CIRC_EXTENSION):
    """Integer frequencies kept (cosines for k >= 0, sines for k < 0) and the circle size ``n_circ``.

    ``m = floor(n_circ / (π · min_length) · sqrt(½ ln condthresh))``; when ``m < n_circ / 2`` the kept set is
    ``0 … m-1`` (cosines) and ``-m … -1`` (sines), 2m coefficients; otherwise the full real DFT.
    """
    n_bins = int(n_bins)
    if n_bins < min_length:
        raise InvalidInputError(f"A trial of {n_bins} bins is shorter than the GP prior's minimum length scale "
                                f"min_length={min_length:g} bins; use longer trials or a smaller min_length.")
    n_circ = n_bins * (1.0 + circ_extension)
    m = math.floor(n_circ / (math.pi * min_length) * math.sqrt(0.5 * math.log(condthresh)))
    if 1 <= m < n_circ / 2:
        k = np.concatenate([np.arange(m), np.arange(-m, 0)])
    else:
        k = np.concatenate([np.arange(math.ceil((n_circ + 1) / 2)), np.arange(-math.floor((n_circ - 1) / 2), 0)])
    return k.astype(np.int64), n_circ


def real_dft_basis(n_bins, n_circ, k):
    """Orthonormal-on-the-circle real DFT basis, shape (len(k), n_bins): time = coefficients @ basis."""
    t = np.arange(n_bins)
    k = np.asarray(k)
    phase = np.outer(2.0 * np.pi * np.abs(k) / n_circ, t)
    basis = np.where((k >= 0)[:, None], np.cos(phase), -np.sin(phase)) / np.sqrt(n_circ / 2.0)
    basis[k == 0] /= np.sqrt(2.0)  # the DC term is a unit vector
    if float(n_circ) / 2.0 == k.max():  # an even circle's Nyquist cosine too
        basis[np.argmax(k)] /= np.sqrt(2.0)
    return basis


class FourierBasis:
    """What a model needs of the prior: frequencies ``k``, ``omega2 = (2πk / n_circ)²`` and the basis."""

    def __init__(self, n_bins, k, n_circ):
        self.n_bins, self.k, self.n_circ = int(n_bins), np.asarray(k), float(n_circ)
        self.omega2 = (2.0 * np.pi * self.k / self.n_circ) ** 2
        self.basis = real_dft_basis(self.n_bins, self.n_circ, self.k)

    @property
    def n_coefficients(self):
        return len(self.k)

    def __repr__(self):
        return f"<FourierBasis {self.n_bins} bins, circle {self.n_circ:g}, {self.n_coefficients} coefficients>"


def fourier_basis(n_bins, *, min_length=MIN_LENGTH, condthresh=CONDTHRESH, circ_extension=CIRC_EXTENSION):
    """The :class:`FourierBasis` of a trial of ``n_bins`` samples."""
    k, n_circ = fourier_frequencies(n_bins, min_length=min_length, condthresh=condthresh,
                                    circ_extension=circ_extension)
    return FourierBasis(n_bins, k, n_circ)


def prior_variance(length_scale, omega2, *, rho=1.0, eps=1e-2):
    """Prior variance of each Fourier coefficient: ``K(ω) = √(2π) ρ ℓ exp(-½ ω ℓ²) + ε``.

    ``length_scale`` of shape (..., 1) or scalar against ``omega2`` of shape (n_coefficients,); a torch
    tensor gives a torch result (same device and dtype), anything else numpy.
    """
    if type(length_scale).__module__.startswith("torch"):
        import torch
        omega2 = torch.as_tensor(omega2, dtype=length_scale.dtype, device=length_scale.device)
        return math.sqrt(2 * math.pi) * rho * length_scale * torch.exp(-0.5 * omega2 * length_scale ** 2) + eps
    length_scale = np.asarray(length_scale, dtype=float)
    return math.sqrt(2 * math.pi) * rho * length_scale * np.exp(-0.5 * np.asarray(omega2) * length_scale ** 2) + eps


def rbf_covariance(n_bins, length_scale, *, rho=1.0, eps=1e-2):
    """Time-domain RBF covariance ``ρ exp(-(i-j)² / 2ℓ²) + ε I`` (n_bins × n_bins), for the time-domain GP-VAE."""
    d = np.arange(n_bins)[:, None] - np.arange(n_bins)[None, :]
    if type(length_scale).__module__.startswith("torch"):
        import torch
        d = torch.as_tensor(d, dtype=length_scale.dtype, device=length_scale.device)
        eye = torch.eye(n_bins, dtype=length_scale.dtype, device=length_scale.device)
        return rho * torch.exp(-d ** 2 / (2 * length_scale[..., None, None] ** 2)) + eps * eye
    length_scale = np.asarray(length_scale, dtype=float)
    return rho * np.exp(-d ** 2 / (2 * length_scale[..., None, None] ** 2)) + eps * np.eye(n_bins)
