"""Brian2 neurons whose dendritic segments emit NMDA-like plateaus on coincident SDR input.

Model (Ahmad & Hawkins 2016; biophysical numbers where the paper is silent are in the model card
``models/ahmad_hawkins_2016.json`` and :class:`NeuronParams`):

* an input population of ``n`` cells carries one SDR (``a`` active cells) per presentation window; each
  active cell fires one spike early in the window;
* every neuron has ``n_segments`` segments; a segment has synapses onto a subsample of ``s`` cells of each
  pattern it stores (``patterns_per_segment`` patterns; several patterns = the union property);
* a segment counts the coincident active synapses in the window and, when the count reaches ``theta``,
  emits an NMDA plateau that depolarises its soma for the rest of the window (the "predictive" state);
* a feed-forward (proximal) drive then reaches every soma; predicted cells cross threshold first
  (short latency), the others later. A cell counts as predicted when its first spike comes before the
  midpoint of the two latencies, which is computed from the parameters.

Brian2 is imported only inside the functions that build and run the network.
"""
import math
import numbers
from dataclasses import asdict, dataclass, field

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.utils import check_option, check_random_state, check_scalar, logger

from .montecarlo import random_sdrs
from .theory import _check_count, log_p_false_positive, p_false_negative

__all__ = ["NeuronParams", "ActiveDendriteNeurons", "DendriteRun", "noisy_patterns"]


@dataclass(frozen=True)
class NeuronParams:
    """Soma and plateau parameters in SI units (seconds, volts). Defaults: models/ahmad_hawkins_2016.json."""

    tau_m: float = 10e-3          # membrane time constant
    v_rest: float = -70e-3        # resting (and window-start) potential
    v_threshold: float = -50e-3   # somatic spike threshold
    v_reset: float = -70e-3
    refractory: float = 2e-3
    plateau: float = 10e-3        # steady-state somatic depolarisation by one NMDA plateau
    ff_drive: float = 25e-3       # steady-state depolarisation by the feed-forward (proximal) input
    ff_onset: float = 2e-3        # feed-forward input starts this long after the window onset
    input_offset: float = 0.2e-3  # SDR spikes arrive in [offset, offset + jitter) after the window onset
    input_jitter: float = 1.0e-3
    period: float = 20e-3         # presentation window = NMDA integration window
    dt: float = 0.1e-3

    def latencies(self):
        """(predicted, unpredicted) worst-case first-spike latencies after feed-forward onset, in seconds."""
        gap = self.v_threshold - self.v_rest
        if self.ff_drive <= gap:
            raise InvalidInputError(f"The feed-forward drive ({self.ff_drive * 1e3:g} mV) must exceed the "
                                    f"threshold gap ({gap * 1e3:g} mV) or no cell would ever fire.")
        unpredicted = self.tau_m * math.log(self.ff_drive / (self.ff_drive - gap))
        drive = self.ff_drive + self.plateau
        # slowest predicted cell: its plateau starts at the latest input spike, just before ff onset
        late = self.input_offset + self.input_jitter + 2 * self.dt
        v0 = self.plateau * (1 - math.exp(-max(self.ff_onset - late, 0.0) / self.tau_m))
        predicted = self.tau_m * math.log((drive - v0) / (drive - gap))
        return predicted, unpredicted

    def decision_latency(self):
        """First-spike latency (after feed-forward onset) separating predicted from unpredicted cells."""
        predicted, unpredicted = self.latencies()
        if self.ff_onset + unpredicted >= self.period:
            raise InvalidInputError(f"Unpredicted cells fire {1e3 * (self.ff_onset + unpredicted):.1f} ms into a "
                                    f"{1e3 * self.period:g} ms window; lengthen 'period'.")
        return 0.5 * (predicted + unpredicted)


def noisy_patterns(patterns, n, v, seed=None):
    """Copies of ``patterns`` (rows of active-cell indices out of ``n``) with ``v`` cells each replaced.

    ``v`` random active cells of each row are switched off and ``v`` random cells that were inactive are
    switched on, so every row keeps ``a`` active cells (the paper's noise model).
    """
    rng = check_random_state(seed)
    patterns = np.asarray(patterns, dtype=np.int64)
    count, a = patterns.shape
    v = _check_count(v, "v", "noisy_patterns")
    if v > a or v > n - a:
        raise InvalidInputError(f"noisy_patterns: cannot replace v={v} of a={a} active cells out of n={n}.")
    out = np.sort(patterns, axis=1)
    keep = np.sort(np.argsort(rng.random((count, a)), axis=1)[:, v:], axis=1)
    ranks = random_sdrs(n - a, v, count, rng)
    incoming = ranks.copy()
    for col in range(a):  # map ranks among the inactive cells to cell indices
        incoming += incoming >= out[:, col:col + 1]
    return np.sort(np.concatenate([np.take_along_axis(out, keep, axis=1), incoming], axis=1), axis=1)


