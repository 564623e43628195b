"""Fitting the neuron's input-output map: ELM, and the linear (LIF-like) and LSTM baselines, one estimator.

The paper's recipe (Spieler et al. 2023, App. on NeuronIO; reference ``neuronio_train_script.py``): Adam 5e-4
with one cosine decay over all steps, batches of 8 windows of 500 ms drawn at random from the training block,
loss after a 150 ms burn-in, ``½ BCE(spike logit) + ½ MSE(soma)`` where the soma target is the voltage clipped
at -55 mV, minus -67.7 mV, times 0.1 (in mV). Evaluation: the held-out block in windows of 500 ms overlapping
by the burn-in (the first window kept whole), first 500 ms ignored, ROC AUC of the spike probability per 1 ms
bin and soma RMSE (mV). The reference rescales soma predictions to the target's mean and SD before its RMSE;
we report the raw RMSE.
"""
import math
import numbers

import numpy as np

from neurodata.base import DEFAULT_VERBOSE, Estimator
from neurodata.deep import TrainingLoop, import_torch, load_state, save_state, torch_generator, torch_runtime
from neurodata.errors import DataFileError, InvalidInputError
from neurodata.utils import check_option, check_random_state, check_scalar

from .model import ELMNet, count_parameters

torch = import_torch("neurosim.elm.training")
nn = torch.nn
F = nn.functional

__all__ = ["ARCHITECTURES", "NeuronIOModel", "LinearFilterNet", "LSTMNet", "soma_target", "signed_inputs",
           "roc_auc"]

ARCHITECTURES = ("elm", "linear", "lstm")
SOMA_CLIP, SOMA_BIAS, SOMA_SCALE = -55.0, -67.7, 0.1  # mV, mV, 1/mV (NeuronIO's constants)
FORMAT = "neurosuite.elm.neuronio/1"


def soma_target(soma_v):
    """Training target from soma voltage (V): clipped at -55 mV, minus -67.7 mV, times 0.1 (mV units)."""
    mv = np.minimum(np.asarray(soma_v, dtype=np.float64) * 1e3, SOMA_CLIP)
    return ((mv - SOMA_BIAS) * SOMA_SCALE).astype(np.float32)


def signed_inputs(inputs, n_excitatory=None, *, compact=False):
    """Input counts (time, n) as float32 with the inhibitory half negated (NeuronIO's synapse types).

    With ``compact``, integer counts within +-127 stay int8 (a quarter of float32's memory: an hour of
    1278-channel 1 ms data is 4.6 GB, not 18 GB); windows are made float32 as they are drawn.
    """
    x = np.asarray(inputs)
    half = x.shape[1] // 2 if n_excitatory is None else n_excitatory
    small_counts = x.dtype.kind in "biu" and (x.size == 0 or -127 <= int(x.min()) and int(x.max()) <= 127)
    out = x.astype(np.int8 if compact and small_counts else np.float32)  # a copy
    out[:, half:] *= -1
    return out


def roc_auc(labels, scores):
    """ROC AUC (ties counted half) of binary ``labels`` against ``scores``."""
    from sklearn.metrics import roc_auc_score

    labels = np.asarray(labels).ravel() > 0
    if labels.all() or not labels.any():
        raise InvalidInputError("ROC AUC needs both spike and non-spike bins in the evaluated data; got only "
                                f"{'spikes' if labels.all() else 'silence'} ({labels.size} bins).")
    return float(roc_auc_score(labels, np.asarray(scores).ravel()))


def _init_output_bias(net, spikes, soma):
    """Start the read-out at the data's base rates: spike bias logit(training spike rate), soma bias the mean
    soma target. From PyTorch's zero-mean bias, the first BCE steps push the spike logit down hardest where the
    drive (and so the spike probability) is largest, which left under-trained models anti-correlated with the
    spikes (AUC 0.11-0.22 for the linear baseline after 200 batches, on training data too)."""
    rate = float(spikes.mean().clamp(1e-6, 1 - 1e-6))
    with torch.no_grad():
        net.readout.bias[0] = math.log(rate / (1 - rate))
        net.readout.bias[1] = float(soma.mean())


