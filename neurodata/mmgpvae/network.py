"""The MM-GPVAE as torch modules: per-modality encoders and decoders around a GP prior, and its ELBO.

Shapes: a modality's batch is (trials B, bins T, features D); latents are (B, L, K) Fourier coefficients
(``domain="fourier"``) or (B, L, T) samples (``domain="time"``), and (B, T, L) once in the time domain.
The latent order is [first modality's private latents, shared latents, every other modality's private
latents] (the reference's [neural-only, shared, image-only] for spikes then images); each modality's encoder
emits [its private, its view of the shared] and its decoder reads its private and the shared latents.

Two objectives (``objective=``):

``"corrected"``
    per-trial mean of the negative ELBO with ``q = N(μ, σ²)``, ``σ = exp(s)`` everywhere: KL to the GP prior
    ``½ Σ [(μ² + σ²)/K − 1 − 2s + log K]``, Poisson term ``E[exp η] = exp(m + v/2)`` with the time-domain
    variance ``v_t = Σ_k B_kt² σ_k²`` pushed through ``W²``, Gaussian terms with the learned variance;
    length scales and noise variances are log-parameters in their own optimiser group.
``"reference"``
    the reference code's loss, quirks included: GP term on ``(μ + exp s)²``, ``exp(s)`` a standard deviation
    when sampling but a variance in the Poisson term, the per-trial terms broadcast against the Gaussian
    (image) term over batch × batch and summed, divided by the nominal batch size; one raw length scale
    (init 30) and raw output variances (init 100) in the image network's learning-rate group.
"""
import math

import numpy as np

from ..deep import import_torch
from .prior import prior_variance, rbf_covariance

torch = import_torch("neurodata.mmgpvae")
nn = torch.nn
F = torch.nn.functional

__all__ = ["KINDS", "MMGPVAENet", "ModalitySpec", "expected_exp"]

#: modality kinds: counts through a log-linear Poisson decoder, images through the reference's deep MLP with
#: one learned variance, any other series through a (linear by default) Gaussian decoder
KINDS = ("poisson", "image", "gaussian")

#: the reference's layer widths (spikes 100→80→40→20; images 1296→784→512→256→256 and back)
DEFAULT_ENCODER_HIDDEN = {"poisson": (80, 40, 20), "image": (784, 512, 256, 256), "gaussian": (32, 16)}
DEFAULT_DECODER_HIDDEN = {"poisson": (), "image": (256, 256, 512, 784), "gaussian": ()}
REFERENCE_LENGTH_SCALE = 30.0
REFERENCE_VARIANCE = 100.0


class ModalitySpec:
    """One modality's name, kind, feature count, private latent count and layer widths."""

    def __init__(self, name, kind, n_features, n_private, encoder_hidden=None, decoder_hidden=None):
        self.name, self.kind, self.n_features, self.n_private = name, kind, int(n_features), int(n_private)
        self.encoder_hidden = tuple(DEFAULT_ENCODER_HIDDEN[kind] if encoder_hidden is None else encoder_hidden)
        self.decoder_hidden = tuple(DEFAULT_DECODER_HIDDEN[kind] if decoder_hidden is None else decoder_hidden)

    def to_dict(self):
        return {"name": self.name, "kind": self.kind, "n_features": self.n_features, "n_private": self.n_private,
                "encoder_hidden": list(self.encoder_hidden), "decoder_hidden": list(self.decoder_hidden)}


def expected_exp(mean, variance):
    """``E[exp η]`` for ``η ~ N(mean, variance)``: ``exp(mean + variance / 2)`` (the Poisson term's closed form)."""
    return torch.exp(mean + 0.5 * variance)


def _mlp(sizes, final_activation):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.ELU())
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    """Frame-wise ELU MLP → (mean, log σ) per bin; in the Fourier domain then ``Linear(T, K)`` across time
    (with a bias for the mean, without for log σ, as the reference)."""

    def __init__(self, n_features, hidden, n_latents, n_bins, n_coefficients=None, input_shift=0.0, input_scale=1.0):
        super().__init__()
        # one shift and scale per modality, from the training data: raw 0-255 pixels (as the reference feeds
        # them) can push exp(2 log σ) past float32's range at the first step
        self.register_buffer("input_shift", torch.tensor(float(input_shift)))
        self.register_buffer("input_scale", torch.tensor(float(input_scale)))
        self.body = _mlp((n_features,) + tuple(hidden), final_activation=True)
        width = hidden[-1] if hidden else n_features
        self.mean = nn.Linear(width, n_latents)
        self.log_scale = nn.Linear(width, n_latents)
        self.fourier = n_coefficients is not None
        if self.fourier:
            self.mean_time = nn.Linear(n_bins, n_coefficients)
            self.scale_time = nn.Linear(n_bins, n_coefficients, bias=False)

    def forward(self, x):
        h = self.body((x - self.input_shift) / self.input_scale)
        m, s = self.mean(h).transpose(1, 2), self.log_scale(h).transpose(1, 2)  # (B, L, T)
        if self.fourier:
            m, s = self.mean_time(m), self.scale_time(s)  # (B, L, K)
        return m, s


