"""A NeuronIO-like data set from our own Brian2 neuron: 1278 Poisson inputs onto NMDA-spiking dendrites.

The ELM paper fits the input-output map of a detailed L5 pyramidal cell (NeuronIO, Beniaguev et al. 2021),
which is not available here. This module builds the equivalent from a reduced neuron whose dendrites are
genuinely nonlinear, so that a linear model of its input cannot match it:

* ``n_segments`` dendritic compartments, each coupled to the soma by ``g_couple``. Excitatory synapses
  carry AMPA and NMDA conductances; the NMDA current is voltage-gated by the Mg2+ block
  ``1 / (1 + [Mg] / 3.57 mM * exp(-0.062 v / mV))`` (Jahr & Stevens 1990), so enough coincident input
  onto one segment flips it into a self-sustained depolarised plateau lasting about the NMDA decay time;
  GABA-A synapses shunt it. Input ``i`` of each half (excitatory ``i``, inhibitory ``639 + i``) sits on
  segment ``i * n_segments // 639``: neighbouring inputs share a segment, as in NeuronIO's ordering.
* a leaky integrate-and-fire soma with spike-triggered adaptation, driven only through the segments.
* inputs: 639 excitatory and 639 inhibitory Poisson trains at 1 ms resolution whose rates vary slowly in
  time (an Ornstein-Uhlenbeck log-rate per segment and population, plus a shared one) and so across
  dendritic locations.

Soma voltage (sampled each 1 ms) and soma spikes are recorded; :func:`write_neuron_data` writes inputs,
soma and spikes to NWB through the spine, :func:`read_neuron_data` reads them back as 1 ms arrays. Brian2 is
imported only inside the functions that run the neuron.
"""
import math
import numbers
import time
from dataclasses import asdict, dataclass, fields

import numpy as np

from neurodata.errors import DataFileError, InvalidInputError, NWBContentError
from neurodata.utils import check_random_state, check_scalar, logger

__all__ = ["NeuronIOParams", "NeuronData", "make_input_spikes", "simulate_neuron", "write_neuron_data",
           "read_neuron_data", "N_INPUTS", "N_EXCITATORY"]

N_EXCITATORY = 639
N_INPUTS = 2 * N_EXCITATORY  # 1278, NeuronIO's input count


@dataclass(frozen=True)
class NeuronIOParams:
    """Neuron and input parameters (SI units). Defaults: ``models/spieler_2023_elm.json`` ("neuron")."""

    n_segments: int = 20
    # membrane
    c_soma: float = 100e-12
    g_leak_soma: float = 5e-9
    c_dend: float = 30e-12
    g_leak_dend: float = 1.5e-9
    g_couple: float = 5e-9
    e_leak: float = -70e-3
    v_threshold: float = -50e-3
    v_reset: float = -60e-3
    refractory: float = 2e-3
    tau_adapt: float = 100e-3
    b_adapt: float = 40e-12
    # synapses
    e_exc: float = 0.0
    e_inh: float = -75e-3
    tau_ampa: float = 2e-3
    tau_nmda: float = 60e-3
    tau_gaba: float = 8e-3
    w_ampa: float = 0.5e-9
    w_nmda: float = 1.5e-9
    w_gaba: float = 1.0e-9
    mg: float = 1.0  # mM
    # inputs
    rate_exc: float = 1.5   # Hz, median excitatory rate
    rate_inh: float = 2.0   # Hz, median inhibitory rate
    rate_sigma: float = 1.0  # SD of the log-rate fluctuations per segment
    rate_sigma_global: float = 0.4
    rate_tau: float = 0.3   # s, time constant of the rate fluctuations
    rate_max: float = 60.0  # Hz, cap
    # numerics
    dt: float = 0.1e-3
    bin_size: float = 1e-3

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise InvalidInputError(f"Unknown NeuronIOParams field(s) {sorted(unknown)}; allowed are {sorted(known)}.")
        return cls(**data)


