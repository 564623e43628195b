"""The HD-SNN motion detector as a time-invariant (multinomial) logistic regression, in PyTorch.

Evidence (Grimaldi & Perrinet 2023, Eq. 2):

    B(c, t, x, y) = sum_{p, d, dx, dy} K(c, p, d, dx, dy) * A(p, t - d, x - dx, y - dy)  (+ bias_c)

with ``K`` of shape (classes, 2, K_T, K_X, K_Y) indexed by synaptic delay ``d = 0 .. K_T-1`` (time steps) and by
the spatial offset ``dx = i - K_X // 2``. The convolution is causal: an event at t0 reaches the detectors only at
t0 + d >= t0. With ``flip`` the evidence is the voxel-wise maximum over the movie and its ON/OFF-swapped copy
(contrast-polarity symmetry, as for complex cells); it is what makes the evidence direction-selective after
pooling. Evaluation: pool the per-voxel evidence over space at each time step (paper: mean over positions;
notebook: over the most confident voxels), take the argmax over classes, accuracy per time step on held-out
movies.
"""
import copy

import numpy as np

from neurodata.base import Estimator
from neurodata.deep import TrainingLoop, import_torch, load_state, save_state, torch_generator, torch_runtime
from neurodata.errors import DataFileError, InvalidInputError
from neurodata.utils import check_option, check_random_state

from .config import MotionConfig
from .events import check_events

torch = import_torch("neurosim.motion.model")
F = torch.nn.functional


def create_mask(kernel_size, exponent=4.0, r0=0.05, vmax=2.5):
    """Mask heuristic of the paper (notebook ``create_mask``), indexed by delay.

    A circular spatial mask ``((cos(pi r) + 1) / 2 * (r < 1)) ** (1 / exponent)`` times a cone
    ``exp(-r^2 / (2 (vmax * d / (K_T - 1) + r0)^2))`` whose radius shrinks for short delays: events that are
    to converge on a voxel soon must come from nearby. Shape (K_T, K_X, K_Y), float32.
    """
    kt, kx, ky = kernel_size
    delay = torch.linspace(0, 1, steps=kt) if kt > 1 else torch.zeros(1)
    xs = torch.linspace(-1, 1, steps=kx + 2)[1:-1]
    ys = torch.linspace(-1, 1, steps=ky + 2)[1:-1]
    d, x, y = torch.meshgrid(delay, xs, ys, indexing="ij")
    r = torch.sqrt(x ** 2 + y ** 2)
    circle = (((torch.cos(np.pi * r) + 1) / 2) * (r < 1.0)) ** (1.0 / exponent)
    cone = torch.exp(-0.5 * r ** 2 / (vmax * d + r0) ** 2)
    return (circle * cone).float()


def delay_convolution(events, kernel, bias=None):
    """Causal delay convolution: events (n, 2, T, X, Y) float, kernel (C, 2, K_T, K_X, K_Y) -> (n, C, T, X, Y).

    conv3d is a cross-correlation, so the kernel is flipped on all three axes; the time axis is padded with
    K_T - 1 zeros in the past only (causality), space with K//2 zeros on each side ('same' output size).
    """
    return F.conv3d(pad_events(events, kernel.shape[2:]), torch.flip(kernel, dims=(2, 3, 4)), bias=bias)


