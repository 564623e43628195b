"""The Neuroformer estimator: ``fit`` (pretraining on spike tokens), ``score``, ``generate``, ``attention``."""
import numbers

import numpy as np

from ..base import DEFAULT_VERBOSE, Estimator
from ..deep import TrainingLoop, import_torch, load_state, save_state, torch_runtime
from ..errors import DataFileError, InvalidInputError
from ..io import SpikeTrains
from ..utils import check_random_state, check_scalar, progress
from .tokenizer import SpikeTokenizer

torch = import_torch("neurodata.neuroformer.Neuroformer")

from .model import NeuroformerNet  # noqa: E402  (after the torch check)

__all__ = ["Neuroformer"]

#: the token losses' weights (the reference's 3/5 ID, 2/5 dt) and the contrastive share when behaviour is on
ID_WEIGHT, DT_WEIGHT, CLIP_SHARE = 0.6, 0.4, 0.25


class Neuroformer(Estimator):
    """Generative pretraining on spike tokens, optionally with a behaviour encoder (Antoniades et al. 2023).

    Each sample is a current window (``window`` s, its spikes as (ID, dt) tokens predicted autoregressively)
    conditioned on the past window (``past`` s) of the population, and, when ``behavior`` is given to
    ``fit``, on the behaviour series over the sample's span, with a CLIP loss aligning the two.

    Parameters
    ----------
    window, past, dt, max_dt : float
        Current window, past window, dt resolution and dt range (s); the paper's 0.05, 0.15, 0.01, 0.15.
    n_embd, n_head : int
        Embedding width and heads (paper 256, 8).
    n_state, n_past, n_history, n_self : int
        Blocks of the current-window encoder (causal), the past-state encoder, the current → past
        cross-attention and the final causal self-attention (reference V1AL: 6, 0, 6, 6).
    n_behavior_layers : int
        Behaviour encoder blocks (and behaviour cross-attention blocks), used when behaviour is given.
    behavior_bins : int
        Bins of the behaviour series over a sample's span ``[t0 - past, t0 + window)``.
    clip_dim, clip_temperature : contrastive projection width and temperature (reference 1024, 0.5).
    dropout : float (reference 0.2)
    lr, weight_decay : AdamW (reference 1e-4; weight decay on weights only)
    epochs, batch_size : schedule (reference 250, 32)
    patience : int, optional — early stopping on the training loss
    checkpoint : path, optional — TrainingLoop checkpoint (resumed when it exists)
    device, n_threads : torch device ("cpu", "cuda", "auto") and CPU threads
    seed : None, int or numpy Generator
    verbose : bool — progress bars

    Attributes
    ----------
    tokenizer_ : SpikeTokenizer
    net_ : NeuroformerNet
    history_ : list of dict — per-epoch training metrics (from TrainingLoop)
    block_, past_block_ : tokens a current / past window may hold (from the training data, with headroom)
    n_behavior_features_ : int (0 without behaviour)
    """

    def __init__(self, *, window=0.05, past=0.15, dt=0.01, max_dt=0.15, n_embd=256, n_head=8, n_state=6,
                 n_past=0, n_history=6, n_self=6, n_behavior_layers=6, behavior_bins=20, clip_dim=1024,
                 clip_temperature=0.5, dropout=0.2, lr=1e-4, weight_decay=0.1, epochs=10, batch_size=32,
                 patience=None, checkpoint=None, device="auto", n_threads=None, seed=0,
                 verbose=DEFAULT_VERBOSE):
        self._keep(locals())

    # ------------------------------------------------------------------ validation
    def _validate(self):
        owner = "Neuroformer"
        ints = dict(n_embd=1, n_head=1, n_state=0, n_past=0, n_history=0, n_self=0, n_behavior_layers=0,
                    behavior_bins=1, clip_dim=0, epochs=0, batch_size=1)
        for name, low in ints.items():
            check_scalar(getattr(self, name), name, owner, kind=numbers.Integral, low=low)
        if self.n_embd % self.n_head:
            raise InvalidInputError(f"The 'n_embd' parameter of Neuroformer ({self.n_embd}) must be a multiple of "
                                    f"n_head ({self.n_head}).")
        check_scalar(self.dropout, "dropout", owner, low=0.0, high=1.0, high_inclusive=False)
        for name in ("lr", "clip_temperature"):
            check_scalar(getattr(self, name), name, owner, low=0.0, low_inclusive=False)
        check_scalar(self.weight_decay, "weight_decay", owner, low=0.0)

    @staticmethod
    def _check_spikes(spikes, what="spikes"):
        if not isinstance(spikes, SpikeTrains):
            raise InvalidInputError(f"Neuroformer needs {what} as SpikeTrains (neurodata.io.read_spikes(path)); "
                                    f"got {type(spikes).__name__}.")
        return spikes

    def _behavior_windows(self, behavior, starts):
        """(n, behavior_bins, features) float32: the series at bin centres of each sample's span."""
        data = np.asarray(behavior.data, float)
        if data.ndim == 1:
            data = data[:, None]
        if not np.all(np.isfinite(data)):
            raise InvalidInputError(f"behaviour {behavior.name!r} holds NaN or infinite values; drop or impute "
                                    f"them first (the suite does not repair data silently).")
        span = self.past + self.window
        centres = (np.arange(self.behavior_bins) + 0.5) * span / self.behavior_bins - self.past
        t = starts[:, None] + centres[None, :]
        times = np.asarray(behavior.times, float)
        if t.min() < times[0] - 1.0 / max(behavior.rate or 1.0, 1.0) or t.max() > times[-1] + 1.0:
            raise InvalidInputError(f"behaviour {behavior.name!r} ({times[0]:.3f}-{times[-1]:.3f} s) does not cover "
                                    f"the samples ({t.min():.3f}-{t.max():.3f} s).")
        out = np.stack([np.interp(t, times, data[:, k]) for k in range(data.shape[1])], -1)
        return ((out - self.behavior_mean_) / self.behavior_std_).astype(np.float32)

    # ------------------------------------------------------------------ tensors
    def _tensors(self, tokens, device, behavior=None):
        self.net_.to(device)  # a loaded model sits on the CPU until it runs
        keys = ("id", "dt", "past_id", "past_dt")
        out = {k: torch.as_tensor(getattr(tokens, k), device=device) for k in keys}
        if behavior is not None:
            out["behavior"] = torch.as_tensor(behavior, device=device)
        return out

    def _batch(self, data, index):
        b = {k: v[index] for k, v in data.items()}
        # trim the padding every row of this batch shares: attention cost follows the batch's longest window
        pad = self.tokenizer_.id_pad
        cur = int((b["id"] != pad).sum(1).max()) + 1  # inputs up to EOS, targets up to the first PAD
        past = int((b["past_id"] != pad).sum(1).max())
        b["id"], b["dt"] = b["id"][:, :cur], b["dt"][:, :cur]
        b["past_id"], b["past_dt"] = b["past_id"][:, :past], b["past_dt"][:, :past]
        past_valid = b["past_id"] != self.tokenizer_.id_pad
        args = (b["id"][:, :-1], b["dt"][:, :-1], b["past_id"], b["past_dt"], past_valid, b.get("behavior"))
        return args, b["id"][:, 1:], b["dt"][:, 1:]

    def _losses(self, args, id_target, dt_target, reduction="mean"):
        id_logits, dt_logits, h, beh = self.net_(*args)
        tok = self.tokenizer_
        loss_id = torch.nn.functional.cross_entropy(id_logits.transpose(1, 2), id_target, ignore_index=tok.id_pad,
                                                    reduction=reduction)
        loss_dt = torch.nn.functional.cross_entropy(dt_logits.transpose(1, 2), dt_target, ignore_index=tok.dt_pad,
                                                    reduction=reduction)
        return loss_id, loss_dt, h, beh

    # ------------------------------------------------------------------ fit
    def fit(self, spikes, *, starts=None, behavior=None):
        """Pretrain on the token windows of ``spikes`` (SpikeTrains) at window starts ``starts`` (default all;
        pass the training indices of :func:`time_block_split`). ``behavior``: optional Traces (time ×
        features) read by the behaviour encoder, with the contrastive loss. Returns self."""
        self._validate()
        spikes = self._check_spikes(spikes)
        tok = SpikeTokenizer(spikes.n_units, window=self.window, past=self.past, dt=self.dt, max_dt=self.max_dt)
        tokens = tok.tokenize(spikes, starts=starts)
        self.tokenizer_ = tok
        # headroom for windows denser than any in training (held-out blocks, generation)
        self.block_ = int(max(4, np.ceil(1.5 * tokens.n_current.max())))
        self.past_block_ = int(max(4, np.ceil(1.5 * tokens.n_past.max())))
        tokens = tok.tokenize(spikes, starts=tokens.window_start, block=self.block_, past_block=self.past_block_)
        rng = check_random_state(self.seed)
        beh = None
        self.n_behavior_features_ = 0
        if behavior is not None:
            values = np.asarray(behavior.data, float).reshape(len(behavior.times), -1)
            self.behavior_mean_ = values.mean(0)
            self.behavior_std_ = np.where(values.std(0) > 0, values.std(0), 1.0)
            beh = self._behavior_windows(behavior, tokens.window_start)
            self.n_behavior_features_ = beh.shape[-1]
        with torch_runtime(self.device, self.n_threads) as device:
            with torch.random.fork_rng(devices=[]):  # the initial weights follow `seed`, not the global RNG
                torch.manual_seed(int(rng.integers(2 ** 31)))
                self.net_ = self._build().to(device)
            data = self._tensors(tokens, device, beh)
            decay = [p for n, p in self.net_.named_parameters() if p.ndim >= 2 and "emb" not in n]
            no_decay = [p for n, p in self.net_.named_parameters() if not (p.ndim >= 2 and "emb" not in n)]
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": self.weight_decay},
                                     {"params": no_decay, "weight_decay": 0.0}], lr=self.lr)
            n = len(tokens)

            def train_epoch(epoch):
                order = rng.permutation(n)
                totals = np.zeros(3)
                with torch.random.fork_rng(devices=[]):  # dropout draws from `rng`, so resume is exact
                    torch.manual_seed(int(rng.integers(2 ** 31)))
                    for lo in range(0, n, self.batch_size):
                        index = torch.as_tensor(order[lo:lo + self.batch_size], device=device)
                        args, id_t, dt_t = self._batch(data, index)
                        loss_id, loss_dt, h, b = self._losses(args, id_t, dt_t)
                        loss = ID_WEIGHT * loss_id + DT_WEIGHT * loss_dt
                        clip = torch.zeros(())
                        if b is not None and self.net_.clip_neural is not None and len(index) > 1:
                            clip = self.net_.contrastive(h, id_t != self.tokenizer_.id_pad, b)
                            loss = (1 - CLIP_SHARE) * loss + CLIP_SHARE * clip
                        opt.zero_grad(set_to_none=True)
                        loss.backward()
                        torch.nn.utils.clip_grad_norm_(self.net_.parameters(), 1.0)
                        opt.step()
                        totals += len(index) * np.array([loss.item(), loss_id.item(), loss_dt.item()])
                totals /= n
                return {"loss": float(totals[0]), "loss_id": float(totals[1]), "loss_dt": float(totals[2])}

            loop = TrainingLoop(self.epochs, checkpoint=self.checkpoint, patience=self.patience, monitor="loss",
                                restore_best=False, fingerprint=self._fingerprint(spikes), desc="Neuroformer",
                                verbose=self.verbose)
            loop.run(self.net_, opt, train_epoch, rng=rng, device=device)
            self.history_ = loop.history_
            self.net_.eval()
        return self

    def _build(self):
        tok = self.tokenizer_
        beh = self.n_behavior_features_
        return NeuroformerNet(id_vocab=tok.id_vocab_size, dt_vocab=tok.dt_vocab_size, block=self.block_ + 1,
                              past_block=self.past_block_ + 1, n_embd=self.n_embd, n_head=self.n_head,
                              n_state=self.n_state, n_past=self.n_past, n_history=self.n_history,
                              n_self=self.n_self, n_behavior_features=beh, behavior_block=self.behavior_bins,
                              n_behavior_layers=self.n_behavior_layers if beh else 0,
                              clip_dim=self.clip_dim if beh else 0, clip_temperature=self.clip_temperature,
                              dropout=self.dropout)

    def _fingerprint(self, spikes):
        params = {k: v for k, v in self.get_params().items() if k not in ("checkpoint", "device", "n_threads",
                                                                          "verbose", "epochs", "patience")}
        params["seed"] = params["seed"] if isinstance(params["seed"], (int, type(None))) else "generator"
        return {"params": params, "n_units": spikes.n_units, "n_spikes": spikes.n_spikes,
                "block": self.block_, "past_block": self.past_block_, "n_behavior": self.n_behavior_features_}

    # ------------------------------------------------------------------ files
    MODEL_FORMAT = "neurosuite.neuroformer.model/1"

    def save(self, path, *, overwrite=False):
        """Write the fitted model (hyper-parameters, tokenizer, sizes, weights) to a torch file atomically."""
        self._check_fitted()
        params = {k: v for k, v in self.get_params().items() if k != "seed" or isinstance(v, (int, type(None)))}
        state = {"format": self.MODEL_FORMAT, "params": params, "tokenizer": self.tokenizer_.get_params(),
                 "block": self.block_, "past_block": self.past_block_, "n_behavior": self.n_behavior_features_,
                 "history": self.history_, "weights": self.net_.state_dict()}
        if self.n_behavior_features_:
            state["behavior_mean"] = [float(v) for v in self.behavior_mean_]
            state["behavior_std"] = [float(v) for v in self.behavior_std_]
        return save_state(path, state, overwrite=overwrite)

    @classmethod
    def load(cls, path, **overrides):
        """A fitted Neuroformer from a file written by :meth:`save`; ``overrides`` (e.g. ``device=``) replace
        saved hyper-parameters that do not change the network."""
        state = load_state(path, what="Neuroformer model file")
        if not isinstance(state, dict) or state.get("format") != cls.MODEL_FORMAT:
            raise DataFileError(f"{path} is not a Neuroformer model written by Neuroformer.save.")
        model = cls(**{**state["params"], **overrides})
        tok = state["tokenizer"]
        model.tokenizer_ = SpikeTokenizer(tok["n_units"], window=tok["window"], past=tok["past"], dt=tok["dt"],
                                          max_dt=tok["max_dt"], stride=tok["stride"])
        model.block_, model.past_block_ = state["block"], state["past_block"]
        model.n_behavior_features_, model.history_ = state["n_behavior"], state["history"]
        if model.n_behavior_features_:
            model.behavior_mean_ = np.asarray(state["behavior_mean"])
            model.behavior_std_ = np.asarray(state["behavior_std"])
        model.net_ = model._build()
        model.net_.load_state_dict(state["weights"])
        model.net_.eval()
        return model

    # ------------------------------------------------------------------ inference
    def _check_fitted(self):
        if not hasattr(self, "net_"):
            raise InvalidInputError("This Neuroformer is not fitted yet; call fit(spikes) first.")

    def _prepare(self, spikes, starts, behavior):
        self._check_fitted()
        spikes = self._check_spikes(spikes)
        tokens = self.tokenizer_.tokenize(spikes, starts=starts, block=self.block_, past_block=self.past_block_)
        beh = None
        if self.n_behavior_features_:
            if behavior is None:
                raise InvalidInputError("This Neuroformer was fitted with behaviour; pass behavior= here too.")
            beh = self._behavior_windows(behavior, tokens.window_start)
        return tokens, beh

    def score(self, spikes, *, starts=None, behavior=None, batch_size=256):
        """Held-out log-likelihood of the token windows: a dict with ``log_likelihood_per_spike`` (nats, the
        ID and dt tokens of each spike, EOS tokens excluded), ``id_log_likelihood_per_spike`` and
        ``log_likelihood_per_window`` (all tokens, EOS included), and ``n_spikes``."""
        tokens, beh = self._prepare(spikes, starts, behavior)
        sums = np.zeros(4)
        with torch_runtime(self.device, self.n_threads) as device, torch.no_grad():
            data = self._tensors(tokens, device, beh)
            for lo in range(0, len(tokens), batch_size):
                index = torch.arange(lo, min(lo + batch_size, len(tokens)), device=device)
                args, id_t, dt_t = self._batch(data, index)
                loss_id, loss_dt, _, _ = self._losses(args, id_t, dt_t, reduction="none")
                spike = id_t < self.tokenizer_.n_units
                sums += [-(loss_id + loss_dt)[spike].sum().item(), -loss_id[spike].sum().item(),
                         -(loss_id + loss_dt).sum().item(), spike.sum().item()]
        return {"log_likelihood_per_spike": sums[0] / max(sums[3], 1),
                "id_log_likelihood_per_spike": sums[1] / max(sums[3], 1),
                "log_likelihood_per_window": sums[2] / len(tokens), "n_spikes": int(sums[3])}

    def generate(self, spikes, *, starts=None, behavior=None, temperature=1.0, top_k=None, top_p=None, seed=0,
                 batch_size=512):
        """Sample the current window of every sample autoregressively, conditioned on the real past window.

        ``temperature`` divides the logits; ``top_k`` keeps the k likeliest tokens, ``top_p`` the smallest set
        whose probability reaches p (nucleus). Only unit IDs or EOS are drawn for the ID, and offsets inside
        the current window or EOS for the dt. Returns SpikeTrains over the sampled windows'
        ``[first start, last start + window)``.
        """
        check_scalar(temperature, "temperature", "Neuroformer.generate", low=0.0, low_inclusive=False)
        if top_k is not None:
            check_scalar(top_k, "top_k", "Neuroformer.generate", kind=numbers.Integral, low=1)
        if top_p is not None:
            check_scalar(top_p, "top_p", "Neuroformer.generate", low=0.0, high=1.0, low_inclusive=False)
        tokens, beh = self._prepare(spikes, starts, behavior)
        tok = self.tokenizer_
        cur_steps = int(np.floor(tok.window / tok.dt * (1 + 1e-9) + 0.5))
        rng = check_random_state(seed)
        n, length = len(tokens), self.block_ + 1
        ids_out = np.full((n, length), tok.id_pad, np.int64)
        dts_out = np.full((n, length), tok.dt_pad, np.int64)
        with torch_runtime(self.device, self.n_threads) as device, torch.no_grad():
            gen = torch.Generator(device=device).manual_seed(int(rng.integers(2 ** 31)))
            data = self._tensors(tokens, device, beh)
            id_allowed = torch.zeros(tok.id_vocab_size, dtype=torch.bool, device=device)
            id_allowed[:tok.n_units] = True
            id_allowed[tok.id_eos] = True
            dt_allowed = torch.zeros(tok.dt_vocab_size, dtype=torch.bool, device=device)
            dt_allowed[:cur_steps + 1] = True
            dt_allowed[tok.dt_eos] = True
            for lo in progress(range(0, n, batch_size), desc="generate", verbose=self.verbose):
                index = torch.arange(lo, min(lo + batch_size, n), device=device)
                b = len(index)
                ids = torch.full((b, 1), tok.id_sos, dtype=torch.long, device=device)
                dts = torch.full((b, 1), tok.dt_sos, dtype=torch.long, device=device)
                past_id, past_dt = data["past_id"][index], data["past_dt"][index]
                past_valid = past_id != tok.id_pad
                beh_b = data["behavior"][index] if "behavior" in data else None
                done = torch.zeros(b, dtype=torch.bool, device=device)
                for step in range(length - 1):
                    id_logits, dt_logits, _, _ = self.net_(ids, dts, past_id, past_dt, past_valid, beh_b)
                    new_id = _sample(id_logits[:, -1], id_allowed, temperature, top_k, top_p, gen)
                    new_dt = _sample(dt_logits[:, -1], dt_allowed, temperature, top_k, top_p, gen)
                    new_dt = torch.where(new_id == tok.id_eos, torch.full_like(new_dt, tok.dt_eos), new_dt)
                    new_id = torch.where(new_dt == tok.dt_eos, torch.full_like(new_id, tok.id_eos), new_id)
                    new_id = torch.where(done, torch.full_like(new_id, tok.id_pad), new_id)
                    new_dt = torch.where(done, torch.full_like(new_dt, tok.dt_pad), new_dt)
                    done = done | (new_id == tok.id_eos)
                    ids, dts = torch.cat([ids, new_id[:, None]], 1), torch.cat([dts, new_dt[:, None]], 1)
                    if bool(done.all()):
                        break
                ids_out[lo:lo + b, :ids.shape[1]] = ids.cpu().numpy()
                dts_out[lo:lo + b, :dts.shape[1]] = dts.cpu().numpy()
        times = tok.decode(ids_out, dts_out, tokens.window_start)
        start, end = float(tokens.window_start[0]), float(tokens.window_start[-1] + tok.window)
        # a dt rounded up to the window's end lands on the next window's start: keep it inside the support
        times = [t[t < end] for t in times]
        return SpikeTrains(times, start=start, end=end, name="generated")

    def attention(self, spikes, *, starts=None, behavior=None, batch_size=256):
        """Connectivity read out of the current → past attention: an (n_units, n_units) array ``A[i, j]``.

        For every current-window position, the attention it pays (mean over heads and history blocks) to the
        past tokens of neuron i is credited to the neuron j of the token it predicts (the next one). ``A[i,
        j]`` is the mean attention on i when predicting a spike of j, minus the mean attention on i over all
        predicted spikes, so that neurons the model watches for everything (busy ones) are not edges.
        """
        tokens, beh = self._prepare(spikes, starts, behavior)
        tok = self.tokenizer_
        m = tok.n_units
        total = np.zeros((m, m))
        count = np.zeros(m)
        with torch_runtime(self.device, self.n_threads) as device:
            data = self._tensors(tokens, device, beh)
            for lo in range(0, len(tokens), batch_size):
                index = torch.arange(lo, min(lo + batch_size, len(tokens)), device=device)
                args, id_t, _ = self._batch(data, index)
                maps = self.net_.history_attention(*args).mean(1)  # (B, L, P)
                past_onehot = torch.nn.functional.one_hot(args[2], tok.id_vocab_size)[..., :m].to(maps.dtype)
                per_unit = maps @ past_onehot  # (B, L, m): attention on each past neuron
                target = torch.nn.functional.one_hot(id_t, tok.id_vocab_size)[..., :m].to(maps.dtype)
                total += torch.einsum("bli,blj->ij", per_unit, target).cpu().numpy()
                count += target.sum((0, 1)).cpu().numpy()
        mean_given_j = total / np.maximum(count, 1)[None, :]
        overall = total.sum(1) / max(count.sum(), 1)
        return mean_given_j - overall[:, None]


def _sample(logits, allowed, temperature, top_k, top_p, generator):
    """One draw per row from softmax(logits / temperature) restricted to ``allowed``, top-k and top-p."""
    logits = (logits / temperature).masked_fill(~allowed, float("-inf"))
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        cum = sorted_logits.softmax(-1).cumsum(-1)
        drop = cum - sorted_logits.softmax(-1) >= top_p  # keep up to and including the token that reaches p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return torch.multinomial(logits.softmax(-1), 1, generator=generator)[:, 0]