def _exp_filter(u, kappa):
    """y_t = κ ⊙ y_{t-1} + u_t along dim 1 of (batch, time, n)."""
    y, out = torch.zeros_like(u[:, 0]), []
    for u_t in u.unbind(1):
        y = kappa * y + u_t
        out.append(y)
    return torch.stack(out, 1)


class LinearFilterNet(nn.Module):
    """LIF-like linear baseline: ``n_filters`` leaky membranes, each a learned weighting of all inputs through
    a 5 ms synapse and a membrane of its own time constant (log-spaced over [2 ms, 200 ms]), read out
    linearly (spike logit and soma). Linear in the input up to the output sigmoid."""

    def __init__(self, n_inputs, n_outputs=2, *, n_filters=8, tau_s=5e-3, tau_range=(2e-3, 0.2), dt=1e-3,
                 generator=None):
        super().__init__()
        bound = 1.0 / math.sqrt(n_inputs)
        self.weight = nn.Parameter(torch.empty(n_inputs, n_filters).uniform_(-bound, bound, generator=generator))
        taus = np.logspace(math.log10(tau_range[0]), math.log10(tau_range[1]), n_filters)
        self.register_buffer("kappa_m", torch.tensor(np.exp(-dt / taus), dtype=torch.float32))
        self.register_buffer("kappa_s", torch.tensor(math.exp(-dt / tau_s)))
        self.readout = nn.Linear(n_filters, n_outputs)
        self.n_inputs = n_inputs

    def forward(self, x):
        batch, steps, width = x.shape
        u = (x.reshape(batch * steps, width) @ self.weight).view(batch, steps, -1)
        return self.readout(_exp_filter(_exp_filter(u, self.kappa_s), self.kappa_m))


class LSTMNet(nn.Module):
    """LSTM baseline: one LSTM layer of ``hidden`` units on all inputs, linear readout."""

    def __init__(self, n_inputs, n_outputs=2, *, hidden=16, generator=None):
        super().__init__()
        self.lstm = nn.LSTM(n_inputs, hidden, batch_first=True)
        self.readout = nn.Linear(hidden, n_outputs)
        with torch.no_grad():
            for p in self.parameters():
                bound = 1.0 / math.sqrt(hidden if p.ndim == 1 or p.shape[-1] == hidden else p.shape[-1])
                p.uniform_(-bound, bound, generator=generator)
        self.n_inputs = n_inputs

    def forward(self, x):
        return self.readout(self.lstm(x)[0])


