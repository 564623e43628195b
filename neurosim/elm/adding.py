"""A long-horizon task for the ELM neuron, in the spirit of SHD-Adding (Spieler et al. 2023), built offline.

Ten fixed random spatio-temporal spike patterns (700 channels x 100 ms) are drawn once from ``pattern_seed``.
A trial is 1 s of Poisson background noise in 10 ms bins with two of the patterns pasted in (their counts
added to the noise); the label is the sum of the two pattern indices (0..18, 19 classes), read from the
model's output at the last bin (cross-entropy on the last step). The two indices are drawn independently and
uniformly, so the most frequent class (9) has probability 10 %.

Placement rule (what makes it long-horizon): the first pattern starts uniformly in [0, 300] ms, so it ends
by 400 ms, at least 600 ms before the read-out; the second starts uniformly in [500, 900] ms, so the two
never overlap (at least 100 ms apart) and the second ends by the read-out. A memory whose longest time
constant is 20 ms keeps exp(-600/20) ~ 1e-13 of the first pattern at the read-out: it can at best know the
second index, which leaves 10 % (one in ten first indices) for the sum, where a 500 ms memory keeps
exp(-600/500) ~ 0.3 of it.

Rates (defaults): background 5 Hz per channel, pattern 20 Hz per channel (a frozen Poisson draw per
pattern, the same counts on every trial), i.e. ~0.05 and ~0.2 spikes per channel and bin. (With a 10 Hz
background, 4000 trials x 10 epochs gave 41 % test accuracy at τ_max = 500 ms, the model fitting the noise of
its training trials; with 5 Hz, 87 %.) Every pattern has the same expected spike count, so only its
spatio-temporal layout says which one it is. The short-memory control still fits its own training trials
(~100 %, through their noise) but stays at chance on new ones (7.6-9.4 % over 3 seeds).

:class:`ELMAddingClassifier` fits a plain ELM (no branches, no routing; Δt = 10 ms, so κ = exp(-10 ms / τ))
with :class:`neurodata.deep.TrainingLoop`; :func:`run_adding_task` generates train and test sets, fits and
scores (the function form of the CLI, example and slow test).
"""
import dataclasses
import math
import numbers

import numpy as np

from neurodata.base import DEFAULT_VERBOSE, Estimator
from neurodata.deep import TrainingLoop, import_torch, torch_generator, torch_runtime
from neurodata.errors import InvalidInputError
from neurodata.utils import check_option, check_random_state, check_scalar

from .model import VERSIONS, ELMNet, count_parameters

torch = import_torch("neurosim.elm.adding")
F = torch.nn.functional

__all__ = ["AddingTask", "make_adding_task", "ELMAddingClassifier", "run_adding_task", "write_adding_results",
           "TASK_DEFAULTS", "FULL_CONFIGURATION", "SMALL_CONFIGURATION"]

#: the task as the issue states it (700 channels, 10 patterns of 100 ms, 1 s trials, 10 ms bins) and our rates
TASK_DEFAULTS = dict(n_channels=700, n_patterns=10, duration=1.0, pattern_duration=0.1, dt=0.01,
                     noise_rate=5.0, pattern_rate=20.0, first_onsets=(0.0, 0.3), second_onsets=(0.5, 0.9))

#: the issue's configuration (d_m = 100, τ_max = 500 ms; 20 ms as the short-memory control) and its budget
FULL_CONFIGURATION = dict(n_train=8000, n_test=2000, n_epochs=15)
#: the faithful smaller configuration the default test run trains (same task and model, less data/epochs)
SMALL_CONFIGURATION = dict(n_train=4000, n_test=500, n_epochs=10)


