"""Spiking output of the motion detector: per-detector thresholds and a winner-take-all over classes.

Grimaldi & Perrinet (2023, Sec. 2.3 and Fig. 3): the evidence of each class at each position is thresholded
("we computed this threshold to ensure that neurons, on average, generate one spike per second") and a
winner-takes-all over the classes keeps at most one output spike per position and time step. Here a detector
neuron is one (class, x, y); at each (t, x, y) only the class with the largest evidence (the first one on a
tie, as ``argmax``) may spike, and it spikes when its evidence is strictly above its class threshold.

NumPy only; the dense model (:meth:`HeterogeneousDelayClassifier.spikes`) and the Brian2 twin
(:func:`neurosim.motion.twin.run_brian2_twin` with ``thresholds=``) both use these definitions.
"""
import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.utils import check_scalar


def _check_evidence(evidence, name="evidence"):
    evidence = np.asarray(evidence)
    if evidence.ndim == 4:
        evidence = evidence[None]
    if evidence.ndim != 5:
        raise InvalidInputError(f"{name} must be (n_movies, classes, n_steps, x, y) or (classes, n_steps, x, y); "
                                f"got shape {evidence.shape}.")
    return evidence


def winner_take_all(evidence, thresholds):
    """Output spikes of a thresholded winner-take-all over classes.

    Parameters
    ----------
    evidence : array (n_movies, classes, n_steps, x, y) or (classes, n_steps, x, y)
        Per-voxel evidence (with bias and, for the flip model, the ON/OFF maximum).
    thresholds : array (classes,)
        Firing threshold of each class's detectors; ``-inf`` spikes whenever the class wins.

    Returns
    -------
    spikes : bool array of the shape of ``evidence``
        ``spikes[..., c, t, x, y]`` is True where class c has the largest evidence at (t, x, y) (lowest index
        on a tie) and that evidence is strictly above ``thresholds[c]``.
    """
    single = np.ndim(evidence) == 4
    evidence = _check_evidence(evidence)
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.shape != evidence.shape[1:2]:
        raise InvalidInputError(f"thresholds must have shape ({evidence.shape[1]},) (one per class); got "
                                f"{thresholds.shape}.")
    winner = evidence.argmax(axis=1)
    best = np.take_along_axis(evidence, winner[:, None], axis=1)[:, 0]
    fires = best > thresholds[winner]
    spikes = np.zeros(evidence.shape, dtype=bool)
    n, t, x, y = np.nonzero(fires)
    spikes[n, winner[n, t, x, y], t, x, y] = True
    return spikes[0] if single else spikes


def calibrate_thresholds(evidence_batches, n_classes, *, rate=1.0, dt=1e-3):
    """Per-class thresholds that make each detector neuron fire ``rate`` spikes/s on average after the
    winner-take-all, on the given movies.

    Parameters
    ----------
    evidence_batches : iterable of arrays (batch, classes, n_steps, x, y)
        The evidence of the calibration movies, batch by batch (one array is fine too).
    n_classes : int
    rate : float > 0
        Target mean rate per detector neuron (class, x, y), spikes per second (the paper: 1).
    dt : float > 0
        Seconds per time step.

    Returns
    -------
    thresholds : ndarray (classes,)
        For class c, with ``k = round(rate * dt * n_movies * n_steps * x * y)`` spikes wanted from its x * y
        neurons, the midpoint between the k-th and (k+1)-th largest evidence among the voxels that class wins,
        so exactly k of them lie above it, and a rounding error in another implementation of the same evidence
        does not move a voxel across. Where those two values are equal, the threshold moves to the nearest gap
        between distinct values (see ``_threshold_in_gap``), and the rate is off by that cluster. A class
        that wins at most k voxels gets ``-inf`` (it spikes whenever it wins and stays below the target rate);
        k = 0 gives ``+inf``.
    """
    check_scalar(n_classes, "n_classes", "calibrate_thresholds", kind=int, low=1)
    check_scalar(rate, "rate", "calibrate_thresholds", low=0.0, low_inclusive=False)
    check_scalar(dt, "dt", "calibrate_thresholds", low=0.0, low_inclusive=False)
    if isinstance(evidence_batches, np.ndarray):
        evidence_batches = [evidence_batches]
    values = [[] for _ in range(n_classes)]
    n_voxels = 0  # movie x step x position, per class
    for batch in evidence_batches:
        batch = _check_evidence(np.asarray(batch), "each evidence batch")
        if batch.shape[1] != n_classes:
            raise InvalidInputError(f"evidence has {batch.shape[1]} classes; expected {n_classes}.")
        winner = batch.argmax(axis=1)
        best = np.take_along_axis(batch, winner[:, None], axis=1)[:, 0]
        for c in range(n_classes):
            values[c].append(best[winner == c].astype(float))
        n_voxels += winner.size
    if n_voxels == 0:
        raise InvalidInputError("calibrate_thresholds needs at least one movie with at least one voxel.")
    k = int(round(rate * dt * n_voxels))
    if k >= n_voxels:
        raise InvalidInputError(f"rate={rate} spikes/s with dt={dt} s asks every detector to fire at every step "
                                f"(rate * dt = {rate * dt}); it must be below 1 / dt.")
    thresholds = np.empty(n_classes)
    for c in range(n_classes):
        wins = np.sort(np.concatenate(values[c]))[::-1]
        if k == 0:
            thresholds[c] = np.inf
        elif len(wins) <= k:
            thresholds[c] = -np.inf
        else:
            thresholds[c] = _threshold_in_gap(wins, k)
    return thresholds


def _threshold_in_gap(wins, k):
    """Midpoint of the gap between distinct values nearest to rank k (``wins`` sorted descending).

    Identical local event patterns give equal evidence; a threshold equal to such a value would leave its voxels
    to rounding in another implementation, so the threshold goes to the nearest gap between distinct values and
    the rate misses the target by that cluster's size at most.
    """
    gaps = wins[:-1] - wins[1:]  # gap j lies between ranks j and j + 1: a threshold there keeps j + 1 spikes
    ok = np.flatnonzero(gaps > 0)
    if not len(ok):
        return -np.inf  # all values equal: spike whenever the class wins
    j = ok[np.argmin(np.abs(ok + 1 - k))]
    return 0.5 * (wins[j] + wins[j + 1])


def spike_rates(spikes, dt=1e-3):
    """Mean output rate (spikes/s) per detector neuron of each class, from spikes (n, C, T, X, Y)."""
    spikes = _check_evidence(spikes, "spikes")
    n, _, t, x, y = spikes.shape
    return spikes.sum(axis=(0, 2, 3, 4)) / (n * t * x * y * dt)


def spike_readout(spikes):
    """Decision per movie and time step from output spikes: the class with the most spikes over space at that
    step (lowest index on a tie), ``-1`` where no detector fired. Returns int array (n_movies, n_steps)."""
    single = np.ndim(spikes) == 4
    spikes = _check_evidence(spikes, "spikes")
    counts = spikes.sum(axis=(3, 4))  # (n, C, T)
    out = np.where(counts.max(axis=1) > 0, counts.argmax(axis=1), -1)
    return out[0] if single else out


def spike_precision(spikes, labels, *, skip=0):
    """Fraction of output spikes whose class is the label of their movie and step (steps from ``skip`` on);
    NaN when no spike fired there."""
    spikes = _check_evidence(spikes, "spikes")
    labels = np.asarray(labels).reshape(spikes.shape[0], spikes.shape[2])
    n, c, t, _, _ = np.nonzero(spikes[:, :, skip:])
    if not len(n):
        return float("nan")
    return float(np.mean(c == labels[n, t + skip]))
