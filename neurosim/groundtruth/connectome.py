"""Ground truth for the dynamic functional connectome: calcium traces with planted, time-varying communities.

Each motif m is a set of neurons that, during its active epoch and only in the animals that show it, receive
common input events: every event makes each member fire with probability ``p_join`` in the same frame. Outside
the epoch (and always for non-members) neurons fire privately (Poisson). Spikes are turned into fluorescence
the usual way (Vogelstein et al. 2009): instantaneous rise, exponential decay with ``tau_decay``, a per-neuron
baseline and gain (so the analysis must be invariant to both), and Gaussian measurement noise.
"""
from dataclasses import dataclass

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.io import write_simulation
from neurodata.io.objects import Traces
from neurodata.utils import check_random_state, check_scalar


@dataclass(frozen=True)
class PlantedConnectome:
    """Simulated recordings and the structure planted in them."""
    traces: list            # one neurodata Traces (time × neurons, dF/F-like) per animal
    members: np.ndarray     # (motifs × neurons) bool: who belongs to each motif
    epochs: np.ndarray      # (motifs × frames) bool: when each motif is active
    animals: np.ndarray     # (motifs × animals) bool: which animals show each motif
    spikes: list            # one (time × neurons) int array of spike counts per animal
    rate: float             # frame rate (Hz)


def default_motifs(n_neurons=30, n_motifs=3, motif_size=8, seed=0):
    """Disjoint motifs of ``motif_size`` random neurons (remaining neurons belong to none)."""
    rng = check_random_state(seed)
    if n_motifs * motif_size > n_neurons:
        raise InvalidInputError(f"{n_motifs} disjoint motifs of {motif_size} neurons need ≥ "
                                f"{n_motifs * motif_size} neurons; got n_neurons={n_neurons}.")
    order = rng.permutation(n_neurons)
    members = np.zeros((n_motifs, n_neurons), bool)
    for m in range(n_motifs):
        members[m, order[m * motif_size:(m + 1) * motif_size]] = True
    return members