def segment_of_inputs(n_segments):
    """Segment index of each of the 1278 inputs (excitatory 0..638, then inhibitory 0..638)."""
    half = np.arange(N_EXCITATORY) * n_segments // N_EXCITATORY
    return np.concatenate([half, half])


def _ou(rng, n_steps, n, tau, dt):
    """Unit-variance Ornstein-Uhlenbeck processes (n_steps, n) with time constant tau, started stationary."""
    from scipy.signal import lfilter

    a = math.exp(-dt / tau)
    noise = rng.standard_normal((n_steps, n)) * math.sqrt(1 - a * a)
    x0 = rng.standard_normal(n)
    return lfilter([1.0], [1.0, -a], noise, axis=0, zi=(a * x0)[None, :])[0]


def make_input_spikes(duration, params=NeuronIOParams(), seed=None):
    """Binned input spikes (n_bins, 1278) uint8 at ``params.bin_size``, and the rates (n_bins, 1278) in Hz.

    Log-rates per (segment, population) follow slow OU processes plus a shared one; each input inherits the
    rate of its segment times a fixed per-input gain (log-normal, SD 0.3). At most one spike per bin.
    """
    rng = check_random_state(seed)
    dt = params.bin_size
    n_bins = int(round(duration / dt))
    if n_bins < 1:
        raise InvalidInputError(f"duration must cover at least one {dt * 1e3:g} ms bin; got {duration!r} s.")
    seg = segment_of_inputs(params.n_segments)
    log_seg = params.rate_sigma * _ou(rng, n_bins, 2 * params.n_segments, params.rate_tau, dt)
    log_glob = params.rate_sigma_global * _ou(rng, n_bins, 1, params.rate_tau, dt)
    gain = np.exp(0.3 * rng.standard_normal(N_INPUTS) - 0.045)
    column = np.where(np.arange(N_INPUTS) < N_EXCITATORY, seg, seg + params.n_segments)  # which (segment, population) process drives each input
    base = np.where(np.arange(N_INPUTS) < N_EXCITATORY, params.rate_exc, params.rate_inh)
    spikes = np.empty((n_bins, N_INPUTS), dtype=np.uint8)
    chunk = 20000  # bins per chunk: keeps the float temporaries small for hour-long data
    for first in range(0, n_bins, chunk):
        sl = slice(first, min(first + chunk, n_bins))
        log_rate = log_seg[sl][:, column] + log_glob[sl] - 0.5 * (params.rate_sigma ** 2 + params.rate_sigma_global ** 2)
        rate = np.minimum(base * gain * np.exp(log_rate), params.rate_max)
        spikes[sl] = rng.random(rate.shape) < rate * dt
    return spikes


@dataclass
class NeuronData:
    """Binned inputs and outputs of the neuron at ``bin_size``: time first.

    inputs (n_bins, 1278) uint8 spike counts (excitatory first), soma_v (n_bins,) volts sampled each bin,
    spikes (n_bins,) uint8 soma spikes per bin, spike_times (s), params, plateau_fraction (fraction of
    segment-time above -40 mV, a check that the dendrites do work), seconds (simulation wall time).
    """

    inputs: np.ndarray
    soma_v: np.ndarray
    spikes: np.ndarray
    spike_times: np.ndarray
    params: NeuronIOParams
    bin_size: float
    plateau_fraction: float = float("nan")
    seconds: float = float("nan")

    @property
    def duration(self):
        return len(self.soma_v) * self.bin_size

    @property
    def rate(self):
        return float(self.spikes.sum() / self.duration)


