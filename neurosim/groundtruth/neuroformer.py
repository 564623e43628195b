"""Ground truth for the Neuroformer's connectivity readout: a spiking network with known directed hubs.

A few *hub* neurons fire as independent Poisson processes; each drives a handful of other neurons through a
delayed exponential coupling of their log firing rate (a Poisson GLM network, Pillow et al. 2008):

    lambda_j(t) = r_j exp( sum_i W_ij sum_{t_i^k < t - d} exp(-(t - d - t_i^k) / tau) )

so the true directed adjacency is known (``W_ij > 0`` only from hubs to their targets, never back). Every
neuron also fires at its own background rate (the noise). Time is stepped at ``dt`` (1 ms by default); spike
times are placed uniformly inside their step.
"""
from dataclasses import dataclass

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.io import SpikeTrains, write_simulation
from neurodata.utils import check_output_path, check_random_state, check_scalar

__all__ = ["HubNetwork", "simulate_hub_network", "write_hub_network"]


@dataclass(frozen=True)
class HubNetwork:
    """A simulated run and its planted structure."""
    spikes: SpikeTrains      # all neurons, hubs first
    weights: np.ndarray      # (n, n) W[i, j]: coupling from i to j (0 where no edge)
    hubs: np.ndarray         # indices of the hub neurons
    parameters: dict

    @property
    def adjacency(self):
        return self.weights != 0


def simulate_hub_network(n_neurons=30, n_hubs=3, n_targets=8, duration=1200.0, *, hub_rate=20.0,
                         base_rate=5.0, weight=1.0, tau=0.02, delay=0.002, dt=1e-3, seed=0):
    """Simulate the hub network for ``duration`` seconds; returns :class:`HubNetwork`.

    ``n_targets`` distinct non-hub neurons per hub (drawn with ``seed``), coupling ``weight`` (log-rate per
    spike, decaying with ``tau`` after ``delay``). Rates in Hz, times in s.
    """
    owner = "simulate_hub_network"
    check_scalar(n_neurons, "n_neurons", owner, kind=int, low=2)
    check_scalar(n_hubs, "n_hubs", owner, kind=int, low=1, high=n_neurons - 1)
    check_scalar(n_targets, "n_targets", owner, kind=int, low=1, high=n_neurons - n_hubs)
    for name, value in (("duration", duration), ("tau", tau), ("dt", dt), ("hub_rate", hub_rate),
                        ("base_rate", base_rate)):
        check_scalar(value, name, owner, low=0.0, low_inclusive=False)
    check_scalar(delay, "delay", owner, low=0.0)
    check_scalar(weight, "weight", owner)
    if hub_rate * dt > 0.5 or base_rate * np.exp(max(weight, 0)) * dt > 0.5:
        raise InvalidInputError(f"{owner}: rates are too high for dt={dt} s (more than one spike per step); "
                                f"lower the rates or the weight, or use a smaller dt.")
    params = dict(n_neurons=n_neurons, n_hubs=n_hubs, n_targets=n_targets, duration=duration, hub_rate=hub_rate,
                  base_rate=base_rate, weight=weight, tau=tau, delay=delay, dt=dt, seed=seed)
    rng = check_random_state(seed)
    n_steps = int(round(duration / dt))
    weights = np.zeros((n_neurons, n_neurons))
    others = np.arange(n_hubs, n_neurons)
    for h in range(n_hubs):
        weights[h, rng.choice(others, n_targets, replace=False)] = weight
    hub_spikes = rng.random((n_steps, n_hubs)) < hub_rate * dt
    # the filtered hub trains: x(t) = sum_k exp(-(t - d - t_k) / tau) for t_k < t - d (a first-order filter)
    from scipy.signal import lfilter

    decay = np.exp(-dt / tau)
    filtered = lfilter([1.0], [1.0, -decay], hub_spikes.astype(float), axis=0)
    shift = int(round(delay / dt)) + 1  # a spike in step k acts from step k + 1 + delay steps on
    trace = np.zeros_like(filtered)
    trace[shift:] = filtered[:-shift]
    drive = trace @ weights[:n_hubs]  # (steps, n): log-rate increments of every neuron
    rate = np.where(np.arange(n_neurons) < n_hubs, hub_rate, base_rate)[None, :] * np.exp(drive)
    fired = rng.random((n_steps, n_neurons)) < -np.expm1(-rate * dt)
    fired[:, :n_hubs] = hub_spikes
    times = []
    for j in range(n_neurons):
        steps = np.nonzero(fired[:, j])[0]
        times.append(np.sort((steps + rng.random(len(steps))) * dt))
    spikes = SpikeTrains(times, start=0.0, end=float(duration), name="hub_network")
    return HubNetwork(spikes=spikes, weights=weights, hubs=np.arange(n_hubs), parameters=params)


def write_hub_network(path, *, overwrite=False, **kwargs):
    """Simulate (``kwargs`` to :func:`simulate_hub_network`) and write a new NWB file: the spikes as Units
    (population ``hub`` or ``driven``), the weights as a table, the parameters as JSON. Returns the network."""
    import pandas as pd

    check_output_path(path, overwrite=overwrite, suffix=".nwb")
    net = simulate_hub_network(**kwargs)
    n = net.spikes.n_units
    i, j = np.nonzero(net.weights)
    hubs = SpikeTrains(net.spikes.times[:len(net.hubs)], start=0.0, end=net.spikes.end)
    driven = SpikeTrains(net.spikes.times[len(net.hubs):], unit_ids=list(range(len(net.hubs), n)), start=0.0,
                         end=net.spikes.end)
    write_simulation(path, spikes={"hub": hubs, "driven": driven},
                     tables={"weights": pd.DataFrame({"source": i, "target": j, "weight": net.weights[i, j]})},
                     parameters=net.parameters, description="hub network with known directed connectivity "
                     "(neurosim.groundtruth.neuroformer)", resolution=net.parameters["dt"], overwrite=overwrite)
    return net