def simulate_dynamic_communities(*, n_neurons=30, n_animals=4, duration=300.0, rate=10.0, members=None,
                                 epochs=None, animals=None, private_rate=0.3, event_rate=2.0, p_join=0.8,
                                 tau_decay=1.0, noise=0.05, seed=None):
    """Simulate calcium traces of ``n_animals`` animals with planted time-varying communities.

    Parameters
    ----------
    n_neurons, n_animals : int
    duration : float
        Recording length (s).
    rate : float
        Frame rate (Hz).
    members : (motifs × neurons) bool, optional
        Motif membership; default: 3 disjoint motifs of 8 neurons (:func:`default_motifs`).
    epochs : list of (start_s, stop_s) per motif, optional
        When each motif is active; default: consecutive, non-overlapping epochs tiling the middle 90 % of the
        recording, with gaps between them.
    animals : (motifs × animals) bool, optional
        Which animals show each motif; default: motif m in animals m, m+1 (mod n_animals) — some motifs shared.
    private_rate : float
        Private firing rate of every neuron (Hz).
    event_rate : float
        Rate of common input events of an active motif (Hz).
    p_join : float
        Probability that a member fires on a common event.
    tau_decay : float
        Calcium indicator decay time constant (s).
    noise : float
        SD of the additive measurement noise, relative to the fluorescence of one spike.
    seed : None, int or numpy.random.Generator
    """
    owner = "simulate_dynamic_communities"
    check_scalar(n_neurons, "n_neurons", owner, kind=int, low=2)
    check_scalar(n_animals, "n_animals", owner, kind=int, low=1)
    check_scalar(duration, "duration", owner, low=0.0, low_inclusive=False)
    check_scalar(rate, "rate", owner, low=0.0, low_inclusive=False)
    for name in ("private_rate", "event_rate", "tau_decay", "noise"):
        check_scalar(locals()[name], name, owner, low=0.0)
    check_scalar(p_join, "p_join", owner, low=0.0, high=1.0)
    rng = check_random_state(seed)
    n_frames = round(duration * rate)
    dt = 1.0 / rate

    members = default_motifs(n_neurons, seed=rng) if members is None else np.asarray(members, bool)
    if members.ndim != 2 or members.shape[1] != n_neurons:
        raise InvalidInputError(f"members must be (motifs × {n_neurons}) booleans; got shape {members.shape}.")
    n_motifs = members.shape[0]
    if epochs is None:
        edges = np.linspace(0.05 * duration, 0.95 * duration, n_motifs + 1)
        span = np.diff(edges)
        epochs = [(edges[m] + 0.1 * span[m], edges[m + 1] - 0.1 * span[m]) for m in range(n_motifs)]
    if len(epochs) != n_motifs:
        raise InvalidInputError(f"epochs must give one (start, stop) per motif ({n_motifs}); got {len(epochs)}.")
    t = np.arange(n_frames) * dt
    active = np.array([(t >= a) & (t < b) for a, b in epochs], dtype=bool).reshape(n_motifs, n_frames)
    if animals is None:
        animals = np.zeros((n_motifs, n_animals), bool)
        for m in range(n_motifs):
            animals[m, [m % n_animals, (m + 1) % n_animals]] = True
    animals = np.asarray(animals, bool)
    if animals.shape != (n_motifs, n_animals):
        raise InvalidInputError(f"animals must be (motifs × animals) = {(n_motifs, n_animals)}; "
                                f"got {animals.shape}.")

    kernel = np.exp(-np.arange(int(np.ceil(8 * tau_decay * rate)) + 1) * dt / max(tau_decay, 1e-12))
    traces, spikes_all = [], []
    labels = list(range(n_neurons))  # ROI ids, as an NWB PlaneSegmentation stores them
    for a in range(n_animals):
        spikes = rng.poisson(private_rate * dt, size=(n_frames, n_neurons))
        for m in range(n_motifs):
            if not animals[m, a]:
                continue
            events = (rng.random(n_frames) < event_rate * dt) & active[m]
            idx = np.flatnonzero(members[m])
            joins = rng.random((int(events.sum()), idx.size)) < p_join
            spikes[np.ix_(np.flatnonzero(events), idx)] += joins
        calcium = np.apply_along_axis(lambda s: np.convolve(s, kernel)[:n_frames], 0, spikes.astype(float))
        gain = rng.uniform(0.5, 2.0, n_neurons)
        baseline = rng.uniform(0.5, 1.5, n_neurons)
        fluor = baseline + gain * (calcium + noise * rng.standard_normal(calcium.shape))
        traces.append(Traces(fluor, rate=rate, channels=labels, unit="a.u.", name=f"animal{a}"))
        spikes_all.append(spikes)
    return PlantedConnectome(traces=traces, members=members, epochs=active, animals=animals,
                             spikes=spikes_all, rate=float(rate))


def planted_ntf_tensor(*, n_components=4, n_neurons=30, n_times=200, n_animals=6, clique_size=8, noise=0.1,
                       seed=None):
    """A (time × animals × pairs) tensor with planted non-negative CP structure.

    Each component is an ``clique_size``-neuron clique (its pairs i < j load 1) × a Gaussian temporal bump
    (centres spread over the recording, SD n_times / (3 × n_components)) × sparse animal loadings (2–3 random
    animals with loadings in [0.5, 1]). Gaussian noise of SD ``noise`` × the clean tensor's SD is added and
    the result clipped at 0. Returns (tensor, [temporal, animal, pair] true factors).
    """
    rng = check_random_state(seed)
    rows, cols = np.triu_indices(n_neurons, k=1)
    t = np.arange(n_times)
    centres = np.linspace(0.12, 0.88, n_components) * n_times
    temporal, animal, pair = [], [], []
    for k in range(n_components):
        member = np.zeros(n_neurons, bool)
        member[rng.choice(n_neurons, clique_size, replace=False)] = True
        pair.append((member[rows] & member[cols]).astype(float))
        temporal.append(np.exp(-0.5 * ((t - centres[k]) / (n_times / (3 * n_components))) ** 2))
        load = np.zeros(n_animals)
        on = rng.choice(n_animals, min(n_animals, int(rng.integers(2, 4))), replace=False)
        load[on] = rng.uniform(0.5, 1.0, on.size)
        animal.append(load)
    factors = [np.array(temporal).T, np.array(animal).T, np.array(pair).T]
    clean = np.einsum("tr,ar,pr->tap", *factors)
    tensor = np.clip(clean + noise * clean.std() * rng.standard_normal(clean.shape), 0.0, None)
    return tensor, factors