def simulate_neuron(inputs, params=NeuronIOParams(), *, device="cpp_standalone", directory=None, target=None,
                    openmp_threads=None):
    """Drive the neuron with binned ``inputs`` (n_bins, 1278) and record soma voltage and spikes.

    Each input spike arrives at the start of its bin. Runs on a Brian2 device through
    ``neurosim.backends.use_device`` (``cpp_standalone`` builds once into a cached folder).
    Returns a :class:`NeuronData`.
    """
    from ..backends import import_brian2, use_device

    inputs = np.asarray(inputs)
    if inputs.ndim != 2 or inputs.shape[1] != N_INPUTS:
        raise InvalidInputError(f"inputs must be (n_bins, {N_INPUTS}) spike counts; got shape {inputs.shape}.")
    if inputs.shape[0] == 0:
        raise InvalidInputError("inputs are empty (no time bins).")
    p = params
    b2 = import_brian2()
    from brian2 import (Network, NeuronGroup, SpikeGeneratorGroup, SpikeMonitor, StateMonitor, Synapses,
                        linked_var, ms, mV, nS, pA, pF, second, volt)

    n_bins = inputs.shape[0]
    duration = n_bins * p.bin_size
    bins, channels = np.nonzero(inputs)
    times = bins * p.bin_size
    seg = segment_of_inputs(p.n_segments)
    tic = time.perf_counter()
    with use_device(device, directory=directory, target=target, threads=openmp_threads, label="elm_neuron"):
        b2.start_scope()
        b2.defaultclock.dt = p.dt * second
        ns = {"C_s": p.c_soma * b2.farad, "gL_s": p.g_leak_soma * b2.siemens, "C_d": p.c_dend * b2.farad,
              "gL_d": p.g_leak_dend * b2.siemens, "g_c": p.g_couple * b2.siemens, "E_L": p.e_leak * volt,
              "E_e": p.e_exc * volt, "E_i": p.e_inh * volt, "tau_a": p.tau_ampa * second,
              "tau_n": p.tau_nmda * second, "tau_g": p.tau_gaba * second, "tau_w": p.tau_adapt * second,
              "Mg": p.mg, "V_th": p.v_threshold * volt, "V_reset": p.v_reset * volt, "b_w": p.b_adapt * b2.amp}
        soma = NeuronGroup(1, """
            dv/dt = (gL_s * (E_L - v) + I_dend - w) / C_s : volt (unless refractory)
            dw/dt = -w / tau_w : amp
            I_dend : amp
            """, threshold="v > V_th", reset="v = V_reset; w += b_w", refractory=p.refractory * second,
            method="euler", namespace=ns, name="soma")
        soma.v = p.e_leak * volt
        dend = NeuronGroup(p.n_segments, """
            dv/dt = (gL_d * (E_L - v) + g_c * (v_soma - v) + g_ampa * (E_e - v)
                     + g_nmda * (E_e - v) / (1 + Mg / 3.57 * exp(-0.062 * v / mV)) + g_gaba * (E_i - v)) / C_d : volt
            dg_ampa/dt = -g_ampa / tau_a : siemens
            dg_nmda/dt = -g_nmda / tau_n : siemens
            dg_gaba/dt = -g_gaba / tau_g : siemens
            v_soma : volt (linked)
            """, method="euler", namespace=ns, name="dendrites")
        dend.v = p.e_leak * volt
        dend.v_soma = linked_var(soma, "v", index=np.zeros(p.n_segments, dtype=int))
        couple = Synapses(dend, soma, "I_dend_post = g_c * (v_pre - v_post) : amp (summed)", namespace=ns,
                          name="coupling")
        couple.connect(i=np.arange(p.n_segments), j=np.zeros(p.n_segments, dtype=int))
        gen = SpikeGeneratorGroup(N_INPUTS, channels.astype(np.int64), times * second, name="inputs")
        exc = Synapses(gen, dend, on_pre="g_ampa += w_a; g_nmda += w_n",
                       namespace={"w_a": p.w_ampa * b2.siemens, "w_n": p.w_nmda * b2.siemens}, name="exc")
        exc.connect(i=np.arange(N_EXCITATORY), j=seg[:N_EXCITATORY])
        inh = Synapses(gen, dend, on_pre="g_gaba += w_g", namespace={"w_g": p.w_gaba * b2.siemens}, name="inh")
        inh.connect(i=np.arange(N_EXCITATORY, N_INPUTS), j=seg[N_EXCITATORY:])
        v_mon = StateMonitor(soma, "v", record=0, dt=p.bin_size * second, name="soma_v")
        d_mon = StateMonitor(dend, "v", record=True, dt=10 * p.bin_size * second, name="dend_v")
        s_mon = SpikeMonitor(soma, name="soma_spikes")
        net = Network(soma, dend, couple, gen, exc, inh, v_mon, d_mon, s_mon)
        net.run(duration * second, namespace={})
        soma_v = np.asarray(v_mon.v[0] / volt, dtype=np.float64)[:n_bins]
        dend_v = np.asarray(d_mon.v / volt)
        spike_times = np.sort(np.asarray(s_mon.t / second, dtype=np.float64))
    seconds = time.perf_counter() - tic
    spikes = np.zeros(n_bins, dtype=np.uint8)
    idx = np.minimum((spike_times / p.bin_size + 1e-9).astype(np.int64), n_bins - 1)
    np.add.at(spikes, idx, 1)
    plateau = float(np.mean(dend_v > -40e-3)) if dend_v.size else float("nan")
    logger.info("ELM neuron: %.1f s simulated in %.1f s, %d soma spikes (%.2f Hz), plateau fraction %.3f",
                duration, seconds, len(spike_times), len(spike_times) / duration, plateau)
    return NeuronData(inputs=np.asarray(inputs, dtype=np.uint8), soma_v=soma_v, spikes=spikes,
                      spike_times=spike_times, params=p, bin_size=p.bin_size, plateau_fraction=plateau,
                      seconds=seconds)