class PoissonDecoder(nn.Module):
    """``log λ = W z + b``, b initialised at the log mean count per bin."""

    def __init__(self, n_in, n_features, log_mean_rate):
        super().__init__()
        self.linear = nn.Linear(n_in, n_features)
        with torch.no_grad():
            self.linear.bias.copy_(torch.as_tensor(log_mean_rate, dtype=self.linear.bias.dtype))

    def log_rate_moments(self, mean_t, var_t):
        """Mean and variance of η = W z + b under q (time-domain latent mean and variance, (B, T, L))."""
        return self.linear(mean_t), var_t @ (self.linear.weight ** 2).T

    def rates(self, mean_t, var_t):
        """Posterior-predictive rate E_q[exp η] per bin."""
        return expected_exp(*self.log_rate_moments(mean_t, var_t))

    def expected_loglik(self, y, mean_t, var_t):
        """E_q log Poisson(y | exp η), summed over bins and units → (B,)."""
        eta, var_eta = self.log_rate_moments(mean_t, var_t)
        return (y * eta - expected_exp(eta, var_eta) - torch.lgamma(y + 1)).sum((1, 2))


class GaussianDecoder(nn.Module):
    """Gaussian observations around a decoded mean: the reference's ELU MLP with one variance for images,
    a linear map (or MLP) with one variance per feature for other series."""

    def __init__(self, n_in, n_features, hidden, *, kind, variance_init, log_parametrised):
        super().__init__()
        self.kind = kind
        self.net = _mlp((n_in,) + tuple(hidden) + (n_features,), final_activation=(kind == "image"))
        self.linear_only = not hidden and kind != "image"
        n_var = 1 if kind == "image" else n_features
        init = torch.full((n_var,), float(variance_init)) if np.isscalar(variance_init) else \
            torch.as_tensor(np.broadcast_to(variance_init, (n_var,)).copy(), dtype=torch.float32)
        self.log_parametrised = log_parametrised
        self.variance_param = nn.Parameter(torch.log(init) if log_parametrised else init)

    def variance(self):
        return torch.exp(self.variance_param) if self.log_parametrised else self.variance_param

    def forward(self, z_t):
        return self.net(z_t)

    def expected_loglik(self, x, z_sample_t, mean_t=None, var_t=None):
        """E_q log N(x | f(z), v) summed over bins and features → (B,).

        A linear decoder has the closed form ``|x − W m − b|² + W² v``; an MLP uses the one sample given.
        """
        v = self.variance()
        if self.linear_only and mean_t is not None:
            lin = self.net[0]
            sq = (x - lin(mean_t)) ** 2 + var_t @ (lin.weight ** 2).T
        else:
            sq = (x - self.net(z_sample_t)) ** 2
        # sum over bins before dividing by the variance (one or one per feature): the same number, but no
        # division of the whole (B, T, D) tensor and none in its backward (a third of an image batch's time)
        n_bins = x.shape[1]
        return -0.5 * ((sq.sum(1) / v).sum(1) + n_bins * torch.log(2 * math.pi * v).expand(x.shape[2]).sum())

    def reference_nll(self, x, z_sample_t):
        """The reference's image term, ``|x − x̂|²/(2 v) + ½ T D log v`` per trial, as a (B, 1) column (no 2π)."""
        v = self.variance().expand(x.shape[2])  # one image variance, or one per feature
        nll = ((self.net(z_sample_t) - x) ** 2 / (2 * v)).sum((1, 2)) + 0.5 * x.shape[1] * torch.log(v).sum()
        return nll[:, None]