def planted_weighted_sbm(*, block_sizes=(30, 30, 30, 30), p_in=0.3, p_out=0.05, mean_in=1.0, mean_out=0.2,
                         seed=None):
    """Symmetric weighted graph from a planted-partition SBM: edges Bernoulli(p_in / p_out), weights
    exponential with mean ``mean_in`` / ``mean_out``. Returns (weights (N × N), true block labels)."""
    rng = check_random_state(seed)
    labels = np.repeat(np.arange(len(block_sizes)), block_sizes)
    n = labels.size
    same = labels[:, None] == labels[None, :]
    edges = rng.random((n, n)) < np.where(same, p_in, p_out)
    weights = np.where(same, rng.exponential(mean_in, (n, n)), rng.exponential(mean_out, (n, n))) * edges
    weights = np.triu(weights, 1)
    return weights + weights.T, labels


def write_calcium_nwb(path, traces, *, parameters=None, description="simulated calcium imaging", overwrite=False):
    """Write simulated fluorescence as a real recording would be: an ``ImageSegmentation`` plane (one ROI per
    neuron, ids = ``traces.channels``) and ``processing/ophys/Fluorescence/RoiResponseSeries`` (time × ROIs),
    so that ``neurodata.io.read_traces`` reads it back. Written atomically with the suite's provenance; an
    existing ``path`` raises ``OutputExistsError`` unless ``overwrite=True``."""
    if not isinstance(traces, Traces):
        raise InvalidInputError(f"traces must be neurodata Traces; got {type(traces).__name__}.")
    return write_simulation(path, ophys={"RoiResponseSeries": traces}, parameters=parameters,
                            description=description, overwrite=overwrite)


def planted_degree_corrected_sbm(*, block_sizes=(60, 60), p_in=0.3, p_out=0.03, pareto_shape=2.0, mean_in=1.0,
                                 mean_out=0.5, seed=None):
    """Symmetric weighted graph from a degree-corrected planted-partition SBM (Karrer & Newman 2011).

    Each node draws a degree propensity theta_i from a Pareto law (shape ``pareto_shape``, scale 1), scaled to
    mean 1 within its block; nodes i, j are joined with probability min(1, theta_i theta_j p), p = ``p_in``
    inside a block and ``p_out`` between blocks, and each edge weighs Exp(mean ``mean_in`` / ``mean_out``).
    Hubs then have many edges to the other block as well, the case a model without degree correction splits
    into hubs versus periphery. Returns (weights (N × N), true block labels, theta).
    """
    owner = "planted_degree_corrected_sbm"
    for name in ("p_in", "p_out"):
        check_scalar(locals()[name], name, owner, low=0.0, high=1.0)
    for name in ("pareto_shape", "mean_in", "mean_out"):
        check_scalar(locals()[name], name, owner, low=0.0, low_inclusive=False)
    rng = check_random_state(seed)
    labels = np.repeat(np.arange(len(block_sizes)), block_sizes)
    theta = rng.pareto(pareto_shape, labels.size) + 1.0
    for b in range(len(block_sizes)):
        theta[labels == b] /= theta[labels == b].mean()
    same = labels[:, None] == labels[None, :]
    prob = np.clip(np.outer(theta, theta) * np.where(same, p_in, p_out), 0.0, 1.0)
    edges = np.triu(rng.random(prob.shape) < prob, 1)
    weights = np.where(same, rng.exponential(mean_in, prob.shape), rng.exponential(mean_out, prob.shape)) * edges
    return weights + weights.T, labels, theta