class NeuronIOModel(Estimator):
    """Fit a neuron's input-output map (spike probability and soma voltage per 1 ms bin).

    Parameters
    ----------
    architecture : {"elm", "linear", "lstm"}
        The ELM (Branch-ELM with ``routing="neuronio"``), the LIF-like linear baseline, or an LSTM.
    memory, lambda_value, mlp_layers, version, routing, n_branches, synapses_per_branch, tau_m_min,
    tau_m_max, learn_tau_m : ELM hyper-parameters (``ELMNet``); defaults are the paper's NeuronIO
        configuration (d_m = 20, 45 x 100 neuronio routing, τ_m in [1 ms, 150 ms]).
    lstm_hidden, n_filters : sizes of the baselines.
    lr, batch_size, window, burn_in : the paper's recipe (5e-4, 8, 0.5 s, 0.15 s).
    n_epochs, batches_per_epoch : the training budget (paper 35 x 10000).
    validation_fraction : the last part of the training block used to pick the best epoch (valid loss).
    dt : bin, s (1 ms).
    device, n_threads : torch device ("cpu", "cuda", "auto") and CPU threads.
    checkpoint : path for checkpoint/resume (``neurodata.deep.TrainingLoop``).
    seed : None, int or numpy Generator.
    verbose : progress bar.

    Attributes
    ----------
    net_ : torch.nn.Module
        The trained model (on CPU, eval mode) at its best validation epoch.
    history_ : list of dict
        One row per epoch (training and validation loss, time).
    best_epoch_ : int
        The epoch whose parameters ``net_`` holds.
    n_inputs_ : int
        Input channels (synapses) of the training data; predictions need the same.
    n_parameters_ : int
        Trainable parameters of ``net_`` (the paper's model-size axis).
    """

    def __init__(self, *, architecture="elm", memory=20, lambda_value=5.0, mlp_layers=1, version="v1",
                 routing="neuronio", n_branches=45, synapses_per_branch=100, tau_m_min=1e-3, tau_m_max=0.15,
                 learn_tau_m=False, lstm_hidden=16, n_filters=8, lr=5e-4, batch_size=8, window=0.5, burn_in=0.15,
                 n_epochs=10, batches_per_epoch=100, validation_fraction=0.1, dt=1e-3, device="auto",
                 n_threads=None, checkpoint=None, seed=None, verbose=DEFAULT_VERBOSE):
        self._keep(locals())

    # ------------------------------------------------------------------------------------------------------
    def _steps(self):
        window = int(round(self.window / self.dt))
        burn = int(round(self.burn_in / self.dt))
        if not 0 <= burn < window:
            raise InvalidInputError(f"The 'burn_in' parameter of NeuronIOModel must be shorter than 'window' "
                                    f"({self.window} s). Got {self.burn_in} instead.")
        return window, burn

    def _validate(self):
        check_option(self.architecture, "architecture", ARCHITECTURES)
        for name, low in (("memory", 1), ("batch_size", 1), ("n_epochs", 0), ("batches_per_epoch", 1),
                          ("lstm_hidden", 1), ("n_filters", 1), ("mlp_layers", 0)):
            check_scalar(getattr(self, name), name, "NeuronIOModel", kind=numbers.Integral, low=low)
        check_scalar(self.lr, "lr", "NeuronIOModel", low=0.0, low_inclusive=False)
        check_scalar(self.validation_fraction, "validation_fraction", "NeuronIOModel", low=0.0, high=0.5)
        check_scalar(self.dt, "dt", "NeuronIOModel", low=0.0, low_inclusive=False)
        return self._steps()

    def _build(self, n_inputs, generator):
        if self.architecture == "elm":
            return ELMNet(n_inputs, 2, memory=self.memory, lambda_value=self.lambda_value,
                          mlp_layers=self.mlp_layers, version=self.version, routing=self.routing,
                          n_branches=self.n_branches if self.routing else None,
                          synapses_per_branch=self.synapses_per_branch if self.routing else 1,
                          tau_m_min=self.tau_m_min, tau_m_max=self.tau_m_max, learn_tau_m=self.learn_tau_m,
                          dt=self.dt, generator=generator)
        if self.architecture == "linear":
            return LinearFilterNet(n_inputs, 2, n_filters=self.n_filters, dt=self.dt, generator=generator)
        return LSTMNet(n_inputs, 2, hidden=self.lstm_hidden, generator=generator)

    @staticmethod
    def _check_data(inputs, spikes, soma_v):
        x = np.asarray(inputs)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise InvalidInputError(f"inputs must be (time bins, input channels) with at least one bin; got shape "
                                    f"{x.shape}.")
        if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
            raise InvalidInputError(f"inputs contain {int(np.sum(~np.isfinite(x)))} NaN or infinite value(s).")
        out = [x]
        for name, arr in (("spikes", spikes), ("soma_v", soma_v)):
            if arr is None:
                out.append(None)
                continue
            a = np.asarray(arr, dtype=np.float64).ravel()
            if a.size != x.shape[0]:
                raise InvalidInputError(f"{name} must have one value per time bin ({x.shape[0]}); got {a.size}.")
            if not np.all(np.isfinite(a)):
                raise InvalidInputError(f"{name} contains {int(np.sum(~np.isfinite(a)))} NaN or infinite value(s).")
            out.append(a)
        return out

    def _loss(self, out, spikes, soma, burn):
        return (0.5 * F.binary_cross_entropy_with_logits(out[:, burn:, 0], spikes[:, burn:])
                + 0.5 * F.mse_loss(out[:, burn:, 1], soma[:, burn:]))

    def _window_loss(self, net, batch, starts, burn):
        """Mean loss over the windows starting at ``starts`` (no gradient), 16 windows at a time."""
        net.eval()
        total = 0.0
        with torch.no_grad():
            for chunk in np.array_split(starts, -(-len(starts) // 16)):
                xb, sb, mb = batch(chunk)
                total += self._loss(net(xb), sb, mb, burn).item() * len(chunk)
        return float(total / len(starts))

    def validation_loss(self, inputs, spikes, soma_v):
        """The loss that picked the best epoch, on the validation windows of this training data."""
        self._check_fitted()
        window, burn = self._steps()
        x, spikes, soma_v = self._check_data(inputs, spikes, soma_v)
        n_train = x.shape[0] - int(round(self.validation_fraction * x.shape[0]))
        xs, ys = torch.from_numpy(signed_inputs(x, compact=True)), torch.from_numpy((spikes > 0).astype(np.float32))
        ym = torch.from_numpy(soma_target(soma_v))

        def batch(starts):
            idx = torch.as_tensor(starts)[:, None] + torch.arange(window)[None, :]
            return xs[idx].float(), ys[idx], ym[idx]

        return self._window_loss(self.net_, batch, np.arange(n_train, x.shape[0] - window + 1, window - burn), burn)

    def fit(self, inputs, spikes, soma_v):
        """Train on binned ``inputs`` (time, channels; excitatory first, inhibitory second half), soma
        ``spikes`` per bin and soma voltage ``soma_v`` (V) per bin; returns self."""
        window, burn = self._validate()
        x, spikes, soma_v = self._check_data(inputs, spikes, soma_v)
        n_bins = x.shape[0]
        n_valid = int(round(self.validation_fraction * n_bins))
        n_train = n_bins - n_valid
        if n_train < window or (n_valid and n_valid < window):
            raise InvalidInputError(f"Need at least one {window}-bin window for training and one for validation; "
                                    f"got {n_bins} bins ({n_train} train, {n_valid} validation).")
        rng = check_random_state(self.seed)
        xs = torch.from_numpy(signed_inputs(x, compact=True))
        ys = torch.from_numpy((spikes > 0).astype(np.float32))
        ym = torch.from_numpy(soma_target(soma_v))
        valid_starts = np.arange(n_train, n_bins - window + 1, window - burn) if n_valid else np.array([], int)
        with torch_runtime(self.device, self.n_threads) as device:
            generator = torch_generator(rng)
            net = self._build(x.shape[1], generator)
            _init_output_bias(net, ys[:n_train], ym[:n_train])
            net = net.to(device)
            optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=self.lr)
            total = max(1, self.n_epochs * self.batches_per_epoch)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)

            def batch(starts):
                idx = torch.as_tensor(starts)[:, None] + torch.arange(window)[None, :]
                return xs[idx].to(device).float(), ys[idx].to(device), ym[idx].to(device)

            def train_epoch(epoch):
                losses = []
                for _ in range(self.batches_per_epoch):
                    xb, sb, mb = batch(rng.integers(0, n_train - window + 1, size=self.batch_size))
                    optimizer.zero_grad()
                    loss = self._loss(net(xb), sb, mb, burn)
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    losses.append(loss.item())
                metrics = {"loss": float(np.mean(losses))}
                if len(valid_starts):
                    metrics["valid_loss"] = self._window_loss(net, batch, valid_starts, burn)
                return metrics

            monitor = "valid_loss" if len(valid_starts) else "loss"
            loop = TrainingLoop(self.n_epochs, checkpoint=self.checkpoint, monitor=monitor, restore_best=True,
                                fingerprint={k: v for k, v in self.get_params().items()
                                             if k not in ("verbose", "device", "n_threads", "checkpoint", "seed")},
                                desc=f"{self.architecture} training", verbose=self.verbose)
            loop.run(net, optimizer, train_epoch, scheduler=scheduler, rng=rng, generators=[generator],
                     device=device)
        self.net_ = net.cpu().eval()
        self.history_ = list(loop.history_)
        self.best_epoch_ = loop.best_epoch_
        self.n_inputs_ = x.shape[1]
        self.n_parameters_ = count_parameters(net)
        return self

    def _check_fitted(self):
        if not hasattr(self, "net_"):
            raise InvalidInputError("This NeuronIOModel is not fitted yet; call fit() or load().")

    def predict(self, inputs, *, batch_windows=16, return_memory=False):
        """Spike probability and soma voltage (V) per bin for ``inputs`` (time, channels), shape (time,) each.

        Windows of ``window`` overlapping by ``burn_in``; the first keeps all its bins, the others drop their
        burn-in (the reference's test protocol). With ``return_memory`` (ELM only) the memory (time, d_m) of
        the same windows comes third.
        """
        self._check_fitted()
        x = self._check_data(inputs, None, None)[0]
        if x.shape[1] != self.n_inputs_:
            raise InvalidInputError(f"inputs have {x.shape[1]} channels; this model was fitted on {self.n_inputs_}.")
        window, burn = self._steps()
        n = x.shape[0]
        xs = signed_inputs(x, compact=True)
        pad = max(0, window - n)
        starts = list(range(0, max(n - window, 0) + 1, window - burn))
        if starts[-1] + window < n:
            starts.append(n - window)
        xs = np.concatenate([xs, np.zeros((pad, xs.shape[1]), xs.dtype)])
        prob, soma = np.zeros(n), np.zeros(n)
        memory = np.zeros((n, self.memory)) if return_memory else None
        with torch_runtime(self.device, self.n_threads) as device, torch.no_grad():
            net = self.net_.to(device)
            for first in range(0, len(starts), batch_windows):
                chunk = starts[first:first + batch_windows]
                idx = np.asarray(chunk)[:, None] + np.arange(window)[None, :]
                xb = torch.from_numpy(xs[idx].astype(np.float32)).to(device)
                if return_memory:
                    out, mem = net(xb, return_memory=True)
                    mem = mem.cpu().numpy()
                else:
                    out = net(xb)
                out = out.cpu().numpy()
                for k, s in enumerate(chunk):
                    keep = 0 if s == 0 else burn
                    stop = min(s + window, n)
                    prob[s + keep:stop] = 1 / (1 + np.exp(-out[k, keep:stop - s, 0]))
                    soma[s + keep:stop] = (out[k, keep:stop - s, 1] / SOMA_SCALE + SOMA_BIAS) * 1e-3
                    if return_memory:
                        memory[s + keep:stop] = mem[k, keep:stop - s]
            self.net_ = net.cpu()
        return (prob, soma, memory) if return_memory else (prob, soma)

    def score(self, inputs, spikes, soma_v, *, ignore=0.5):
        """``{"auc", "soma_rmse_mv", "n_spikes"}`` on held-out data, the first ``ignore`` seconds left out."""
        x, spikes, soma_v = self._check_data(inputs, spikes, soma_v)
        prob, soma = self.predict(x)
        skip = int(round(ignore / self.dt))
        target_mv = np.minimum(soma_v[skip:] * 1e3, SOMA_CLIP)
        return {"auc": roc_auc(spikes[skip:] > 0, prob[skip:]),
                "soma_rmse_mv": float(np.sqrt(np.mean((soma[skip:] * 1e3 - target_mv) ** 2))),
                "n_spikes": int(np.sum(spikes[skip:] > 0))}

    # ------------------------------------------------------------------------------------------------------
    def save(self, path, *, overwrite=False):
        """Weights, hyper-parameters and history to a torch file (atomically)."""
        self._check_fitted()
        params = {k: v for k, v in self.get_params().items() if k != "seed" or isinstance(v, (int, type(None)))}
        save_state(path, {"format": FORMAT, "params": params, "n_inputs": self.n_inputs_,
                          "state": self.net_.state_dict(), "history": self.history_,
                          "best_epoch": self.best_epoch_}, overwrite=overwrite)
        return path

    @classmethod
    def load(cls, path, **overrides):
        """A fitted model from :meth:`save`; ``overrides`` replace saved keywords (device, n_threads, ...)."""
        state = load_state(path, what="ELM model file")
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise DataFileError(f"{path} is not a model file written by NeuronIOModel.save.")
        model = cls(**{**state["params"], **overrides})
        model._validate()
        net = model._build(state["n_inputs"], torch_generator(0))
        net.load_state_dict(state["state"])
        model.net_ = net.eval()
        model.n_inputs_ = state["n_inputs"]
        model.history_ = list(state["history"])
        model.best_epoch_ = state["best_epoch"]
        model.n_parameters_ = count_parameters(net)
        return model
