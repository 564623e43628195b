"""One training loop for every torch model of the suite, and atomic torch files.

:class:`TrainingLoop` runs the epochs; the model's own estimator supplies one callable that trains one epoch
and returns its metrics. The loop adds what every model needs and none should rewrite: a progress bar with an
off switch, ``history_``, the best state kept as a deep copy, early stopping, and an atomic checkpoint after
every epoch from which a rerun resumes to the same numbers as an uninterrupted run.
"""
import copy
import math
import numbers
import os
import time

from ..errors import DataFileError, InvalidInputError
from ..utils import atomic_path, check_option, check_scalar, logger, progress
from .runtime import import_torch

__all__ = ["TrainingLoop", "load_state", "save_state"]

CHECKPOINT_FORMAT = "neurosuite.deep.checkpoint/1"


def save_state(path, state, *, overwrite=False):
    """Write ``state`` (a dict of tensors and plain Python values) to a torch file atomically; returns path.

    An existing ``path`` is refused unless ``overwrite=True`` (the suite's rule for every writer).
    """
    torch = import_torch("save_state")
    with atomic_path(path, overwrite=overwrite) as tmp:
        torch.save(state, tmp)
    return path


def load_state(path, *, map_location="cpu", what="torch file"):
    """Read a file written by :func:`save_state`; ``what`` names the file in error messages.

    Only tensors and plain Python values are unpickled (``weights_only``), so a file cannot run code.
    """
    torch = import_torch("load_state")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise DataFileError(f"No such {what}: {path}") from None
    except Exception as exc:  # torch raises a zoo of errors on truncated or foreign files
        raise DataFileError(f"Cannot read {what} {path}: {exc}") from None