def pad_events(events, kernel_size):
    """Zero-pad (n, 2, T, X, Y) events: K_T - 1 steps in the past, K//2 pixels on each spatial side."""
    kt, kx, ky = kernel_size
    return F.pad(events, (ky // 2, ky // 2, kx // 2, kx // 2, kt - 1, 0))


def gather_windows(padded, movie, t, x, y, kernel_size):
    """Receptive-field windows (N, 2, K_T, K_X, K_Y) of the output voxels (movie, t, x, y) from padded events,
    in window order: ``window[p, a, b, c] = A(p, t - (K_T - 1) + a, x - K_X // 2 + b, y - K_Y // 2 + c)``, i.e.
    the delay-ordered patch flipped on its three last axes (``(window * K[c].flip(1, 2, 3)).sum()`` equals
    ``delay_convolution`` at that voxel). The sliding windows are a strided view; only the sampled ones are
    copied.
    """
    kt, kx, ky = kernel_size
    return padded.unfold(2, kt, 1).unfold(3, kx, 1).unfold(4, ky, 1)[movie, :, t, x, y]


class DelayKernelNet(torch.nn.Module):
    """The kernel ``K`` (classes, 2, K_T, K_X, K_Y) and biases, with the mask clamp and the ON/OFF flip."""

    def __init__(self, n_classes, kernel_size, *, bias=True, mask=True, mask_params=(4.0, 0.05, 2.5),
                 flip=True, weight_init=1e-2, weight_init_center=4.0, generator=None):
        super().__init__()
        kt, kx, ky = kernel_size
        self.mask = mask
        self.flip = flip
        self.register_buffer("filter_mask", create_mask(kernel_size, *mask_params))
        weight = weight_init * torch.randn((n_classes, 2, kt, kx, ky), generator=generator) * self.filter_mask
        # the notebook starts every class from a centre-on detector at the shortest delay: ON +, OFF -
        weight[:, 1, 0, kx // 2, ky // 2] = weight_init_center
        weight[:, 0, 0, kx // 2, ky // 2] = -weight_init_center
        self.weight = torch.nn.Parameter(weight)
        self.bias = torch.nn.Parameter(torch.zeros(n_classes)) if bias else None

    def clamp_to_mask(self):
        """Clamp |K| below ``mask * max|K|`` (the notebook's masking step, applied before each forward)."""
        with torch.no_grad():
            bound = self.filter_mask * self.weight.abs().max()
            self.weight.data = torch.maximum(torch.minimum(self.weight.data, bound), -bound)

    def soft_threshold(self, threshold):
        """Proximal step of an L1 penalty: shrink every |K| by ``threshold``, zeroing the small ones."""
        with torch.no_grad():
            self.weight.copy_(torch.sign(self.weight) * torch.clamp(self.weight.abs() - threshold, min=0.0))

    def forward(self, events):
        if self.mask and self.training:
            self.clamp_to_mask()
        logits = delay_convolution(events, self.weight, self.bias)
        if self.flip:
            logits = torch.maximum(logits, delay_convolution(events.flip(1), self.weight, self.bias))
        return logits

    def forward_patches(self, windows):
        """Logits (N, C) of sampled voxels from their windows (N, 2, K_T, K_X, K_Y) (:func:`gather_windows`):
        same numbers as ``forward`` at those voxels, at a fraction of the cost. The kernel is flipped instead of
        the (much larger) windows: to window order on the tap axes, and on the polarity axis for the ON/OFF flip."""
        if self.mask and self.training:
            self.clamp_to_mask()
        flat = windows.reshape(len(windows), -1)
        taps = self.weight.flip(2, 3, 4)
        logits = flat @ taps.reshape(taps.shape[0], -1).T
        if self.flip:
            logits = torch.maximum(logits, flat @ taps.flip(1).reshape(taps.shape[0], -1).T)
        return logits if self.bias is None else logits + self.bias


def apply_symmetry(events, labels, perms, g):
    """Movies (n, 2, T, X, Y) under symmetry g of the square grid (bit 0: mirror x, bit 1: mirror y, bit 2:
    transpose), with their labels relabelled by ``perms[g]`` (:meth:`MotionConfig.symmetry_permutations`)."""
    if g & 1:
        events = events.flip(3)
    if g & 2:
        events = events.flip(4)
    if g & 4:
        events = events.transpose(3, 4)
    return events, perms[g][labels]


# spikes(): decisions closer than this (relative) are recomputed in float64; float32 sums of a few hundred taps
# err by ~1e-6 relative
_DECISION_RTOL = 1e-4


def _float_batch(events, idx):
    """Movies ``idx`` of a (boolean) event batch as a float32 tensor: the only float copy ``fit`` makes."""
    return torch.from_numpy(np.asarray(events[np.asarray(idx)], dtype=np.float32))


def _check_movies(events, owner):
    """A dense event batch with at least one movie (``owner`` names the caller in the message)."""
    events = check_events(events)
    if len(events) == 0:
        raise InvalidInputError(f"{owner} got 0 movies; pass events of shape (n_movies >= 1, 2, n_steps, x, y).")
    return events


# Denormals stay on here: the mask's far taps are float32 denormals (~1e-44) and the clamp keeps kernel weights
# that small, and every non-zero tap counts as a synapse (n_weights_, pruning curves, the Brian2 twin); flushing
# would drop about 15 % of them on the reduced kernel.
_FLUSH_DENORMAL = False


class HeterogeneousDelayClassifier(Estimator):
    """Heterogeneous-delay motion detector (Grimaldi & Perrinet 2023), trained as a logistic regression.

    Parameters
    ----------
    config : MotionConfig or {"paper", "reduced"}
        Kernel size, number of classes, mask/flip heuristics, loss and training schedule.
    epochs, lr : optional overrides of the config's training schedule.
    device : {"auto", "cpu", "cuda"}
    n_threads : int, optional
        torch CPU threads during fit/predict (restored afterwards).
    checkpoint : path, optional
        Saved after every epoch (atomically) and resumed from when it exists with the same configuration; the
        resumed run ends with the same numbers as an uninterrupted one (``neurodata.deep.TrainingLoop``).
    seed : int or numpy Generator
    verbose : bool
        Progress bar over epochs.

    Attributes
    ----------
    config_ : MotionConfig
        The configuration the kernels were trained for (``config``, or the default one).
    kernel_ : ndarray (classes, 2, K_T, K_X, K_Y), float32
        The heterogeneous-delay weights: one spatio-temporal kernel per class and polarity.
    bias_ : ndarray (classes,), float32
        The output biases (zeros for a model without bias).
    history_ : list of dict
        One row per epoch (loss, time).
    n_epochs_done_ : int
        Epochs trained, resumed ones included.
    thresholds_ : ndarray (classes,), float64
        Firing thresholds of the spiking output, after :meth:`calibrate_thresholds` (saved with the model);
        ``threshold_rate_`` is the rate (spikes/s per detector) they were set for.
    """

    def __init__(self, *, config="reduced", epochs=None, lr=None, device="auto", n_threads=None, checkpoint=None,
                 seed=None, verbose=False):
        self._keep(locals())

    # ------------------------------------------------------------------------------------------------------
    def _config(self):
        if isinstance(self.config, MotionConfig):
            return self.config
        from .config import get_config
        return get_config(self.config)

    def _build(self, config, rng):
        generator = torch_generator(rng)
        return DelayKernelNet(config.n_classes, config.kernel_size, bias=config.bias, mask=config.mask,
                              mask_params=(config.mask_exponent, config.mask_r0, config.mask_vmax),
                              flip=config.flip, weight_init=config.weight_init,
                              weight_init_center=config.weight_init_center, generator=generator)

    def _loss(self, logits, labels, config):
        """Per-voxel loss against the one-hot label of each time step, averaged over all voxels."""
        n, c, t, x, y = logits.shape
        target = labels[:, :, None, None].expand(n, t, x, y)
        if config.loss == "cross_entropy":  # notebook: softmax over classes
            return F.cross_entropy(logits, target)
        onehot = F.one_hot(target, c).permute(0, 4, 1, 2, 3).to(logits.dtype)  # paper text: binary CE
        return F.binary_cross_entropy_with_logits(logits, onehot)

    def _loss_flat(self, logits, target, config):
        if config.loss == "cross_entropy":
            return F.cross_entropy(logits, target)
        return F.binary_cross_entropy_with_logits(logits, F.one_hot(target, logits.shape[1]).to(logits.dtype))

    def _sampled_logits(self, net, events, labels, config, rng):
        """Logits at ``voxels_per_movie`` voxels per movie drawn uniformly (an unbiased estimate of the
        all-voxel mean loss), and their labels."""
        n, _, t_len, x_len, y_len = events.shape
        m = config.voxels_per_movie
        movie = np.repeat(np.arange(n), m)
        coords = [torch.from_numpy(a).to(events.device) for a in (
            movie, rng.integers(t_len, size=n * m), rng.integers(x_len, size=n * m), rng.integers(y_len, size=n * m))]
        windows = gather_windows(pad_events(events, config.kernel_size), *coords, config.kernel_size)
        return net.forward_patches(windows), labels[coords[0], coords[1]]

    def fit(self, events, labels):
        """Train on event movies (n, 2, T, X, Y) with per-step labels (n, T); returns self.

        The events stay as given (boolean: 1 byte per voxel) and each batch is converted to float32 when it is
        used, so memory holds one float batch, not a float copy of every movie.
        """
        config = self._config()
        events = _check_movies(events, "fit")
        labels = np.asarray(labels)
        if labels.shape != events.shape[:1] + events.shape[2:3]:
            raise InvalidInputError(f"labels must be (n_movies, n_steps) = {events.shape[:1] + events.shape[2:3]}"
                                    f"; got {labels.shape}.")
        if labels.min() < 0 or labels.max() >= config.n_classes:
            raise InvalidInputError(f"labels must lie in [0, {config.n_classes}); got range "
                                    f"[{labels.min()}, {labels.max()}].")
        if config.augment and events.shape[3] != events.shape[4]:
            raise InvalidInputError(f"augment=True transposes the pixel grid, so movies must be square; got "
                                    f"{events.shape[3:]}.")
        epochs = config.epochs if self.epochs is None else int(self.epochs)
        lr = config.lr if self.lr is None else float(self.lr)
        rng = check_random_state(self.seed)
        with torch_runtime(self.device, self.n_threads, flush_denormal=_FLUSH_DENORMAL) as device:
            net = self._build(config, rng).to(device)
            optimizer = torch.optim.Adam(net.parameters(), lr=lr)
            n_batches = -(-len(events) // config.batch_size)
            scheduler = None
            if config.lr_schedule == "cosine":  # one cosine period over all steps of all epochs
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * n_batches)
            perms = torch.from_numpy(config.symmetry_permutations()) if config.augment else None
            y_all = torch.from_numpy(labels.astype(np.int64))

            def train_epoch(epoch):
                order = rng.permutation(len(events))
                losses = []
                for first in range(0, len(order), config.batch_size):
                    idx = order[first:first + config.batch_size]
                    # events stay boolean; only this batch becomes float32 (a full copy of the paper's 400 movies
                    # of 2 x 200 x 128 x 128 would be 10.5 GB)
                    xb, yb = _float_batch(events, idx), y_all[torch.from_numpy(idx)]
                    if perms is not None:  # one random symmetry of the square per batch, labels follow
                        xb, yb = apply_symmetry(xb, yb, perms, int(rng.integers(8)))
                    xb, yb = xb.to(device), yb.to(device)
                    optimizer.zero_grad()
                    if config.voxels_per_movie is None:
                        loss = self._loss(net(xb), yb, config)
                    else:
                        logits, target = self._sampled_logits(net, xb, yb, config, rng)
                        loss = self._loss_flat(logits, target, config)
                    losses.append(loss.item())
                    loss.backward()
                    optimizer.step()
                    if config.l1 > 0:
                        net.soft_threshold(config.l1 * optimizer.param_groups[0]["lr"])
                    if scheduler is not None:
                        scheduler.step()
                return {"loss": float(np.mean(losses)), "movies": len(events)}

            loop = TrainingLoop(epochs, checkpoint=self.checkpoint, fingerprint=config.to_dict(),
                                desc="motion training", verbose=self.verbose)
            history = loop.run(net, optimizer, train_epoch, scheduler=scheduler, rng=rng, device=device).history_
            if config.mask:
                net.clamp_to_mask()
        self._set_fitted(net, config, history)
        return self

    def _set_fitted(self, net, config, history):
        self.config_ = config
        self.kernel_ = net.weight.detach().cpu().numpy().astype(np.float32)
        self.bias_ = (net.bias.detach().cpu().numpy().astype(np.float32) if net.bias is not None
                      else np.zeros(config.n_classes, np.float32))
        self.history_ = list(history)
        self.n_epochs_done_ = len(history)

    def _check_fitted(self):
        if not hasattr(self, "kernel_"):
            raise InvalidInputError("This HeterogeneousDelayClassifier is not fitted yet; call fit() or load().")

    # ------------------------------------------------------------------------------------------------------
    def _evidence_batches(self, events, batch_size, with_inputs=False):
        """Yield the per-voxel evidence B (batch, C, T, X, Y) as float32 torch tensors, with bias and the flip
        maximum (with ``with_inputs``, pairs (float inputs, B))."""
        with torch_runtime(self.device, self.n_threads, flush_denormal=_FLUSH_DENORMAL) as device, torch.no_grad():
            kernel = torch.from_numpy(self.kernel_).to(device)
            bias = torch.from_numpy(self.bias_).to(device)
            for first in range(0, len(events), batch_size):
                xb = _float_batch(events, np.arange(first, min(first + batch_size, len(events)))).to(device)
                b = delay_convolution(xb, kernel, bias)
                if self.config_.flip:
                    b = torch.maximum(b, delay_convolution(xb.flip(1), kernel, bias))
                yield (xb, b) if with_inputs else b

    def _exact_evidence(self, xb, movie, t, x, y):
        """Float64 evidence (N, C) of the voxels (movie, t, x, y) of the input batch ``xb``: the same sums as
        the convolution (as :meth:`DelayKernelNet.forward_patches`), accumulated in double precision."""
        windows = gather_windows(pad_events(xb.double(), self.config_.kernel_size),
                                 *(torch.from_numpy(a).to(xb.device) for a in (movie, t, x, y)),
                                 self.config_.kernel_size).reshape(len(movie), -1)
        taps = torch.from_numpy(self.kernel_).to(device=xb.device, dtype=torch.float64).flip(2, 3, 4)
        bias = torch.from_numpy(self.bias_).to(device=xb.device, dtype=torch.float64)
        out = windows @ taps.reshape(taps.shape[0], -1).T
        if self.config_.flip:
            out = torch.maximum(out, windows @ taps.flip(1).reshape(taps.shape[0], -1).T)
        return (out + bias).cpu().numpy()

    def logits(self, events, *, batch_size=4):
        """Evidence B (n, C, T, X, Y) for event movies, with bias and the flip maximum (float32 numpy)."""
        self._check_fitted()
        events = _check_movies(events, "logits")
        return np.concatenate([b.cpu().numpy() for b in self._evidence_batches(events, batch_size)])

    def evidence(self, events, *, readout=None, top_fraction=None, batch_size=4):
        """Per-voxel evidence pooled over space at each time step, (n, C, T); the argmax is the decision.

        readout (default: the configuration's, ``"mean"``):

        - ``"mean"`` (paper text, Sec. 2.4): evidence averaged over all positions. The per-voxel evidence is
          already nonlinear: with ``flip`` it is ``max(K * A, K * flip(A))``, i.e. ``|K * A|`` for an ON/OFF
          antisymmetric kernel, a rectified motion-energy-like response. (Without the flip the spatial mean of
          a linear evidence only depends on the kernel's spatial sums, whatever the direction.)
        - ``"top"`` (authors' notebook, ``test_model`` with ``p_B_test``): keep the voxels whose best class
          evidence ``max_c B(c, t, x, y)`` lies in the top ``top_fraction`` of the movie (all positions and the
          steps from K_T - 1 on, once the delay range is filled), then average their evidence over space at each
          time step (non-kept voxels count as zero, as in the notebook, which then also averages over time).
        - ``"softmax"``: per-voxel class probabilities averaged over all positions.
        """
        self._check_fitted()
        events = _check_movies(events, "evidence")
        readout = self.config_.readout if readout is None else readout
        check_option(readout, "readout", ("top", "mean", "softmax"))
        top_fraction = self.config_.top_fraction if top_fraction is None else top_fraction
        if not 0 < top_fraction <= 1:
            raise InvalidInputError(f"top_fraction must be in (0, 1]; got {top_fraction!r}.")
        skip = min(self.config_.kernel_size[0] - 1, events.shape[2] - 1)
        out = []
        for b in self._evidence_batches(events, batch_size):
            if readout == "mean":
                pooled = b.mean(dim=(3, 4))
            elif readout == "softmax":
                pooled = torch.softmax(b, dim=1).mean(dim=(3, 4))
            else:
                best = b.max(dim=1).values  # (n, T, X, Y)
                ranked = best[:, skip:].reshape(len(best), -1)
                k = max(1, int(round((1 - top_fraction) * ranked.shape[1])))
                cut = ranked.kthvalue(k, dim=1).values if k < ranked.shape[1] else ranked.max(dim=1).values
                keep = (best > cut[:, None, None, None]) if top_fraction < 1 else torch.ones_like(best, dtype=bool)
                pooled = (b * keep[:, None].to(b.dtype)).mean(dim=(3, 4))
            out.append(pooled.cpu().numpy())
        return np.concatenate(out)

    def predict(self, events, *, readout=None, top_fraction=None):
        """Predicted motion class per time step, (n, T).

        Raises
        ------
        InvalidInputError
            For 0 movies, or for a movie without any event: its evidence is the bias alone, and the argmax of
            that would be an arbitrary class (class 0 without biases), not a decision.
        """
        self._check_fitted()
        events = _check_movies(events, "predict")
        silent = np.flatnonzero(~events.reshape(len(events), -1).any(axis=1))
        if len(silent):
            raise InvalidInputError(f"Movie(s) {silent[:10].tolist()} hold no event: nothing to decide the motion "
                                    f"from (the argmax of the bias alone would be class "
                                    f"{int(np.argmax(self.bias_))}). Drop them or lower the event selectivity.")
        return self.evidence(events, readout=readout, top_fraction=top_fraction).argmax(axis=1)

    def score(self, events, labels, *, skip=None, readout=None, top_fraction=None):
        """Accuracy per time step on held-out movies, ignoring the first ``skip`` steps (default K_T - 1,
        the steps before the kernel's full delay range has seen the movie).

        Raises
        ------
        InvalidInputError
            When the movies have no step left after ``skip`` (they must be at least ``skip + 1`` steps long,
            K_T by default), for bad labels, and as :meth:`predict`.
        """
        self._check_fitted()
        events = _check_movies(events, "score")
        labels = np.asarray(labels)
        skip = self.config_.kernel_size[0] - 1 if skip is None else int(skip)
        if skip < 0:
            raise InvalidInputError(f"skip must be >= 0; got {skip}.")
        n_steps = events.shape[2]
        if n_steps <= skip:
            raise InvalidInputError(f"The movies have {n_steps} steps, but score() ignores the first {skip} (the "
                                    f"delay range K_T - 1 = {self.config_.kernel_size[0] - 1} by default): movies "
                                    f"must be at least {skip + 1} steps long, or pass a smaller skip.")
        if labels.shape != events.shape[:1] + events.shape[2:3]:
            raise InvalidInputError(f"labels must be (n_movies, n_steps) = {events.shape[:1] + events.shape[2:3]}; "
                                    f"got {labels.shape}.")
        predicted = self.predict(events, readout=readout, top_fraction=top_fraction)
        return float(np.mean(predicted[:, skip:] == labels[:, skip:]))

    # ------------------------------------------------------------------------------------------------------
    # spiking output (paper Sec. 2.3): thresholds for a target rate, winner-take-all over classes
    def calibrate_thresholds(self, events, *, rate=None, batch_size=4):
        """Set per-class firing thresholds so that each detector neuron (class, x, y) fires ``rate`` spikes/s
        on average over ``events`` after the winner-take-all (paper: about 1 spike/s).

        Parameters
        ----------
        events : (n, 2, T, X, Y) or (2, T, X, Y) bool
            Calibration movies (e.g. the training movies).
        rate : float, optional
            Spikes per second per detector neuron; default the configuration's ``target_rate``.
        batch_size : int

        Returns
        -------
        self
            With ``thresholds_`` (classes,) float64 and ``threshold_rate_``; see
            :func:`neurosim.motion.spiking.calibrate_thresholds`.
        """
        from .spiking import calibrate_thresholds

        self._check_fitted()
        events = _check_movies(events, "calibrate_thresholds")
        rate = self.config_.target_rate if rate is None else rate
        batches = (b.cpu().numpy() for b in self._evidence_batches(events, batch_size))
        self.thresholds_ = calibrate_thresholds(batches, self.config_.n_classes, rate=rate, dt=self.config_.dt)
        self.threshold_rate_ = float(rate)
        return self

    def spikes(self, events, *, batch_size=4):
        """Output spikes (n, C, T, X, Y) bool: at each (t, x, y) the class with the largest evidence fires when
        its evidence exceeds its threshold (:meth:`calibrate_thresholds` first).

        The evidence is the float32 convolution, except at the voxels where a decision is within float32
        rounding (the two best classes, or the best one and its threshold, closer than 1e-4 relative): those are
        summed again in float64, as the Brian2 twin sums them, so that the spikes do not hang on rounding.
        """
        from .spiking import winner_take_all

        self._check_fitted()
        if getattr(self, "thresholds_", None) is None:
            raise InvalidInputError("This HeterogeneousDelayClassifier has no firing thresholds; call "
                                    "calibrate_thresholds(events) first.")
        events = _check_movies(events, "spikes")
        out = []
        for xb, b in self._evidence_batches(events, batch_size, with_inputs=True):
            evidence = b.cpu().numpy().astype(np.float64)
            if evidence.shape[1] > 1:
                top = -np.partition(-evidence, 1, axis=1)[:, :2]
                best, second = top[:, 0], top[:, 1]
            else:
                best = second = evidence[:, 0]
                second = best - np.inf
            winner = evidence.argmax(axis=1)
            tol = _DECISION_RTOL * np.maximum(np.abs(best), 1.0)
            with np.errstate(invalid="ignore"):  # inf thresholds: never close
                close = (best - second <= tol) | (np.abs(best - self.thresholds_[winner]) <= tol)
            movie, t, x, y = np.nonzero(close)
            for first in range(0, len(movie), 4096):  # chunks bound the float64 windows (N x 2 x K_T x K_X x K_Y)
                part = slice(first, first + 4096)
                evidence[movie[part], :, t[part], x[part], y[part]] = self._exact_evidence(
                    xb, movie[part], t[part], x[part], y[part])
            out.append(winner_take_all(evidence, self.thresholds_))
        return np.concatenate(out)

    @property
    def n_weights_(self):
        self._check_fitted()
        return int(np.count_nonzero(self.kernel_))

    def with_kernel(self, kernel):
        """A copy of this fitted classifier using ``kernel`` (same shape), e.g. a pruned one."""
        self._check_fitted()
        kernel = np.asarray(kernel, dtype=np.float32)
        if kernel.shape != self.kernel_.shape:
            raise InvalidInputError(f"kernel must have shape {self.kernel_.shape}; got {kernel.shape}.")
        clone = copy.copy(self)
        clone.kernel_ = kernel.copy()
        clone.thresholds_ = None  # thresholds belong to a kernel: recalibrate (calibrate_thresholds) for this one
        return clone

    # ------------------------------------------------------------------------------------------------------
    def save(self, path, *, overwrite=False):
        """Write kernel, bias, configuration and history to a torch file (atomically); an existing ``path``
        is replaced only with ``overwrite=True``."""
        self._check_fitted()
        state = {"kernel": torch.from_numpy(self.kernel_), "bias": torch.from_numpy(self.bias_),
                 "config": self.config_.to_dict(), "history": self.history_, "format": "neurosuite.motion/1"}
        if getattr(self, "thresholds_", None) is not None:
            state["thresholds"] = torch.from_numpy(np.asarray(self.thresholds_, dtype=np.float64))
            state["threshold_rate"] = self.threshold_rate_
        save_state(path, state, overwrite=overwrite)
        return path

    @classmethod
    def load(cls, path, **params):
        """A fitted classifier from ``save``; ``params`` are constructor keywords (device, n_threads, ...)."""
        state = load_state(path, what="motion-detector file")
        if state.get("format") != "neurosuite.motion/1":
            raise DataFileError(f"{path} is not a motion-detector file written by HeterogeneousDelayClassifier.save.")
        values = dict(state["config"])
        # files written before the event rule was a setting were made with the residual rule
        values.setdefault("event_rule", "residual")
        config = MotionConfig.from_dict(values)
        clf = cls(config=config, **params)
        clf.config_ = config
        clf.kernel_ = state["kernel"].numpy().astype(np.float32)
        clf.bias_ = state["bias"].numpy().astype(np.float32)
        clf.history_ = list(state["history"])
        clf.n_epochs_done_ = len(clf.history_)
        if "thresholds" in state:
            clf.thresholds_ = state["thresholds"].numpy().astype(np.float64)
            clf.threshold_rate_ = float(state["threshold_rate"])
        return clf