def generate_neuron_data(train_duration=300.0, test_duration=60.0, params=NeuronIOParams(), *, seed=0,
                         device="cpp_standalone", directory=None, target=None, openmp_threads=None):
    """Inputs drawn with ``seed`` and the neuron's response, one continuous run of train + test seconds.

    Returns ``(data, split)``: a :class:`NeuronData` and ``{"train": (0, t1), "test": (t1, t1 + t2)}`` in s.
    The test block is the last, contiguous part (the house splits by time blocks).
    """
    check_scalar(train_duration, "train_duration", "generate_neuron_data", low=params.bin_size)
    check_scalar(test_duration, "test_duration", "generate_neuron_data", low=0.0)
    inputs = make_input_spikes(train_duration + test_duration, params, seed=seed)
    data = simulate_neuron(inputs, params, device=device, directory=directory, target=target,
                           openmp_threads=openmp_threads)
    split = {"train": (0.0, float(train_duration)),
             "test": (float(train_duration), float(train_duration + test_duration))}
    return data, split


def write_neuron_data(path, data, split, *, seed=None, overwrite=False):
    """Write inputs, soma voltage and soma spikes to NWB through the spine (``neurodata.io.write_simulation``).

    Inputs and soma spikes are ``Units`` (populations ``excitatory``, ``inhibitory``, ``soma``; inputs carry
    their ``segment``), the soma voltage is the acquisition TimeSeries ``soma_v`` (V, 1 kHz), the split is the
    ``epochs`` table (``tags`` train/test) and all parameters are stored as JSON.
    """
    import pandas as pd

    from neurodata.io import Intervals, SpikeTrains, Traces, write_simulation

    p = data.params
    end = data.duration
    channel, bins = np.nonzero(data.inputs.T)
    bounds = np.searchsorted(channel, np.arange(N_INPUTS + 1))
    times = [(bins[bounds[i]:bounds[i + 1]] * p.bin_size).astype(np.float64) for i in range(N_INPUTS)]
    seg = segment_of_inputs(p.n_segments)
    spikes = {}
    for name, sl in (("excitatory", slice(0, N_EXCITATORY)), ("inhibitory", slice(N_EXCITATORY, N_INPUTS))):
        ids = list(range(N_INPUTS))[sl]
        meta = pd.DataFrame({"population": name, "segment": seg[sl].astype(int), "input_index": ids})
        spikes[name] = SpikeTrains(times[sl], unit_ids=ids, metadata=meta, start=0.0, end=end, name=name)
    spikes["soma"] = SpikeTrains([data.spike_times], unit_ids=[N_INPUTS],
                                 metadata=pd.DataFrame({"population": ["soma"], "segment": [-1],
                                                        "input_index": [-1]}), start=0.0, end=end, name="soma")
    traces = {"soma_v": Traces(data.soma_v[:, None], rate=1.0 / p.bin_size, unit="V", name="soma_v",
                               channels=["soma"])}
    intervals = {"epochs": Intervals(np.array([split["train"][0], split["test"][0]]),
                                     np.array([split["train"][1], split["test"][1]]),
                                     table=pd.DataFrame({"split": ["train", "test"]}), name="epochs")}
    parameters = {"model": "neurosim.elm.neuron", "neuron": p.to_dict(), "seed": seed, "split": split,
                  "plateau_fraction": data.plateau_fraction, "soma_rate_hz": data.rate}
    return write_simulation(path, spikes=spikes, traces=traces, intervals=intervals, parameters=parameters,
                            description="NeuronIO-like data: Brian2 neuron with NMDA-spiking dendrites "
                                        "(neurosim.elm.neuron)", resolution=p.bin_size, overwrite=overwrite)


