"""A small built-in circuit: a sparse random E/I network of leaky integrate-and-fire neurons (Brunel 2000,
regime of asynchronous irregular firing), used by the demo when no recordings are at hand and as a quick
end-to-end check of the Brian2 → NWB path.
"""
import numpy as np

from neurodata.io import SpikeTrains, Traces, write_simulation
from neurodata.utils import check_random_state, check_scalar

from .backends import import_brian2, use_device


def simulate_lif_network(n_neurons=200, duration=1.0, *, seed=0, device="runtime", record_v=5):
    """Run a Brunel-style E/I LIF network; return ({"exc": SpikeTrains, "inh": SpikeTrains}, v Traces, params).

    80 % excitatory, 20 % inhibitory, connection probability 0.1, g = 5 (inhibition dominated), external
    Poisson drive at the threshold rate, dt = 0.1 ms.
    """
    check_scalar(n_neurons, "n_neurons", "simulate_lif_network", kind=int, low=10)
    check_scalar(duration, "duration", "simulate_lif_network", low=0.0, low_inclusive=False)
    b2 = import_brian2()
    rng = check_random_state(seed)
    params = dict(n_neurons=n_neurons, duration=duration, seed=seed, device=device, p=0.1, g=5.0, J=0.2e-3,
                  tau=20e-3, theta=20e-3, v_reset=10e-3, refractory=2e-3, delay=1.5e-3, nu_ext_ratio=1.0,
                  dt=1e-4)
    n_exc = int(0.8 * n_neurons)
    with use_device(device, label="lif_network"):
        b2.start_scope()
        b2.defaultclock.dt = params["dt"] * b2.second
        b2.seed(int(rng.integers(2**31 - 1)))
        tau = params["tau"] * b2.second
        eqs = "dv/dt = -v/tau : volt (unless refractory)"
        group = b2.NeuronGroup(n_neurons, eqs, threshold="v > theta", reset="v = v_reset", method="exact",
                               refractory=params["refractory"] * b2.second, name="lif_neurons",
                               namespace={"tau": tau, "theta": params["theta"] * b2.volt,
                                          "v_reset": params["v_reset"] * b2.volt})
        group.v = "rand() * theta"
        J = params["J"] * b2.volt
        exc = b2.Synapses(group[:n_exc], group, on_pre="v_post += J_exc", delay=params["delay"] * b2.second,
                          name="exc_synapses", namespace={"J_exc": J})
        inh = b2.Synapses(group[n_exc:], group, on_pre="v_post -= J_inh", delay=params["delay"] * b2.second,
                          name="inh_synapses", namespace={"J_inh": params["g"] * J})
        exc.connect(p=params["p"])
        inh.connect(p=params["p"])
        c_ext = max(1, int(params["p"] * n_exc))
        nu_ext = params["nu_ext_ratio"] * params["theta"] / (params["J"] * c_ext * params["tau"])
        drive = b2.PoissonInput(group, "v", N=c_ext, rate=nu_ext * b2.Hz, weight=J)
        spikes = b2.SpikeMonitor(group, name="lif_spikes")
        volts = b2.StateMonitor(group, "v", record=list(range(min(record_v, n_neurons))), name="lif_v")
        net = b2.Network(group, exc, inh, drive, spikes, volts)
        net.run(duration * b2.second)
        trains = spikes.spike_trains()
        times = [np.asarray(trains[i] / b2.second) for i in range(n_neurons)]
        v = Traces(np.asarray(volts.v / b2.volt).T, rate=1.0 / params["dt"], unit="volts", name="v",
                   channels=[f"neuron {i}" for i in range(volts.v.shape[0])])
    populations = {
        "exc": SpikeTrains(times[:n_exc], unit_ids=range(n_exc), start=0.0, end=duration, name="exc"),
        "inh": SpikeTrains(times[n_exc:], unit_ids=range(n_exc, n_neurons), start=0.0, end=duration, name="inh"),
    }
    return populations, v, params


def calcium_from_spikes(spikes, *, rate=30.0, tau_decay=0.5, noise=0.05, seed=0):
    """Calcium-like fluorescence (time × neurons) from spike counts: exponential kernel plus Gaussian noise."""
    rng = check_random_state(seed)
    counts = spikes.count(1.0 / rate).data.astype(float)
    kernel = np.exp(-np.arange(int(5 * tau_decay * rate)) / (tau_decay * rate))
    trace = np.stack([np.convolve(c, kernel)[: len(c)] for c in counts.T], axis=1)
    trace += noise * rng.standard_normal(trace.shape)
    return Traces(trace, rate=rate, start=spikes.start, unit="a.u.", name="calcium")


def write_lif_network(path, **kwargs):
    """Simulate and write the network to NWB (spikes by population, membrane potentials, parameters)."""
    populations, v, params = simulate_lif_network(**kwargs)
    return write_simulation(path, spikes=populations, traces={"v": v}, parameters=params,
                            description="Brunel-style E/I LIF network (neurosuite built-in circuit)",
                            resolution=params["dt"])