@dataclass
class DendriteRun:
    """What one simulation produced; rates are per presentation (rows) and per segment / neuron (columns)."""

    inputs: np.ndarray            # (P, a) active input cells of each presentation
    onsets: np.ndarray            # (P,) window onsets, s
    segment_active: np.ndarray    # (P, n_neurons * n_segments) NMDA plateau emitted in the window
    predicted: np.ndarray         # (P, n_neurons) first somatic spike before the decision latency
    first_spike: np.ndarray       # (P, n_neurons) first-spike latency after ff onset, s (nan: no spike)
    segment_spikes: tuple         # (indices, times) of all plateau events
    soma_spikes: tuple            # (indices, times) of all somatic spikes
    input_spikes: tuple           # (indices, times) of the input population
    v_trace: np.ndarray           # (time, recorded neurons) somatic potential, V
    v_times: np.ndarray
    v_neurons: np.ndarray
    params: dict = field(default_factory=dict)
    wall_seconds: float = float("nan")


class ActiveDendriteNeurons:
    """A group of neurons with NMDA-spiking dendritic segments that recognise SDRs (Brian2).

    Parameters (hyper-parameters only; validated in :meth:`learn`)
    ----------
    n_inputs, n_active : size ``n`` of the input population and cells ``a`` active per SDR.
    n_neurons, n_segments : neurons and segments per neuron.
    n_synapses : synapses ``s`` a segment forms onto each pattern it stores (a subsample of its a cells).
    theta : NMDA threshold (coincident active synapses needed for a plateau).
    patterns_per_segment : patterns ``m`` stored on each segment (``m > 1``: the union property).
    params : :class:`NeuronParams` (soma, plateau, timing).
    target : Brian2 runtime code-generation target, "numpy" (no compiler) or "cython".
    seed : int or numpy Generator for patterns, subsampling and input timing.
    """

    def __init__(self, *, n_inputs=1000, n_active=40, n_neurons=50, n_segments=10, n_synapses=20, theta=10,
                 patterns_per_segment=1, params=None, target="numpy", seed=None):
        self.n_inputs = n_inputs
        self.n_active = n_active
        self.n_neurons = n_neurons
        self.n_segments = n_segments
        self.n_synapses = n_synapses
        self.theta = theta
        self.patterns_per_segment = patterns_per_segment
        self.params = params
        self.target = target
        self.seed = seed

    # ------------------------------------------------------------------------------------------------------
    def _validate(self):
        owner = type(self).__name__
        for name, low in (("n_inputs", 1), ("n_active", 1), ("n_neurons", 1), ("n_segments", 1),
                          ("n_synapses", 1), ("theta", 1), ("patterns_per_segment", 1)):
            check_scalar(getattr(self, name), name, owner, kind=numbers.Integral, low=low)
        if self.n_active > self.n_inputs:
            raise InvalidInputError(f"{owner}: n_active={self.n_active} exceeds n_inputs={self.n_inputs}.")
        if self.n_synapses > self.n_active:
            raise InvalidInputError(f"{owner}: a segment subsamples its patterns, so n_synapses="
                                    f"{self.n_synapses} cannot exceed n_active={self.n_active}.")
        if self.theta > self.n_synapses:
            raise InvalidInputError(f"{owner}: theta={self.theta} exceeds n_synapses={self.n_synapses}; "
                                    f"no segment could recognise its own pattern.")
        if self.params is not None and not isinstance(self.params, NeuronParams):
            raise InvalidInputError(f"{owner}: params must be a NeuronParams. Got {type(self.params).__name__}.")
        check_option(self.target, "target", ("numpy", "cython"))
        p = self.params or NeuronParams()
        p.decision_latency()
        return p

    def learn(self, patterns=None):
        """Grow the segments: each stores ``patterns_per_segment`` patterns by subsampling ``n_synapses`` cells.

        ``patterns``: optional int array (n_neurons, n_segments, m, a) of active cells; random SDRs by default.
        Sets ``stored_patterns_``, ``segment_synapses_`` (list of sorted cell arrays, one per segment, neuron-
        major) and ``segment_size_`` (distinct synapses per segment).
        """
        self.params_ = self._validate()
        self.rng_ = check_random_state(self.seed)
        N, K, m, a, n = self.n_neurons, self.n_segments, self.patterns_per_segment, self.n_active, self.n_inputs
        if patterns is None:
            patterns = random_sdrs(n, a, N * K * m, self.rng_).reshape(N, K, m, a)
        else:
            patterns = np.asarray(patterns, dtype=np.int64)
            if patterns.shape != (N, K, m, a) or patterns.min() < 0 or patterns.max() >= n:
                raise InvalidInputError(f"patterns must be cell indices in [0, {n}) of shape {(N, K, m, a)}; got "
                                        f"shape {patterns.shape}.")
        self.stored_patterns_ = patterns
        flat = patterns.reshape(N * K * m, a)
        pick = np.argsort(self.rng_.random(flat.shape), axis=1)[:, :self.n_synapses]
        sub = np.take_along_axis(flat, pick, axis=1).reshape(N * K, m * self.n_synapses)
        self.segment_synapses_ = [np.unique(row) for row in sub]
        self.segment_size_ = np.array([len(r) for r in self.segment_synapses_])
        return self

    # ------------------------------------------------------------------------------------------------------
    def theory_false_positive(self):
        """Per-segment P_FP for a random pattern, from each segment's actual synapse count (exact)."""
        self._check_learned()
        return np.exp(log_p_false_positive(self.n_inputs, self.n_active, self.segment_size_, self.theta))

    def theory_neuron_false_positive(self):
        """Per-neuron probability that at least one segment matches a random pattern (segments independent)."""
        p = self.theory_false_positive().reshape(self.n_neurons, self.n_segments)
        return -np.expm1(np.log1p(-p).sum(axis=1))

    def theory_false_negative(self, v):
        """P_FN of a segment storing one pattern when ``v`` of its a cells are replaced (independent of n)."""
        return p_false_negative(self.n_active, self.n_synapses, self.theta, v)

    def _check_learned(self):
        if not hasattr(self, "segment_synapses_"):
            raise InvalidInputError(f"This {type(self).__name__} has no segments yet; call learn() first.")

    # ------------------------------------------------------------------------------------------------------
    def present(self, inputs, *, record_v=4, verbose=False):
        """Simulate one window per row of ``inputs`` (int array (P, a) of active input cells).

        Returns a :class:`DendriteRun`. ``record_v`` neurons have their somatic potential recorded.
        """
        import time

        from neurosim.backends import import_brian2, use_device

        self._check_learned()
        inputs = np.asarray(inputs, dtype=np.int64)
        if inputs.ndim != 2 or inputs.shape[0] < 1 or inputs.min() < 0 or inputs.max() >= self.n_inputs:
            raise InvalidInputError(f"inputs must be a (presentations, active cells) int array of cell indices "
                                    f"in [0, {self.n_inputs}); got shape {inputs.shape}.")
        b2 = import_brian2()
        p = self.params_
        N, K, P = self.n_neurons, self.n_segments, inputs.shape[0]
        u = b2.units
        onsets = np.arange(P) * p.period
        # input spike times: window onset + offset + jitter, on the simulation grid
        steps = np.round((onsets[:, None] + p.input_offset
                          + self.rng_.random(inputs.shape) * p.input_jitter) / p.dt).astype(np.int64)
        order = np.lexsort((inputs.ravel(), steps.ravel()))
        in_idx, in_steps = inputs.ravel()[order], steps.ravel()[order]
        keep = np.ones(len(in_idx), dtype=bool)  # a cell active twice in one step would be one spike
        keep[1:] = (in_idx[1:] != in_idx[:-1]) | (in_steps[1:] != in_steps[:-1])
        in_idx, in_times = in_idx[keep], in_steps[keep] * p.dt
        n_ff = int(round(p.period / p.dt))
        ff_window = (np.arange(n_ff) * p.dt >= p.ff_onset - 1e-12).astype(float)
        pre = np.concatenate(self.segment_synapses_)
        post = np.repeat(np.arange(N * K), self.segment_size_)
        t0 = time.perf_counter()
        with use_device("runtime", target=self.target):
            dt = p.dt * u.second
            ff = b2.TimedArray(np.tile(ff_window, P), dt=dt, name="dendrites_ff")
            source = b2.SpikeGeneratorGroup(self.n_inputs, in_idx, in_times * u.second, dt=dt,
                                            name="dendrites_input")
            segments = b2.NeuronGroup(
                N * K, "x : 1\nfired : boolean", threshold="x >= theta_nmda and not fired",
                reset="fired = True", dt=dt, name="dendrites_segments",
                namespace={"theta_nmda": float(self.theta)})
            segments.run_regularly("x = 0\nfired = False", dt=p.period * u.second, when="start",
                                   name="dendrites_segments_window")
            soma = b2.NeuronGroup(
                N, "dv/dt = (v_rest - v + d_dend + ff_drive * ff(t)) / tau_m : volt (unless refractory)\n"
                   "d_dend : volt",
                threshold="v > v_threshold", reset="v = v_reset", refractory=p.refractory * u.second,
                method="euler", dt=dt, name="dendrites_soma",
                namespace={"v_rest": p.v_rest * u.volt, "ff_drive": p.ff_drive * u.volt, "ff": ff,
                           "tau_m": p.tau_m * u.second, "v_threshold": p.v_threshold * u.volt,
                           "v_reset": p.v_reset * u.volt})
            soma.v = p.v_rest * u.volt
            soma.run_regularly("v = v_rest\nd_dend = 0*mV", dt=p.period * u.second, when="start",
                               name="dendrites_soma_window")
            dendritic = b2.Synapses(source, segments, on_pre="x_post += 1", dt=dt, name="dendrites_synapses")
            dendritic.connect(i=pre, j=post)
            plateau = b2.Synapses(segments, soma, on_pre="d_dend_post = plateau_amp", dt=dt,
                                  name="dendrites_plateau", namespace={"plateau_amp": p.plateau * u.volt})
            plateau.connect(i=np.arange(N * K), j=np.arange(N * K) // K)
            seg_mon = b2.SpikeMonitor(segments, name="dendrites_segment_spikes")
            soma_mon = b2.SpikeMonitor(soma, name="dendrites_soma_spikes")
            record = np.arange(min(int(record_v), N))
            v_mon = b2.StateMonitor(soma, "v", record=record, dt=dt, name="dendrites_v") if record.size else None
            net = b2.Network(source, segments, soma, dendritic, plateau, seg_mon, soma_mon,
                             *([v_mon] if v_mon is not None else []), name="dendrites_network")
            net.run(P * p.period * u.second, report="text" if verbose else None)
            # copies: from brian2 2.10 a monitor's index array is a view of memory the monitor frees, so
            # np.asarray(mon.i[:]) read garbage once the network was gone (dividing t by a unit copies already)
            seg_i, seg_t = np.array(seg_mon.i[:], dtype=np.int32), np.asarray(seg_mon.t[:] / u.second)
            soma_i, soma_t = np.array(soma_mon.i[:], dtype=np.int32), np.asarray(soma_mon.t[:] / u.second)
            if v_mon is not None:
                v_trace, v_times = np.asarray(v_mon.v[:] / u.volt).T, np.asarray(v_mon.t[:] / u.second)
            else:
                v_trace, v_times = np.zeros((0, 0)), np.zeros(0)
        wall = time.perf_counter() - t0
        logger.info("dendrites: %d windows of %d neurons x %d segments simulated in %.1f s", P, N, K, wall)

        window = lambda t: np.minimum((t / p.period + 1e-9).astype(np.int64), P - 1)  # noqa: E731
        segment_active = np.zeros((P, N * K), dtype=bool)
        segment_active[window(seg_t), seg_i] = True
        first = np.full((P, N), np.nan)
        lat = soma_t - onsets[window(soma_t)] - p.ff_onset
        for w_, i_, l_ in sorted(zip(window(soma_t), soma_i, lat), key=lambda r: -r[2]):
            first[w_, i_] = l_  # sorted descending, so the earliest spike of each window wins
        predicted = np.nan_to_num(first, nan=np.inf) < p.decision_latency()
        return DendriteRun(inputs=inputs, onsets=onsets, segment_active=segment_active, predicted=predicted,
                           first_spike=first, segment_spikes=(seg_i, seg_t), soma_spikes=(soma_i, soma_t),
                           input_spikes=(in_idx, in_times), v_trace=v_trace, v_times=v_times,
                           v_neurons=record, params=self.get_params() | {"neuron": asdict(p)},
                           wall_seconds=wall)

    def get_params(self):
        return {k: getattr(self, k) for k in ("n_inputs", "n_active", "n_neurons", "n_segments", "n_synapses",
                                              "theta", "patterns_per_segment", "target")}