def read_neuron_data(path):
    """Read a file of :func:`write_neuron_data` back: ``(data, split)`` with 1 ms binned arrays."""
    from neurodata.io import open_nwb, read_intervals, read_spikes

    spikes = read_spikes(path)
    meta = spikes.metadata
    if "population" not in meta.columns or "input_index" not in meta.columns:
        raise NWBContentError(f"{path}: its Units table lacks the population/input_index columns of an ELM "
                              f"neuron data file (written by neurosim elm data).")
    with open_nwb(path) as nwb:
        if "soma_v" not in nwb.acquisition:
            raise NWBContentError(f"{path}: no acquisition TimeSeries 'soma_v' (an ELM neuron data file has one).")
        series = nwb.acquisition["soma_v"]
        soma_v = np.asarray(series.data[:], dtype=np.float64).reshape(len(series.data), -1)[:, 0]
        bin_size = 1.0 / float(series.rate)
    n_bins = soma_v.size
    inputs = np.zeros((n_bins, N_INPUTS), dtype=np.uint8)
    soma_times = None
    pop = meta["population"].astype(str).to_numpy()
    index = meta["input_index"].astype(int).to_numpy()
    for j, t in enumerate(spikes.times):
        b = np.minimum((np.asarray(t) / bin_size + 1e-6).astype(np.int64), n_bins - 1)
        if pop[j] == "soma":
            soma_times = np.asarray(t, dtype=np.float64)
        else:
            np.add.at(inputs[:, index[j]], b, 1)
    if soma_times is None:
        raise NWBContentError(f"{path}: no 'soma' unit in its Units table.")
    out = np.zeros(n_bins, dtype=np.uint8)
    np.add.at(out, np.minimum((soma_times / bin_size + 1e-6).astype(np.int64), n_bins - 1), 1)
    epochs = read_intervals(path).get("epochs")
    split = {}
    if epochs is not None and "split" in epochs.table.columns:
        for name, a, b in zip(epochs.table["split"], epochs.start, epochs.stop):
            split[str(name)] = (float(a), float(b))
    params = NeuronIOParams.from_dict(_provenance(path).get("neuron", {}))
    return NeuronData(inputs=inputs, soma_v=soma_v, spikes=out, spike_times=soma_times, params=params,
                      bin_size=bin_size), split


def _provenance(path):
    """The parameters the spine stored in the file (read through ``neurodata.io.read_results``)."""
    from neurodata.io import read_results

    return read_results(path).parameters
