"""The MM-GPVAE estimator: ``fit(modalities)``, ``transform`` (latents), ``reconstruct``, ``score`` (ELBO)."""
import numbers

import numpy as np

from ..base import DEFAULT_VERBOSE, Estimator
from ..deep import TrainingLoop, import_torch, torch_generator, torch_runtime
from ..errors import InvalidInputError
from ..utils import check_option, check_random_state, check_scalar
from .prior import CONDTHRESH, MIN_LENGTH, fourier_basis

torch = import_torch("neurodata.mmgpvae.MMGPVAE")

from .network import KINDS, MMGPVAENet, ModalitySpec  # noqa: E402  (after the torch check)

__all__ = ["MMGPVAE", "REFERENCE_LR", "adam", "check_modalities"]

#: the reference's Adam learning rates per module (train.py: image net 1.6e-4, spike encoder 7.72e-4, spike
#: decoder 8.8e-3); the Gaussian series' rates and the prior group's are this suite's choices (model card)
REFERENCE_LR = {"image": (1.6e-4, 1.6e-4), "poisson": (7.72e-4, 8.8e-3), "gaussian": (1e-3, 1e-2)}
PRIOR_LR = 1e-2


def adam(groups, device="cpu"):
    """The training optimiser: Adam over the parameter groups, fused where torch has a fused kernel (CPU, CUDA).

    The same update as the per-tensor loop, one kernel over all parameters: on the paper's 3.3 M parameters a
    step takes 3.6 ms instead of 14 ms on one CPU thread (benchmarks/bench_mmgpvae.py).
    """
    return torch.optim.Adam(groups, fused=str(device).split(":")[0] in ("cpu", "cuda"))


def check_modalities(modalities, what="modalities"):
    """{name: float array (trials, bins, features)} with equal trial and bin counts; InvalidInputError if not."""
    if not isinstance(modalities, dict) or not modalities:
        raise InvalidInputError(f"{what} must be a non-empty dict {{name: array (trials, bins, features)}}; got "
                                f"{type(modalities).__name__}.")
    out, shape = {}, None
    for name, arr in modalities.items():
        if not isinstance(name, str) or not name or "." in name or name == "shared":
            raise InvalidInputError(f"Modality names must be non-empty strings without '.', other than 'shared'; "
                                    f"got {name!r}.")
        a = np.asarray(arr)
        if a.dtype.kind not in "biuf":
            raise InvalidInputError(f"Modality {name!r} must be numeric; got dtype {a.dtype}.")
        if a.ndim != 3:
            raise InvalidInputError(f"Modality {name!r} must be (trials, bins, features); got shape {a.shape}. A "
                                    f"continuous (time × features) series can be cut with "
                                    f"neurodata.mmgpvae.to_trials(series, n_bins).")
        if not np.all(np.isfinite(a)):
            n_bad = int(a.size - np.count_nonzero(np.isfinite(a)))
            raise InvalidInputError(f"Modality {name!r} contains {n_bad} NaN or infinite value(s); remove or impute "
                                    f"them first.")
        if shape is not None and a.shape[:2] != shape:
            raise InvalidInputError(f"Modalities must have equal trials and bins: {first!r} is {shape[0]} trials × "
                                    f"{shape[1]} bins but {name!r} is {a.shape[0]} × {a.shape[1]}.")
        if shape is None:
            shape, first = a.shape[:2], name
        out[name] = a.astype(np.float32)
    return out