class MMGPVAENet(nn.Module):
    """Encoders, decoders and GP prior of a multi-modal GP-VAE; :meth:`loss` is the negative ELBO."""

    def __init__(self, specs, n_shared, n_bins, *, basis=None, domain="fourier", objective="corrected",
                 length_scale_init=REFERENCE_LENGTH_SCALE, rho=1.0, prior_eps=1e-2, log_mean_rates=None,
                 variance_inits=None, input_stats=None):
        super().__init__()
        self.specs = list(specs)
        self.names = [s.name for s in self.specs]
        self.n_shared, self.n_bins, self.domain, self.objective = int(n_shared), int(n_bins), domain, objective
        self.rho, self.prior_eps = float(rho), float(prior_eps)
        self.layout = self._layout()
        self.n_latents = len(self.layout)
        reference = objective == "reference"
        n_coef = None
        if domain == "fourier":
            n_coef = basis.n_coefficients
            self.register_buffer("basis", torch.as_tensor(basis.basis, dtype=torch.float32))
            self.register_buffer("omega2", torch.as_tensor(basis.omega2, dtype=torch.float32))
        self.encoders = nn.ModuleDict()
        self.decoders = nn.ModuleDict()
        variance_inits = variance_inits or {}
        for spec in self.specs:
            n_out = spec.n_private + self.n_shared
            shift, scale = (input_stats or {}).get(spec.name, (0.0, 1.0))
            self.encoders[spec.name] = Encoder(spec.n_features, spec.encoder_hidden, n_out, n_bins, n_coef, shift, scale)
            n_in = len(self.decoder_index(spec.name))
            if spec.kind == "poisson":
                self.decoders[spec.name] = PoissonDecoder(n_in, spec.n_features, log_mean_rates[spec.name])
            else:
                init = REFERENCE_VARIANCE if reference else variance_inits.get(spec.name, 1.0)
                self.decoders[spec.name] = GaussianDecoder(n_in, spec.n_features, spec.decoder_hidden,
                                                           kind=spec.kind, variance_init=init,
                                                           log_parametrised=not reference)
        self.raw_length = reference
        if reference:  # one raw length scale for every latent, as the reference
            self.length_param = nn.Parameter(torch.tensor([float(length_scale_init)]))
        else:
            self.length_param = nn.Parameter(torch.full((self.n_latents,), math.log(length_scale_init)))

    # ---------------------------------------------------------------------------------------------- layout
    def _layout(self):
        """[(group, index)] in latent order; group is a modality name (private) or "shared"."""
        first, rest = self.specs[0], self.specs[1:]
        out = [(first.name, i) for i in range(first.n_private)] + [("shared", i) for i in range(self.n_shared)]
        for spec in rest:
            out += [(spec.name, i) for i in range(spec.n_private)]
        return out

    def latent_names(self):
        return [f"shared{i}" if g == "shared" else f"{g}/private{i}" for g, i in self.layout]

    def group_index(self, group):
        return [j for j, (g, _) in enumerate(self.layout) if g == group]

    def decoder_index(self, name):
        return [j for j, (g, _) in enumerate(self.layout) if g in (name, "shared")]

    # ------------------------------------------------------------------------------------------- posterior
    def posterior(self, batch, shared_from=None):
        """(mean, log σ) of every latent, (B, L, K or T), from the modalities present in ``batch``.

        The shared latents' mean and log σ are the averages over the encoders of the modalities given (all of
        them in training), or of the modalities named in ``shared_from`` only (training's shared-latent
        dropout); a modality's private latents missing from ``batch`` get the prior's N(0, 1) scale
        parameters (mean 0, log σ 0) — they only matter for reconstructing that modality.
        """
        names = [n for n in self.names if n in batch]
        outputs = {n: self.encoders[n](batch[n]) for n in names}
        any_m = outputs[names[0]][0]
        shape = (any_m.shape[0], any_m.shape[2])
        sources = names if shared_from is None else [n for n in names if n in shared_from]
        shared_m = torch.stack([outputs[n][0][:, self._n_private(n):] for n in sources]).mean(0)
        shared_s = torch.stack([outputs[n][1][:, self._n_private(n):] for n in sources]).mean(0)
        means, scales = [], []
        for group, i in self.layout:
            if group == "shared":
                means.append(shared_m[:, i]), scales.append(shared_s[:, i])
            elif group in outputs:
                means.append(outputs[group][0][:, i]), scales.append(outputs[group][1][:, i])
            else:
                means.append(any_m.new_zeros(shape)), scales.append(any_m.new_zeros(shape))
        return torch.stack(means, 1), torch.stack(scales, 1)

    def _n_private(self, name):
        return self.specs[self.names.index(name)].n_private

    def to_time(self, z):
        """(B, L, K or T) → time-domain (B, T, L)."""
        if self.domain == "fourier":
            return torch.einsum("blk,kt->btl", z, self.basis)
        return z.transpose(1, 2)

    def time_variance(self, log_scale, *, as_variance=False):
        """Marginal posterior variance per bin, (B, T, L); ``as_variance`` reads exp(s) as the variance (the
        reference's Poisson term) instead of the standard deviation."""
        var = torch.exp(log_scale) if as_variance else torch.exp(2 * log_scale)
        if self.domain == "fourier":
            return torch.einsum("blk,kt->btl", var, self.basis ** 2)
        return var.transpose(1, 2)

    def length_scale(self):
        """GP length scale of each latent (bins), (L,)."""
        if self.raw_length:
            return self.length_param.expand(self.n_latents)
        return torch.exp(self.length_param)

    def prior_variance(self):
        """Fourier domain: prior variance of each coefficient, (L, K)."""
        return prior_variance(self.length_scale()[:, None], self.omega2, rho=self.rho, eps=self.prior_eps)

    # ------------------------------------------------------------------------------------------------ ELBO
    def kl(self, m, s):
        """KL(q || GP prior) per trial, (B,)."""
        if self.domain == "fourier":
            k = self.prior_variance()
            return 0.5 * ((m ** 2 + torch.exp(2 * s)) / k - 1 - 2 * s + torch.log(k)).sum((1, 2))
        cov = rbf_covariance(self.n_bins, self.length_scale(), rho=self.rho, eps=self.prior_eps)  # (L, T, T)
        chol = torch.linalg.cholesky(cov)
        inv = torch.cholesky_inverse(chol)
        logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)  # (L,)
        quad = torch.einsum("blt,lts,bls->b", m, inv, m)
        trace = torch.einsum("blt,lt->b", torch.exp(2 * s), torch.diagonal(inv, dim1=-2, dim2=-1))
        return 0.5 * (quad + trace - self.n_bins * self.n_latents + logdet.sum() - 2 * s.sum((1, 2)))

    def sample(self, m, s, generator=None):
        eps = torch.randn(m.shape, generator=generator, device=m.device, dtype=m.dtype)
        return m + eps * torch.exp(s)

    def loss(self, batch, generator=None, *, nominal_batch=None, shared_from=None, kl_weight=1.0):
        """Negative ELBO of ``batch`` ({name: (B, T, D)}) and its parts (per-trial means, floats);
        ``shared_from`` names the modalities whose encoders give the shared posterior (default: all);
        ``kl_weight`` scales the KL term (training's warm-up; 1 is the ELBO)."""
        m, s = self.posterior(batch, shared_from)
        z_t = self.to_time(self.sample(m, s, generator))
        if self.objective == "reference":
            return self._reference_loss(batch, m, s, z_t, nominal_batch or m.shape[0])
        mean_t, var_t = self.to_time(m), self.time_variance(s)
        ll = {}
        for spec in self.specs:
            idx = self.decoder_index(spec.name)
            dec = self.decoders[spec.name]
            if spec.kind == "poisson":
                ll[spec.name] = dec.expected_loglik(batch[spec.name], mean_t[..., idx], var_t[..., idx])
            else:
                ll[spec.name] = dec.expected_loglik(batch[spec.name], z_t[..., idx], mean_t[..., idx], var_t[..., idx])
        kl = self.kl(m, s)
        total = kl_weight * kl - sum(ll.values())
        parts = {"kl": kl.mean().item(), **{f"nll_{n}": -v.mean().item() for n, v in ll.items()}}
        return total.mean(), parts

    def _reference_loss(self, batch, m, s, z_t, nominal_batch):
        vector = -s.sum((1, 2))  # the reference's "pen_term"
        k = self.prior_variance()
        vector = vector + 0.5 * ((m + torch.exp(s)) ** 2 / k + torch.log(2 * math.pi * k)).sum((1, 2))
        mean_t, var_ref = self.to_time(m), self.time_variance(s, as_variance=True)
        columns = []
        for spec in self.specs:
            idx = self.decoder_index(spec.name)
            dec = self.decoders[spec.name]
            if spec.kind == "poisson":
                vector = vector - dec.expected_loglik(batch[spec.name], mean_t[..., idx], var_ref[..., idx])
            else:
                columns.append(dec.reference_nll(batch[spec.name], z_t[..., idx]))
        # (B,) + (B, 1) broadcasts to (B, B): every per-trial term is counted B times
        total = vector
        for col in columns:
            total = total + col
        return total.sum() / nominal_batch, {"kl": float("nan")}

    # --------------------------------------------------------------------------------------- predictions
    @torch.no_grad()
    def reconstruct(self, batch):
        """{name: posterior-predictive mean} for every modality, from the modalities in ``batch``."""
        m, s = self.posterior(batch)
        mean_t, var_t = self.to_time(m), self.time_variance(s)
        out = {}
        for spec in self.specs:
            idx = self.decoder_index(spec.name)
            dec = self.decoders[spec.name]
            if spec.kind == "poisson":
                out[spec.name] = dec.rates(mean_t[..., idx], var_t[..., idx])
            else:
                out[spec.name] = dec(mean_t[..., idx])
        return out