@dataclasses.dataclass(frozen=True)
class AddingTask:
    """Trials of the adding task.

    Attributes
    ----------
    spikes : (n_trials, n_bins, n_channels) uint8 — spike counts per bin, time first within a trial
    labels : (n_trials,) int64 — first + second
    first, second : (n_trials,) int64 — the pattern indices
    onsets : (n_trials, 2) float — onset times (s) of the first and second pattern
    patterns : (n_patterns, pattern_bins, n_channels) uint8 — the fixed patterns
    dt : float — bin (s)
    """
    spikes: np.ndarray
    labels: np.ndarray
    first: np.ndarray
    second: np.ndarray
    onsets: np.ndarray
    patterns: np.ndarray
    dt: float

    @property
    def n_classes(self):
        return 2 * len(self.patterns) - 1


def _bins(seconds, dt, name):
    n = seconds / dt
    if abs(n - round(n)) > 1e-6:
        raise InvalidInputError(f"{name} ({seconds} s) must be a whole number of bins of dt = {dt} s.")
    return int(round(n))


def make_adding_task(n_trials, *, n_channels=700, n_patterns=10, duration=1.0, pattern_duration=0.1, dt=0.01,
                     noise_rate=5.0, pattern_rate=20.0, first_onsets=(0.0, 0.3), second_onsets=(0.5, 0.9),
                     pattern_seed=0, seed=None):
    """Draw ``n_trials`` trials of the adding task (see the module docstring for the rule and rates).

    The patterns come from ``pattern_seed`` alone, so a training and a test set drawn with different ``seed``
    share them. Onsets are whole bins drawn uniformly from the closed ranges ``first_onsets`` and
    ``second_onsets`` (seconds); the second range must start after the first pattern can have ended.
    Rates in Hz; background counts are Poisson(noise_rate·dt) per channel and bin.
    """
    owner = "make_adding_task"
    check_scalar(n_trials, "n_trials", owner, kind=numbers.Integral, low=1)
    check_scalar(n_channels, "n_channels", owner, kind=numbers.Integral, low=1)
    check_scalar(n_patterns, "n_patterns", owner, kind=numbers.Integral, low=2)
    for name, value in (("duration", duration), ("pattern_duration", pattern_duration), ("dt", dt)):
        check_scalar(value, name, owner, low=0.0, low_inclusive=False)
    for name, value in (("noise_rate", noise_rate), ("pattern_rate", pattern_rate)):
        check_scalar(value, name, owner, low=0.0)
    n_bins, width = _bins(duration, dt, "duration"), _bins(pattern_duration, dt, "pattern_duration")
    (a_lo, a_hi), (b_lo, b_hi) = ([_bins(t, dt, name) for t in window]
                                  for name, window in (("first_onsets", first_onsets), ("second_onsets", second_onsets)))
    if not (0 <= a_lo <= a_hi and a_hi + width <= b_lo <= b_hi and b_hi + width <= n_bins):
        raise InvalidInputError(f"Onset ranges must satisfy 0 <= first_onsets[0] <= first_onsets[1], "
                                f"first_onsets[1] + pattern_duration <= second_onsets[0] <= second_onsets[1] and "
                                f"second_onsets[1] + pattern_duration <= duration; got {first_onsets}, "
                                f"{second_onsets}, pattern_duration {pattern_duration}, duration {duration}.")
    patterns = np.random.default_rng(pattern_seed).poisson(pattern_rate * dt, (n_patterns, width, n_channels))
    patterns = patterns.astype(np.uint8)
    rng = check_random_state(seed)
    first, second = rng.integers(0, n_patterns, n_trials), rng.integers(0, n_patterns, n_trials)
    onset_bins = np.stack([rng.integers(a_lo, a_hi + 1, n_trials), rng.integers(b_lo, b_hi + 1, n_trials)], 1)
    spikes = rng.poisson(noise_rate * dt, (n_trials, n_bins, n_channels)).astype(np.uint8)
    rows = np.arange(n_trials)[:, None]
    for k, index in enumerate((first, second)):
        steps = onset_bins[:, k, None] + np.arange(width)[None, :]
        spikes[rows, steps] += patterns[index]
    return AddingTask(spikes=spikes, labels=(first + second).astype(np.int64), first=first.astype(np.int64),
                      second=second.astype(np.int64), onsets=onset_bins * dt, patterns=patterns, dt=float(dt))