class MMGPVAE(Estimator):
    """Multi-modal Gaussian-process VAE with shared and private latents (Gondur et al. 2023).

    Each modality (a dict entry of trials × bins × features) has its own encoder and decoder; ``n_shared``
    latents are seen by every decoder, ``n_private`` more by one modality's alone. Every latent has a GP prior
    (RBF kernel, learned length scale), diagonal in a truncated real Fourier basis (``domain="fourier"``) or
    full in time (``domain="time"``, the paper's ablation).

    Parameters
    ----------
    n_shared : int
        Latents shared by all modalities (reference 1).
    n_private : int or dict
        Private latents per modality (reference 1 each: "2 latents per modality, 1 shared").
    kinds : dict, optional
        {name: "poisson" | "image" | "gaussian"}; a modality not listed is "poisson" when it holds non-negative
        integers and "gaussian" (a linear decoder) otherwise. "image" is the reference's image network.
    encoder_hidden, decoder_hidden : dict, optional
        {name: layer widths} overriding the kind's defaults (network.DEFAULT_ENCODER_HIDDEN / _DECODER_).
    domain : {"fourier", "time"}
    objective : {"corrected", "reference"}
        The ELBO done right, or the reference code's loss with its quirks (see network.py and the card).
    kl_warmup : int
        Epochs over which the KL term's weight rises linearly to 1 (corrected objective only; 0, the
        reference's recipe, by default). 60 of 150 epochs makes the small faithful simulation identify the
        shared and image-only latents on every seed measured, where without it the image side can spend the
        shared latent on the zoom while a latent collapses to the prior (model card); on a much smaller data
        set (48 trials) it did not help, so it is not the default.
    epochs, batch_size, clip_norm : training schedule (reference 700, 20, 1.0).
    lr : dict, optional
        {name: (encoder lr, decoder lr)} overriding REFERENCE_LR by kind; ``"prior"``: the rate of the
        length scales and noise variances (corrected objective only; default 1e-2).
    length_scale_init : float
        Initial GP length scale in bins (reference 30).
    min_length, condthresh : Fourier truncation (reference 10 bins, 1e8).
    validation_fraction : float
        Share of the trials (the last ones) held out to monitor the ELBO for early stopping and the best
        state; 0 monitors the training loss.
    patience : int, optional
        Early stopping after this many epochs without a better monitored ELBO.
    restore_best : bool
        End with the parameters of the best monitored epoch (default) instead of the last.
    device, n_threads, checkpoint, seed, verbose : the torch room's usual knobs.

    Attributes
    ----------
    net_ : MMGPVAENet
        The trained network (on CPU, eval mode; the best monitored epoch unless ``restore_best=False``).
    specs_ : list of dict
        One per modality: name, kind (poisson, gaussian, image) and shape.
    latent_names_ : list of str
        The latents in order: shared ones first, then each modality's private ones.
    length_scale_ : ndarray (L,)
        The learnt GP length scale of each latent, in bins.
    noise_variance_ : dict {modality: ndarray}
        Observation noise variance of each Gaussian or image modality.
    basis_ : FourierBasis or None
        The kept real-DFT frequencies (``domain="fourier"``); None in the time domain.
    n_bins_ : int
        Time bins per trial.
    n_coefficients_ : int
        Coefficients per latent: kept Fourier frequencies, or ``n_bins_`` in the time domain.
    history_ : list of dict
        One row per epoch (ELBO terms, validation loss, time).
    best_epoch_ : int
        The epoch whose parameters ``net_`` holds.
    n_epochs_done_ : int
        Epochs trained, resumed ones included.
    stopped_early_ : bool
        Whether ``patience`` ended training before ``epochs``.
    """

    def __init__(self, *, n_shared=1, n_private=1, kinds=None, encoder_hidden=None, decoder_hidden=None,
                 domain="fourier", objective="corrected", kl_warmup=0, epochs=700, batch_size=20, clip_norm=1.0,
                 lr=None, length_scale_init=30.0, min_length=MIN_LENGTH, condthresh=CONDTHRESH, validation_fraction=0.0,
                 patience=None, restore_best=True, device="auto", n_threads=None, checkpoint=None, seed=None,
                 verbose=DEFAULT_VERBOSE):
        self._keep(locals())

    # ------------------------------------------------------------------------------------------ validation
    def _validate(self):
        owner = "MMGPVAE"
        check_scalar(self.n_shared, "n_shared", owner, kind=numbers.Integral, low=0)
        check_option(self.domain, "domain", ("fourier", "time"))
        check_option(self.objective, "objective", ("corrected", "reference"))
        if self.objective == "reference" and self.domain != "fourier":
            raise InvalidInputError("objective='reference' reproduces the reference's Fourier-domain loss; use "
                                    "domain='fourier' with it, or objective='corrected' for the time domain.")
        check_scalar(self.kl_warmup, "kl_warmup", owner, kind=numbers.Integral, low=0)
        if self.objective == "reference" and self.kl_warmup:
            raise InvalidInputError(f"objective='reference' reproduces the reference's loss, which has no KL "
                                    f"warm-up; use kl_warmup=0 with it (got {self.kl_warmup}).")
        check_scalar(self.epochs, "epochs", owner, kind=numbers.Integral, low=0)
        check_scalar(self.batch_size, "batch_size", owner, kind=numbers.Integral, low=1)
        check_scalar(self.clip_norm, "clip_norm", owner, low=0.0, low_inclusive=False)
        check_scalar(self.length_scale_init, "length_scale_init", owner, low=0.0, low_inclusive=False)
        check_scalar(self.min_length, "min_length", owner, low=0.0, low_inclusive=False)
        check_scalar(self.condthresh, "condthresh", owner, low=1.0, low_inclusive=False)
        check_scalar(self.validation_fraction, "validation_fraction", owner, low=0.0, high=0.5)

    def _specs(self, data):
        kinds = dict(self.kinds or {})
        unknown = set(kinds) - set(data)
        for table, label in ((kinds, "kinds"), (self.encoder_hidden or {}, "encoder_hidden"),
                             (self.decoder_hidden or {}, "decoder_hidden"),
                             (self.n_private if isinstance(self.n_private, dict) else {}, "n_private")):
            unknown = set(table) - set(data)
            if unknown:
                raise InvalidInputError(f"{label} names modalities {sorted(unknown)} that are not among the data's "
                                        f"{sorted(data)}.")
        specs = []
        for name, arr in data.items():
            counts = bool(np.all(arr >= 0) and np.all(arr == np.round(arr)))
            kind = kinds.get(name, "poisson" if counts else "gaussian")
            check_option(kind, f"kinds[{name!r}]", KINDS)
            if kind == "poisson" and not counts:
                raise InvalidInputError(f"Modality {name!r} is declared 'poisson' but holds negative or non-integer "
                                        f"values; Poisson data are spike counts.")
            n_priv = self.n_private.get(name, 1) if isinstance(self.n_private, dict) else self.n_private
            check_scalar(n_priv, f"n_private[{name!r}]", "MMGPVAE", kind=numbers.Integral, low=0)
            specs.append(ModalitySpec(name, kind, arr.shape[2], n_priv, (self.encoder_hidden or {}).get(name),
                                      (self.decoder_hidden or {}).get(name)))
        if self.n_shared + sum(s.n_private for s in specs) == 0:
            raise InvalidInputError("The model has no latents: n_shared and every n_private are 0.")
        return specs

    # ------------------------------------------------------------------------------------------------- fit
    def _build(self, specs, data, n_bins, generator_seed):
        basis = fourier_basis(n_bins, min_length=self.min_length, condthresh=self.condthresh) \
            if self.domain == "fourier" else None
        if self.domain == "time" and n_bins < self.min_length:
            fourier_basis(n_bins, min_length=self.min_length)  # the same "trial too short" error
        log_rates = {s.name: np.log(np.maximum(data[s.name].mean((0, 1)), 1e-3)) for s in specs if s.kind == "poisson"}
        var_inits = {}
        for s in specs:
            if s.kind == "image":
                var_inits[s.name] = float(max(data[s.name].var(), 1e-6))
            elif s.kind == "gaussian":
                var_inits[s.name] = np.maximum(data[s.name].reshape(-1, s.n_features).var(0), 1e-6)
        stats = {s.name: (float(data[s.name].mean()), float(max(data[s.name].std(), 1e-6))) for s in specs}
        torch.manual_seed(generator_seed)  # parameter init; fit() restores the global state afterwards
        return MMGPVAENet(specs, self.n_shared, n_bins, basis=basis, domain=self.domain, objective=self.objective,
                          length_scale_init=self.length_scale_init, log_mean_rates=log_rates,
                          variance_inits=var_inits, input_stats=stats), basis

    def _param_groups(self, net, specs):
        lr = {k: tuple(v) for k, v in REFERENCE_LR.items()}
        user = dict(self.lr or {})
        prior_lr = float(user.pop("prior", PRIOR_LR))
        unknown = set(user) - {s.name for s in specs}
        if unknown:
            raise InvalidInputError(f"lr names modalities {sorted(unknown)} that are not among the data's; use "
                                    f"{{name: (encoder lr, decoder lr)}} or 'prior'.")
        groups, extra = [], []
        image_like = next((s.name for s in specs if s.kind != "poisson"), None)
        for s in specs:
            enc_lr, dec_lr = user.get(s.name, lr[s.kind])
            dec = net.decoders[s.name]
            variance = [dec.variance_param] if s.kind != "poisson" else []
            dec_params = [p for n, p in dec.named_parameters() if n != "variance_param"]
            groups.append({"params": list(net.encoders[s.name].parameters()), "lr": enc_lr, "name": f"{s.name}/encoder"})
            groups.append({"params": dec_params, "lr": dec_lr, "name": f"{s.name}/decoder"})
            if self.objective == "reference":
                # the reference keeps ℓ and the image variance in the image network's optimiser
                if s.name == image_like:
                    variance = variance + [net.length_param]
                groups[-1]["params"] += variance
            else:
                extra += variance
        if self.objective == "reference" and image_like is None:
            groups[-1]["params"].append(net.length_param)
        if self.objective == "corrected":
            groups.append({"params": [net.length_param] + extra, "lr": prior_lr, "name": "prior"})
        return groups

    def fit(self, modalities):
        """Train on {name: (trials, bins, features)}; returns self."""
        self._validate()
        data = check_modalities(modalities)
        n_trials, n_bins = next(iter(data.values())).shape[:2]
        specs = self._specs(data)
        rng = check_random_state(self.seed)
        n_val = int(round(self.validation_fraction * n_trials))
        if n_trials - n_val < 1:
            raise InvalidInputError(f"{n_trials} trial(s) leave none to train on with validation_fraction="
                                    f"{self.validation_fraction}.")
        init_seed = int(rng.integers(2 ** 31))
        saved_rng = torch.random.get_rng_state()
        try:
            net, basis = self._build(specs, data, n_bins, init_seed)
        finally:
            torch.random.set_rng_state(saved_rng)
        with torch_runtime(self.device, self.n_threads) as device:
            net = net.to(device)
            tensors = {k: torch.from_numpy(v).to(device) for k, v in data.items()}
            train_idx, val_idx = np.arange(n_trials - n_val), np.arange(n_trials - n_val, n_trials)
            groups = self._param_groups(net, specs)
            optimizer = adam(groups, device)
            generator = torch_generator(rng, device=device)
            bs = int(self.batch_size)

            def train_epoch(epoch):
                order = rng.permutation(train_idx)
                # KL warm-up: the KL term's weight rises linearly from 1/(warm-up + 1) to 1 (epochs count from 0)
                kl_weight = min(1.0, (epoch + 1) / (self.kl_warmup + 1))
                total, parts_sum, n_seen = 0.0, {}, 0
                for first in range(0, len(order), bs):
                    idx = torch.from_numpy(order[first:first + bs]).to(device)
                    batch = {k: v[idx] for k, v in tensors.items()}
                    optimizer.zero_grad()
                    loss, parts = net.loss(batch, generator, nominal_batch=bs, kl_weight=kl_weight)
                    loss.backward()
                    for g in groups:  # the reference clips each module's gradient on its own
                        torch.nn.utils.clip_grad_norm_(g["params"], self.clip_norm)
                    optimizer.step()
                    b = len(idx)
                    # the reference objective is a sum over a batch × batch broadcast: report it per trial
                    # ... and during the KL warm-up the full negative ELBO (the monitored number stays the ELBO)
                    full = loss.item() + (1.0 - kl_weight) * parts["kl"] if self.objective == "corrected" else \
                        loss.item()
                    total += full * (b if self.objective == "corrected" else bs / b)
                    for k, v in parts.items():
                        parts_sum[k] = parts_sum.get(k, 0.0) + v * b
                    n_seen += b
                metrics = {"loss": total / n_seen, **{k: v / n_seen for k, v in parts_sum.items()}}
                metrics["length_scale"] = float(net.length_scale().detach().mean())
                if n_val:
                    net.eval()
                    with torch.no_grad():
                        vb = {k: v[torch.from_numpy(val_idx).to(device)] for k, v in tensors.items()}
                        metrics["val_loss"] = float(self._corrected_loss(net, vb, generator))
                    net.train()
                return metrics

            loop = TrainingLoop(int(self.epochs), checkpoint=self.checkpoint, patience=self.patience,
                                monitor="val_loss" if n_val else "loss", restore_best=self.restore_best,
                                fingerprint=self._fingerprint(specs, n_trials, n_bins), desc="MM-GPVAE",
                                verbose=self.verbose)
            loop.run(net, optimizer, train_epoch, rng=rng, generators=[generator], device=device)
        self.net_ = net.cpu().eval()
        self.specs_ = [s.to_dict() for s in specs]
        self.basis_ = basis
        self.n_bins_ = n_bins
        self.n_coefficients_ = basis.n_coefficients if basis is not None else n_bins
        self.latent_names_ = net.latent_names()
        self.history_ = list(loop.history_)
        self.best_epoch_ = loop.best_epoch_
        self.n_epochs_done_ = loop.n_epochs_done_
        self.stopped_early_ = loop.stopped_early_
        with torch.no_grad():
            self.length_scale_ = net.length_scale().numpy().astype(float).copy()
            self.noise_variance_ = {s.name: net.decoders[s.name].variance().numpy().astype(float).copy()
                                    for s in specs if s.kind != "poisson"}
        return self

    @staticmethod
    def _corrected_loss(net, batch, generator):
        """Per-trial negative ELBO with the corrected objective, whichever objective trains ``net``."""
        objective, net.objective = net.objective, "corrected"
        try:
            return net.loss(batch, generator)[0].item()
        finally:
            net.objective = objective

    def _fingerprint(self, specs, n_trials, n_bins):
        params = {k: v for k, v in self.get_params().items() if k not in ("checkpoint", "verbose", "device",
                                                                         "n_threads", "epochs", "patience")}
        return repr({"params": sorted((k, repr(v)) for k, v in params.items()),
                     "specs": [s.to_dict() for s in specs], "shape": (n_trials, n_bins)})

    # ------------------------------------------------------------------------------------------ inference
    def _check_fitted(self):
        if not hasattr(self, "net_"):
            raise InvalidInputError("This MMGPVAE is not fitted yet; call fit() first.")

    def _inputs(self, modalities):
        self._check_fitted()
        data = check_modalities(modalities)
        specs = {s["name"]: s for s in self.specs_}
        unknown = set(data) - set(specs)
        if unknown:
            raise InvalidInputError(f"Modalities {sorted(unknown)} were not fitted; this model knows "
                                    f"{sorted(specs)}.")
        for name, arr in data.items():
            if arr.shape[1] != self.n_bins_ or arr.shape[2] != specs[name]["n_features"]:
                raise InvalidInputError(f"Modality {name!r} must be (trials, {self.n_bins_}, "
                                        f"{specs[name]['n_features']}) like the fitted data; got {arr.shape}.")
        return {k: torch.from_numpy(v) for k, v in data.items()}

    def _posterior(self, modalities):
        batch = self._inputs(modalities)
        with torch_runtime("cpu", self.n_threads), torch.no_grad():
            m, s = self.net_.posterior(batch)
            return self.net_.to_time(m).numpy(), self.net_.time_variance(s).numpy()

    def transform(self, modalities):
        """Posterior-mean latents in time, (trials, bins, n_latents), ordered as ``latent_names_``.

        Any subset of the fitted modalities may be given: the shared latents are then inferred from those alone
        (e.g. from spikes only), and the private latents of a missing modality are returned as 0.
        """
        return self._posterior(modalities)[0].astype(float)

    def transform_variance(self, modalities):
        """Posterior marginal variance of each latent per bin, shaped like :meth:`transform`."""
        return self._posterior(modalities)[1].astype(float)

    def reconstruct(self, modalities):
        """{name: posterior-predictive mean (trials, bins, features)} of every fitted modality: expected
        rates ``E_q[exp η]`` for Poisson ones, the decoded posterior mean for Gaussian ones."""
        batch = self._inputs(modalities)
        with torch_runtime("cpu", self.n_threads), torch.no_grad():
            return {k: v.numpy().astype(float) for k, v in self.net_.reconstruct(batch).items()}

    def score(self, modalities, *, seed=0):
        """Mean ELBO per trial (corrected objective, one posterior sample for the MLP decoders); higher is better."""
        batch = self._inputs(modalities)
        if set(batch) != {s["name"] for s in self.specs_}:
            raise InvalidInputError("score() needs every fitted modality.")
        with torch_runtime("cpu", self.n_threads), torch.no_grad():
            return -self._corrected_loss(self.net_, batch, torch_generator(seed))

    def latent_index(self, group):
        """Columns of :meth:`transform` holding ``group``'s latents: "shared" or a modality name (private)."""
        self._check_fitted()
        idx = self.net_.group_index(group)
        if not idx and group != "shared" and group not in {s["name"] for s in self.specs_}:
            raise InvalidInputError(f"Unknown latent group {group!r}; allowed values are 'shared' and "
                                    f"{', '.join(repr(s['name']) for s in self.specs_)}.")
        return idx
