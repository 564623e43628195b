"""A small built-in circuit: a sparse random E/I network of leaky integrate-and-fire neurons (Brunel 2000,
regime of asynchronous irregular firing), used by the demo when no recordings are at hand and as a quick
end-to-end check of the Brian2 → NWB path.
"""
import contextlib
import hashlib
import json

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.io import SpikeTrains, Traces, write_simulation
from neurodata.utils import announce_waits, check_output_path, check_random_state, check_scalar

from .backends import claim_build_directory, import_brian2, use_device


def simulate_lif_network(n_neurons=200, duration=1.0, *, seed=0, device="runtime", record_v=5, g=5.0, J=0.2e-3,
                         nu_ext_ratio=1.0, tau=20e-3, theta=20e-3, v_reset=10e-3, p=0.1, delay=1.5e-3,
                         refractory=2e-3, target=None):
    """Run a Brunel-style E/I LIF network; return ({"exc": SpikeTrains, "inh": SpikeTrains}, v Traces, params).

    80 % excitatory, 20 % inhibitory, connection probability ``p`` = 0.1, relative inhibition ``g`` = 5
    (inhibition dominated), PSP ``J`` = 0.2 mV, external Poisson drive at ``nu_ext_ratio`` times the threshold
    rate, dt = 0.1 ms (Brunel 2000, model A; SI units: s, V). ``target`` is the runtime code-generation target.
    """
    check_scalar(n_neurons, "n_neurons", "simulate_lif_network", kind=int, low=10)
    check_scalar(duration, "duration", "simulate_lif_network", low=0.0, low_inclusive=False)
    _check_lif_parameters("simulate_lif_network", g=g, J=J, nu_ext_ratio=nu_ext_ratio, tau=tau, theta=theta,
                          v_reset=v_reset, p=p, delay=delay, refractory=refractory)
    params = dict(n_neurons=n_neurons, duration=duration, seed=seed, device=device, p=p, g=g, J=J,
                  tau=tau, theta=theta, v_reset=v_reset, refractory=refractory, delay=delay,
                  nu_ext_ratio=nu_ext_ratio, dt=1e-4)
    return _simulate_lif(params, check_random_state(seed), record_v, target)


def _simulate_lif(params, rng, record_v, target):
    # a function of its own: Brian2 also resolves names in the caller's locals, which must not shadow them
    b2 = import_brian2()
    n_neurons, duration, device = params["n_neurons"], params["duration"], params["device"]
    n_exc = int(0.8 * n_neurons)
    with use_device(device, label="lif_network", target=target):
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
        net.run(duration * b2.second, namespace={})  # every name is in the groups' own namespaces
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


def write_lif_network(path, *, overwrite=False, **kwargs):
    """Simulate and write the network to a new NWB file (spikes by population, membrane potentials,
    parameters); ``kwargs`` go to :func:`simulate_lif_network`. An existing ``path`` raises
    ``OutputExistsError`` unless ``overwrite=True`` (checked before simulating)."""
    check_output_path(path, overwrite=overwrite, suffix=".nwb")
    populations, v, params = simulate_lif_network(**kwargs)
    return write_simulation(path, spikes=populations, traces={"v": v}, parameters=params,
                            description="Brunel-style E/I LIF network (neurosuite built-in circuit)",
                            resolution=params["dt"], overwrite=overwrite)


def _check_lif_parameters(owner, **values):
    """Validate the network's physical parameters (SI floats) with the house message."""
    positive = ("J", "tau", "theta", "delay", "p")
    for name, value in values.items():
        if name in positive:
            check_scalar(value, name, owner, low=0.0, low_inclusive=False, high=1.0 if name == "p" else None)
        elif name in ("g", "nu_ext_ratio", "refractory"):
            check_scalar(value, name, owner, low=0.0)
        elif name == "v_reset":
            check_scalar(value, name, owner)
    if "v_reset" in values and "theta" in values and values["v_reset"] >= values["theta"]:
        raise InvalidInputError(f"The 'v_reset' parameter of {owner} must be below theta "
                                f"({values['theta']!r} V). Got {values['v_reset']!r} instead.")


def lif_metrics(populations):
    """Key numbers of one run: mean rate per population (Hz), mean CV of inter-spike intervals (neurons with
    at least 3 spikes), and the spike count."""
    metrics = {}
    for name, trains in populations.items():
        duration = trains.end - trains.start
        metrics[f"rate_{name}_hz"] = float(trains.n_spikes / (trains.n_units * duration))
        cvs = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in trains.times if len(t) >= 3]
        metrics[f"cv_isi_{name}"] = float(np.mean(cvs)) if cvs else float("nan")
    metrics["n_spikes"] = int(sum(t.n_spikes for t in populations.values()))
    return metrics