def _check_trials(X, what="X"):
    """(n_trials, n_bins, n_channels) array of finite counts, not modified."""
    x = np.asarray(X)
    if x.ndim != 3 or 0 in x.shape:
        raise InvalidInputError(f"{what} must be (trials, time bins, channels) with at least one of each; got "
                                f"shape {x.shape}.")
    if x.dtype.kind not in "biuf":
        raise InvalidInputError(f"{what} must hold spike counts (numbers); got dtype {x.dtype}.")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise InvalidInputError(f"{what} contains {int(np.sum(~np.isfinite(x)))} NaN or infinite value(s).")
    return x


class ELMAddingClassifier(Estimator):
    """Classify spike-count trials by the output of a plain ELM neuron at their last bin.

    Parameters
    ----------
    memory : int
        Memory units d_m (100).
    tau_m_min, tau_m_max : float
        Memory time-constant range, s (1 ms, 500 ms; 20 ms is the short-memory control).
    tau_s : float
        Synapse time constant, s (5 ms).
    lambda_value : float
        λ, the memory-update scale (5).
    mlp_layers : int
        Hidden layers of the ELM's MLP (1), each 2·d_m wide.
    version : {"v1", "v2"}
        ELM version.
    learn_tau_m : bool
        Train τ_m (False: fixed, log-spaced).
    dt : float
        Bin, s (10 ms); the ELM's κ = exp(-dt/τ).
    lr : float
        Adam learning rate, cosine-decayed over all steps.
    batch_size, n_epochs : int
        Trials per step; epochs (one pass over the training trials each).
    validation_fraction : float
        The last part of the training trials, held out to pick the best epoch (validation accuracy).
    device, n_threads :
        Torch device ("cpu", "cuda", "auto") and CPU threads (None: torch's own).
    checkpoint : path, optional
        Checkpoint/resume file (``neurodata.deep.TrainingLoop``).
    seed : None, int or numpy Generator
        Initial weights, shuffling.
    verbose : bool
        Progress bar.

    Attributes
    ----------
    net_ : ELMNet
        The trained network (CPU, eval mode) at its best validation epoch.
    classes_ : ndarray
        The sorted labels seen in ``fit``; output unit k stands for ``classes_[k]``.
    history_ : list of dict
        One row per epoch: loss, training and validation accuracy, seconds.
    best_epoch_ : int
        The epoch whose weights ``net_`` holds.
    n_inputs_, n_bins_ : int
        Channels and bins per trial of the training data; predictions need the same channels.
    n_parameters_ : int
        Trainable parameters of ``net_``.
    """

    def __init__(self, *, memory=100, tau_m_min=1e-3, tau_m_max=0.5, tau_s=5e-3, lambda_value=5.0, mlp_layers=1,
                 version="v1", learn_tau_m=False, dt=0.01, lr=3e-3, batch_size=64, n_epochs=10,
                 validation_fraction=0.1, device="auto", n_threads=None, checkpoint=None, seed=None,
                 verbose=DEFAULT_VERBOSE):
        self._keep(locals())

    def _validate(self):
        owner = "ELMAddingClassifier"
        for name, low in (("memory", 1), ("mlp_layers", 0), ("batch_size", 1), ("n_epochs", 0)):
            check_scalar(getattr(self, name), name, owner, kind=numbers.Integral, low=low)
        for name in ("tau_m_min", "tau_m_max", "tau_s", "lambda_value", "dt", "lr"):
            check_scalar(getattr(self, name), name, owner, low=0.0, low_inclusive=False)
        if self.tau_m_max <= self.tau_m_min:
            raise InvalidInputError(f"The 'tau_m_max' parameter of {owner} must be larger than 'tau_m_min' "
                                    f"({self.tau_m_min}). Got {self.tau_m_max} instead.")
        check_scalar(self.validation_fraction, "validation_fraction", owner, low=0.0, high=0.5)
        check_option(self.version, "version", VERSIONS)

    def _build(self, n_inputs, n_classes, generator):
        return ELMNet(n_inputs, n_classes, memory=self.memory, lambda_value=self.lambda_value,
                      mlp_layers=self.mlp_layers, tau_s=self.tau_s, tau_m_min=self.tau_m_min,
                      tau_m_max=self.tau_m_max, learn_tau_m=self.learn_tau_m, version=self.version, dt=self.dt,
                      generator=generator)

    @staticmethod
    def _logits(net, xb):
        return net(xb)[:, -1]  # the read-out at the last bin

    def fit(self, X, y):
        """Train on trials ``X`` (trials, bins, channels) of spike counts with integer labels ``y``; returns self."""
        self._validate()
        x = _check_trials(X)
        labels = np.asarray(y)
        if labels.ndim != 1 or labels.shape[0] != x.shape[0]:
            raise InvalidInputError(f"y must hold one label per trial ({x.shape[0]}); got shape {labels.shape}.")
        if labels.dtype.kind not in "iu":
            raise InvalidInputError(f"y must hold integer class labels; got dtype {labels.dtype}.")
        classes, codes = np.unique(labels, return_inverse=True)
        if len(classes) < 2:
            raise InvalidInputError(f"y holds a single class ({classes[0]}); a classifier needs at least two.")
        n = x.shape[0]
        n_valid = int(round(self.validation_fraction * n))
        n_train = n - n_valid
        if n_train < 1:
            raise InvalidInputError(f"No training trials left: {n} trials, validation_fraction "
                                    f"{self.validation_fraction}.")
        rng = check_random_state(self.seed)
        xs = torch.from_numpy(np.ascontiguousarray(x))  # stays in its dtype; batches are cast to float32
        ys = torch.from_numpy(codes.astype(np.int64))
        with torch_runtime(self.device, self.n_threads) as device:
            generator = torch_generator(rng)
            net = self._build(x.shape[2], len(classes), generator).to(device)
            optimizer = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=self.lr)
            steps_per_epoch = math.ceil(n_train / self.batch_size)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, self.n_epochs *
                                                                                         steps_per_epoch))

            def batch(index):
                index = torch.as_tensor(index)
                return xs[index].to(device=device, dtype=torch.float32), ys[index].to(device)

            def train_epoch(epoch):
                order = rng.permutation(n_train)
                losses, correct = [], 0
                for first in range(0, n_train, self.batch_size):
                    xb, yb = batch(order[first:first + self.batch_size])
                    logits = self._logits(net, xb)
                    loss = F.cross_entropy(logits, yb)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    scheduler.step()
                    losses.append(loss.item() * len(yb))
                    correct += int((logits.argmax(1) == yb).sum())
                metrics = {"loss": float(np.sum(losses) / n_train), "accuracy": correct / n_train}
                if n_valid:
                    net.eval()
                    metrics["valid_accuracy"] = float(np.mean(self._predict_codes(net, x[n_train:], device) ==
                                                              codes[n_train:]))
                return metrics

            monitor = "valid_accuracy" if n_valid else "accuracy"
            loop = TrainingLoop(self.n_epochs, checkpoint=self.checkpoint, monitor=monitor, mode="max",
                                restore_best=True, desc="ELM adding task",
                                fingerprint={k: v for k, v in self.get_params().items()
                                             if k not in ("verbose", "device", "n_threads", "checkpoint", "seed")},
                                verbose=self.verbose)
            loop.run(net, optimizer, train_epoch, scheduler=scheduler, rng=rng, generators=[generator],
                     device=device)
        self.net_ = net.cpu().eval()
        self.classes_ = classes
        self.history_ = list(loop.history_)
        self.best_epoch_ = loop.best_epoch_
        self.n_inputs_, self.n_bins_ = x.shape[2], x.shape[1]
        self.n_parameters_ = count_parameters(self.net_)
        return self

    def _predict_codes(self, net, x, device, chunk=256):
        return self._logits_all(net, x, device, chunk).argmax(1)

    def _logits_all(self, net, x, device, chunk=256):
        out = []
        with torch.no_grad():
            for first in range(0, x.shape[0], chunk):
                xb = torch.from_numpy(np.ascontiguousarray(x[first:first + chunk])).to(device, torch.float32)
                out.append(self._logits(net, xb).cpu().numpy())
        return np.concatenate(out)

    def _checked(self, X):
        if not hasattr(self, "net_"):
            raise InvalidInputError("This ELMAddingClassifier is not fitted yet; call fit() first.")
        x = _check_trials(X)
        if x.shape[2] != self.n_inputs_:
            raise InvalidInputError(f"X has {x.shape[2]} channels per bin; this ELMAddingClassifier was fitted on "
                                    f"{self.n_inputs_}.")
        return x

    def predict_proba(self, X):
        """Class probabilities (trials, classes) from the last bin's output."""
        x = self._checked(X)
        with torch_runtime(self.device, self.n_threads) as device:
            net = self.net_.to(device)
            logits = self._logits_all(net, x, device)
            self.net_ = net.cpu()
        logits = logits - logits.max(1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(1, keepdims=True)

    def predict(self, X):
        """The most probable label of each trial."""
        codes = self.predict_proba(X).argmax(1)
        return self.classes_[codes]

    def score(self, X, y):
        """Accuracy on trials ``X`` with labels ``y``."""
        labels = np.asarray(y)
        pred = self.predict(X)
        if labels.shape != pred.shape:
            raise InvalidInputError(f"y must hold one label per trial ({pred.shape[0]}); got shape {labels.shape}.")
        return float(np.mean(pred == labels))


def run_adding_task(*, tau_m_max=0.5, memory=100, n_train=4000, n_test=500, n_epochs=10, seed=0, pattern_seed=0,
                    task=None, **classifier):
    """Draw a training and a test set, fit :class:`ELMAddingClassifier`, score; returns a dict of results.

    Training trials use ``seed``, test trials ``seed + 1`` (the patterns, from ``pattern_seed``, are shared);
    ``task`` overrides :data:`TASK_DEFAULTS`, ``classifier`` passes keywords to the classifier (``lr``,
    ``device``, ``n_threads``, ``verbose``, ...).
    """
    check_scalar(seed, "seed", "run_adding_task", kind=numbers.Integral, low=0)
    settings = {**TASK_DEFAULTS, **(task or {})}
    train = make_adding_task(n_train, **settings, pattern_seed=pattern_seed, seed=seed)
    test = make_adding_task(n_test, **settings, pattern_seed=pattern_seed, seed=seed + 1)
    model = ELMAddingClassifier(memory=memory, tau_m_max=tau_m_max, dt=settings["dt"], n_epochs=n_epochs, seed=seed,
                                **classifier).fit(train.spikes, train.labels)
    return {"test_accuracy": model.score(test.spikes, test.labels), "train_accuracy": model.history_[-1]["accuracy"]
            if model.history_ else float("nan"), "best_epoch": model.best_epoch_, "tau_m_max": tau_m_max,
            "memory": memory, "n_train": n_train, "n_test": n_test, "n_epochs": n_epochs, "seed": seed,
            "n_parameters": model.n_parameters_, "model": model}


def write_adding_results(path, results, *, overwrite=False):
    """Write the runs of :func:`run_adding_task` (a list of its dicts) to a new NWB results file; returns path.

    One row per run in the arrays (τ_max, d_m, seed, test and training accuracy, best epoch); the task's
    settings and each run's numbers in the parameters.
    """
    from neurodata.io import write_results

    if not results:
        raise InvalidInputError("write_adding_results needs at least one result of run_adding_task.")
    keys = ("tau_m_max", "memory", "seed", "n_train", "n_test", "n_epochs", "n_parameters", "best_epoch",
            "test_accuracy", "train_accuracy")
    rows = [{k: r[k] for k in keys} for r in results]
    arrays = {k: np.array([row[k] for row in rows], dtype=float) for k in keys}
    return write_results(path, analysis="elm_adding", parameters={"task": TASK_DEFAULTS, "runs": rows},
                         arrays=arrays, overwrite=overwrite)