class TrainingLoop:
    """Epochs of training with progress, history, best state, early stopping and checkpoint/resume.

    Parameters
    ----------
    epochs : int
        Total number of epochs (a resumed run counts the epochs already in its checkpoint).
    checkpoint : path, optional
        Written atomically after every epoch; when it exists at the start, training resumes from it. Model,
        optimizer, scheduler, history, best state and the random generators are all saved, so the resumed run
        gives the same numbers, bit for bit, as one that was never interrupted.
    patience : int, optional
        Stop after this many epochs in a row without improvement of ``monitor`` (None: never stop early).
    min_delta : float
        The smallest change of ``monitor`` that counts as an improvement.
    monitor : str
        The metric (a key of the dict ``train_epoch`` returns) that decides the best epoch and early stopping.
    mode : {"min", "max"}
        Whether a smaller or larger ``monitor`` is better.
    restore_best : bool
        Load the best state into the model at the end (otherwise the model keeps its last state).
    fingerprint : optional
        Any plain value (e.g. a configuration dict) stored in the checkpoint; a checkpoint with another
        fingerprint is refused instead of being resumed into the wrong model.
    desc : str
        Label of the progress bar.
    verbose : bool
        Progress bar over epochs (False silences it).

    Attributes (after run)
    ----------------------
    history_ : list of dict
        One record per epoch: ``epoch`` (1-based), the metrics of ``train_epoch``, ``seconds``.
    best_state_ : dict
        ``copy.deepcopy(model.state_dict())`` at the best epoch; later changes to the model do not reach it.
    best_epoch_, best_score_ : the best epoch (1-based) and its ``monitor`` value.
    n_epochs_done_ : int
    stopped_early_ : bool
    resumed_from_ : int or None — the epoch the checkpoint held when this run resumed from it.
    """

    def __init__(self, epochs, *, checkpoint=None, patience=None, min_delta=0.0, monitor="loss", mode="min",
                 restore_best=False, fingerprint=None, desc="training", verbose=False):
        self.epochs = epochs
        self.checkpoint = checkpoint
        self.patience = patience
        self.min_delta = min_delta
        self.monitor = monitor
        self.mode = mode
        self.restore_best = restore_best
        self.fingerprint = fingerprint
        self.desc = desc
        self.verbose = verbose

    def _validate(self):
        check_scalar(self.epochs, "epochs", "TrainingLoop", kind=numbers.Integral, low=0)
        if self.patience is not None:
            check_scalar(self.patience, "patience", "TrainingLoop", kind=numbers.Integral, low=1)
        check_scalar(self.min_delta, "min_delta", "TrainingLoop", low=0.0)
        check_option(self.mode, "mode", ("min", "max"))

    def _improves(self, value):
        if self.best_score_ is None:
            return True
        if self.mode == "min":
            return value < self.best_score_ - self.min_delta
        return value > self.best_score_ + self.min_delta

    def run(self, model, optimizer, train_epoch, *, scheduler=None, rng=None, generators=(), device="cpu"):
        """Train ``model`` for the remaining epochs; returns self.

        ``train_epoch(epoch)`` (0-based) trains one epoch and returns a dict of float metrics holding
        ``monitor``. Every random draw it makes must come from ``rng`` (a numpy Generator) or from the torch
        ``generators`` passed here, whose states the checkpoint carries; the global torch RNG is not saved.
        The model is put in train mode before each epoch. ``device`` is where a checkpoint is loaded to.
        """
        self._validate()
        generators = list(generators)
        self.history_, self.best_state_, self.best_epoch_, self.best_score_ = [], None, None, None
        self.stopped_early_, self.resumed_from_ = False, None
        self._bad_epochs = 0
        if self.checkpoint is not None and os.path.exists(self.checkpoint):
            self._resume(model, optimizer, scheduler, rng, generators, device)
        start = len(self.history_)
        bar = progress(range(start, self.epochs), total=self.epochs - start, desc=self.desc, verbose=self.verbose)
        try:
            for epoch in bar:
                if self.stopped_early_:  # resumed from a run that had already stopped
                    break
                tic = time.perf_counter()
                model.train()
                metrics = dict(train_epoch(epoch))
                if self.monitor not in metrics:
                    raise InvalidInputError(f"train_epoch returned {sorted(metrics)}, without the monitored "
                                            f"metric {self.monitor!r}; return it or pass monitor=.")
                value = float(metrics[self.monitor])
                if not math.isfinite(value):
                    raise InvalidInputError(f"Training diverged at epoch {epoch} ({self.monitor} {value}); "
                                            f"lower lr.")
                self.history_.append({"epoch": epoch + 1, **metrics, "seconds": time.perf_counter() - tic})
                if self._improves(value):
                    # a deep copy: state_dict() shares storage with the live parameters
                    self.best_state_ = copy.deepcopy(model.state_dict())
                    self.best_epoch_, self.best_score_, self._bad_epochs = epoch + 1, value, 0
                else:
                    self._bad_epochs += 1
                self.stopped_early_ = self.patience is not None and self._bad_epochs >= self.patience
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix({self.monitor: f"{value:.3f}"})
                if self.checkpoint is not None:
                    self._save(model, optimizer, scheduler, rng, generators)
                if self.stopped_early_:
                    logger.info("%s stopped early at epoch %d: no %s improvement for %d epochs (best %g at epoch "
                                "%d).", self.desc, epoch + 1, self.monitor, self.patience, self.best_score_,
                                self.best_epoch_)
                    break
        finally:
            if hasattr(bar, "close"):
                bar.close()
        if self.restore_best and self.best_state_ is not None:
            model.load_state_dict(self.best_state_)
        self.n_epochs_done_ = len(self.history_)
        return self

    def _save(self, model, optimizer, scheduler, rng, generators):
        # a checkpoint is replaced every epoch by design; the rename keeps the last good one until then
        save_state(self.checkpoint, overwrite=True, state={
            "format": CHECKPOINT_FORMAT, "fingerprint": self.fingerprint, "epoch": len(self.history_),
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "history": self.history_, "rng": None if rng is None else rng.bit_generator.state,
            "generators": [g.get_state() for g in generators],
            "best_state": self.best_state_, "best_epoch": self.best_epoch_, "best_score": self.best_score_,
            "bad_epochs": self._bad_epochs, "stopped_early": self.stopped_early_})

    def _resume(self, model, optimizer, scheduler, rng, generators, device):
        path = self.checkpoint
        state = load_state(path, map_location=device, what="training checkpoint")
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise DataFileError(f"{path} is not a training checkpoint written by neurodata.deep.TrainingLoop; "
                                f"remove it or pass a different checkpoint path.")
        if state["fingerprint"] != self.fingerprint:
            raise InvalidInputError(f"Checkpoint {path} was written for another configuration; remove it or pass "
                                    f"a different checkpoint path.")
        if state["epoch"] > self.epochs:
            raise InvalidInputError(f"Checkpoint {path} already holds {state['epoch']} epochs, more than "
                                    f"epochs={self.epochs}; ask for at least {state['epoch']} or remove it.")
        if len(state["generators"]) != len(generators) or (state["rng"] is None) != (rng is None):
            raise InvalidInputError(f"Checkpoint {path} saved other random generators than this run uses; "
                                    f"remove it or pass a different checkpoint path.")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        if rng is not None:
            rng.bit_generator.state = state["rng"]
        for generator, saved in zip(generators, state["generators"]):
            generator.set_state(saved)
        self.history_ = list(state["history"])
        self.best_state_, self.best_epoch_ = state["best_state"], state["best_epoch"]
        self.best_score_, self._bad_epochs = state["best_score"], state["bad_epochs"]
        self.stopped_early_ = bool(state["stopped_early"])
        self.resumed_from_ = state["epoch"]
        logger.info("Resuming %s from %s at epoch %d.", self.desc, path, state["epoch"])