# ------------------------------------------------------------------------------ compile once, run many
_COMPILED = {}         # structural parameters → CompiledLIFNetwork built in this process


class CompiledLIFNetwork:
    """The same E/I LIF network compiled once with Brian2's C++ standalone device and re-run per parameter set.

    Structural parameters (size, duration, connection probability, delay, refractory period, recorded
    neurons) are fixed at build time. The run parameters ``RUN_PARAMETERS`` and the seed are group variables
    set on the binary's command line (``device.run(run_args=...)``, brian2 >= 2.6), so a sweep compiles
    once per worker; each run writes its own results directory.

    The seed is read from a variable at the start of ``main`` and seeds Brian2's generators, so connectivity,
    initial potentials and the drive are drawn anew for every run from that run's seed. The external drive is
    the superposition of ``C_ext`` Poisson inputs — one Poisson count per time step with mean
    ``C_ext * nu_ext * dt`` (``simulate_lif_network`` draws the same process as a binomial of ``C_ext``
    inputs, at most one spike each per step; the rate is a run parameter here, so it cannot be a constant of a
    compiled binomial).
    """

    RUN_PARAMETERS = ("g", "J", "nu_ext_ratio", "tau", "theta", "v_reset")
    DEFAULTS = dict(g=5.0, J=0.2e-3, nu_ext_ratio=1.0, tau=20e-3, theta=20e-3, v_reset=10e-3)

    def __init__(self, n_neurons=200, duration=1.0, *, p=0.1, delay=1.5e-3, refractory=2e-3, record_v=5,
                 directory=None):
        owner = "CompiledLIFNetwork"
        check_scalar(n_neurons, "n_neurons", owner, kind=int, low=10)
        check_scalar(duration, "duration", owner, low=0.0, low_inclusive=False)
        check_scalar(record_v, "record_v", owner, kind=int, low=0)
        _check_lif_parameters(owner, p=p, delay=delay, refractory=refractory)
        self.structure = dict(n_neurons=n_neurons, duration=duration, p=p, delay=delay, refractory=refractory,
                              record_v=min(record_v, n_neurons), dt=1e-4)
        self.directory = directory
        self.compile_seconds = None
        self._device = None

    # the device is private to this object and active only inside this block, restored in finally
    @contextlib.contextmanager
    def _active(self):
        b2 = import_brian2()
        from brian2.devices.device import get_device, reset_device, set_device

        previous = get_device()
        saved = {key: b2.prefs[key] for key in ("codegen.target", "devices.cpp_standalone.openmp_threads")}
        set_device(self._device, build_on_run=False)
        try:
            with announce_waits("compiled LIF network (Brian2, cpp_standalone)"):
                yield b2
        finally:
            reset_device(previous)
            for key, value in saved.items():
                b2.prefs[key] = value

    def build(self):
        """Generate and compile the project once (``compile_seconds`` records how long that took)."""
        import time

        b2 = import_brian2()
        from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

        s = self.structure
        if self.directory is None:
            # one directory per structure, this process's own (two workers never share one; a later run
            # finds the project compiled)
            self.directory = claim_build_directory("cpp_standalone", "lif_sweep_" + _digest(s))
        self._device = CPPStandaloneDevice()
        n, n_exc = s["n_neurons"], int(0.8 * s["n_neurons"])
        t0 = time.perf_counter()
        with self._active():
            b2.prefs["devices.cpp_standalone.openmp_threads"] = 0  # one thread: results independent of cores
            self._device.defaultclock.dt = s["dt"] * b2.second
            eqs = """
            dv/dt = -v/tau : volt (unless refractory)
            tau : second (shared, constant)
            theta : volt (shared, constant)
            v_reset : volt (shared, constant)
            J_exc : volt (shared, constant)
            J_inh : volt (shared, constant)
            lam_ext : 1 (shared, constant)
            run_seed : 1 (shared, constant)
            """
            group = b2.NeuronGroup(n, eqs, threshold="v > theta", reset="v = v_reset", method="exact",
                                   refractory=s["refractory"] * b2.second, name="lif_neurons", namespace={})
            group.run_seed = 0
            self._device.apply_run_args()  # command-line values land here, before anything random is drawn
            array = self._device.get_array_name(group.variables["run_seed"])
            self._device.insert_code("main", f"brian::_random_generators[0].seed((unsigned long) brian::{array}[0]);")
            exc = b2.Synapses(group[:n_exc], group, on_pre="v_post += J_exc_post", delay=s["delay"] * b2.second,
                              name="exc_synapses", namespace={})
            inh = b2.Synapses(group[n_exc:], group, on_pre="v_post -= J_inh_post", delay=s["delay"] * b2.second,
                              name="inh_synapses", namespace={})
            exc.connect(p=s["p"])
            inh.connect(p=s["p"])
            group.v = "rand() * theta"
            drive = group.run_regularly("v += J_exc * poisson(lam_ext)", when="synapses", name="lif_drive")
            spikes = b2.SpikeMonitor(group, name="lif_spikes")
            volts = b2.StateMonitor(group, "v", record=list(range(s["record_v"])), name="lif_v")
            net = b2.Network(group, exc, inh, drive, spikes, volts, name="lif_network")
            net.run(s["duration"] * b2.second, namespace={})  # records the run; the build compiles it
            self._device.build(directory=self.directory, compile=True, run=False, with_output=False)
        self.compile_seconds = time.perf_counter() - t0
        self._objects = dict(group=group, spikes=spikes, volts=volts, n_exc=n_exc)
        return self

    def run_arguments(self, params, seed):
        """The run_args values (SI floats) of one run: physical parameters → group variables."""
        values = {**self.DEFAULTS, **params}
        unknown = sorted(set(values) - set(self.RUN_PARAMETERS))
        if unknown:
            raise InvalidInputError(f"CompiledLIFNetwork cannot change {unknown} without recompiling; run "
                                    f"parameters are {list(self.RUN_PARAMETERS)}.")
        _check_lif_parameters("CompiledLIFNetwork", **values)
        n_exc = int(0.8 * self.structure["n_neurons"])
        c_ext = max(1, int(self.structure["p"] * n_exc))
        nu_ext = values["nu_ext_ratio"] * values["theta"] / (values["J"] * c_ext * values["tau"])
        return values, dict(tau=values["tau"], theta=values["theta"], v_reset=values["v_reset"],
                            J_exc=values["J"], J_inh=values["g"] * values["J"],
                            lam_ext=c_ext * nu_ext * self.structure["dt"], run_seed=float(seed))

    def run(self, params=None, *, seed=0, results_directory="results"):
        """Run the compiled binary once; same return value as ``simulate_lif_network``.

        ``results_directory`` is relative to the project directory (Brian2's rule); give each run its own.
        """
        if self._device is None:
            self.build()
        check_scalar(seed, "seed", "CompiledLIFNetwork.run", kind=int, low=0, high=2**31 - 2)
        values, args = self.run_arguments(dict(params or {}), seed)
        s, o = self.structure, self._objects
        with self._active() as b2:
            group = o["group"]
            units = dict(tau=b2.second, theta=b2.volt, v_reset=b2.volt, J_exc=b2.volt, J_inh=b2.volt)
            self._device.run(results_directory=results_directory, with_output=False,
                             run_args={getattr(group, name): value * units.get(name, 1)
                                       for name, value in args.items()})
            trains = o["spikes"].spike_trains()
            times = [np.asarray(trains[i] / b2.second) for i in range(s["n_neurons"])]
            v = np.asarray(o["volts"].v / b2.volt).T
        n, n_exc, dur = s["n_neurons"], o["n_exc"], s["duration"]
        populations = {
            "exc": SpikeTrains(times[:n_exc], unit_ids=range(n_exc), start=0.0, end=dur, name="exc"),
            "inh": SpikeTrains(times[n_exc:], unit_ids=range(n_exc, n), start=0.0, end=dur, name="inh"),
        }
        traces = Traces(v, rate=1.0 / s["dt"], unit="volts", name="v",
                        channels=[f"neuron {i}" for i in range(v.shape[1])])
        params_out = dict(s, **values, seed=seed, device="cpp_standalone", compiled=True,
                          drive="poisson count per step")
        return populations, traces, params_out


def compiled_lif_network(**structure):
    """This process's compiled network for these structural parameters (built on first use, then reused)."""
    key = _digest(structure)
    net = _COMPILED.get(key)
    if net is None:
        net = _COMPILED[key] = CompiledLIFNetwork(**structure).build()
    return net


def _digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:12]


