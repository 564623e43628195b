"""The Brian2 reservoir: heterogeneous Izhikevich-2003 network, cue/stimulus inputs, three-factor readouts.

All plasticity is written as Brian2 equations (clock-driven synaptic ODEs gated by TimedArrays), so the same
network runs on the runtime device and on C++ standalone without a Python callback per step.  Objects have
stable names, connectivity is drawn in NumPy from the seed, and sweepable scalars (learning rates, gate
threshold) are shared group variables, so a compiled standalone project can be re-run with ``run_args``.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from neurodata.errors import InvalidInputError
from neurodata.utils import check_option, check_random_state, logger

from ..backends import DEVICES, import_brian2, use_device
from .noise import thalamic_gauss_function
from .params import InputParams, ReadoutParams, ReservoirParams

_PROFILE = False
_TAUS = ("fast", "mid", "slow")  # the traces' time scales


def _decays(trace, tau="tau_{}"):
    """Equations of one trace per time scale decaying exponentially (``{}`` in the names is the scale).

    The population and template sums mirror the neurons' own traces step for step, so all are written by this one
    function: they cannot drift apart."""
    return "".join(f"d{trace.format(s)}/dt = -{trace.format(s)}/{tau.format(s)} : 1\n" for s in _TAUS)


def _linked(names):
    """Declarations of variables linked to another group's (one per name)."""
    return "".join(f"{name} : 1 (linked)\n" for name in names)


IZHIKEVICH_EQS = """
dv/dt = (0.04*v**2 + 5*v + 140 - u + I_noise)/ms : 1
du/dt = a*(b*v - u)/ms : 1
I_noise : 1
a : 1 (constant)
b : 1 (constant)
c : 1 (constant)
d : 1 (constant)
noise_sd : 1 (constant)
"""
RESET = "v = c; u += d"
# What the readouts read of each of their presynaptic (excitatory) neurons: spike traces, running rate, held cue
# response, and the "when" accumulator.  Only the readouts' inputs carry these (a separate group), so at large N
# the reservoir's other neurons update v and u alone.
READOUT_INPUT_EQS = _decays("x_{}") + """dr/dt = -r/tau_rate : 1
c_fast = x_fast - r*tau_fast/tau_rate : 1
c_mid = x_mid - r*tau_mid/tau_rate : 1
c_slow = x_slow - r*tau_slow/tau_rate : 1
dm/dt = early(t)*(c_slow - m)/tau_hold : 1
# the readouts' "when" accumulator of this presynaptic neuron and what it reads (ACCUMULATE)
acc_fast : 1
acc_mid : 1
acc_slow : 1
""" + _linked(("gain_sum", "mean_fast", "mean_mid", "mean_slow"))
READOUT_INPUT_RESET = "; x_fast += 1; x_mid += 1; x_slow += 1; r += 1"

# Population statistics of the excitatory traces, shared by all readouts: the mean of each centred trace over
# the population (subtracted from every feature: a global, inhibition-like normalisation that removes the
# population-wide transient, the largest eigen-direction of the features and the one that limits the stable
# learning rate) and the squared norm |c|^2 = sum_j sum_tau c_tau,j^2 that normalises the updates.  All are
# population traces driven by every spike of the readouts' inputs, with the same Euler decay on the reservoir
# clock as the neurons' own traces, so they equal the sums over neurons to rounding without a loop over neurons
# every step:
# the means X, R (jump 1/Nr, Nr the readouts' inputs), and the second moments Sxx = sum x^2, Sxr = sum x*r,
# Srr = sum r^2, which decay by the square (product) of the traces' Euler factors (effective time constants
# tau_*_sq below) and jump by what a spike adds to x^2, x*r, r^2 (2x+1, x+r+1, 2r+1, with x and r before the
# spike's own jump).
POPULATION_EQS = (_decays("X_{}") + "dR/dt = -R/tau_rate : 1\n" + _decays("Sxx_{}", "tau_{}_sq")
                  + _decays("Sxr_{}", "tau_{}_rate") + "dSrr/dt = -Srr/tau_rate_sq : 1\n")
POPULATION_ON_SPIKE = ("X_fast_post += 1/n_pop; X_mid_post += 1/n_pop; X_slow_post += 1/n_pop; R_post += 1/n_pop\n"
                       "Sxx_fast_post += 2*x_fast_pre + 1; Sxx_mid_post += 2*x_mid_pre + 1; "
                       "Sxx_slow_post += 2*x_slow_pre + 1\n"
                       "Sxr_fast_post += x_fast_pre + r_pre + 1; Sxr_mid_post += x_mid_pre + r_pre + 1; "
                       "Sxr_slow_post += x_slow_pre + r_pre + 1\n"
                       "Srr_post += 2*r_pre + 1")
CUE_NORM = "norm_m_post = m_pre**2 : 1 (summed)"
_POPULATION_TRACES = ("X_fast", "X_mid", "X_slow", "R", "Sxx_fast", "Sxx_mid", "Sxx_slow", "Sxr_fast", "Sxr_mid",
                      "Sxr_slow", "Srr")
# one-neuron group on the readout clock: the population means (read by the readouts and the accumulators), the
# norm |f|^2 = |c|^2 - Nr*sum_tau <c_tau>^2 (read by the readouts) and the sum of the readouts' "when" gains (read
# by the accumulators)
SHARED_EQS = """
mean_fast : 1
mean_mid : 1
mean_slow : 1
gain_sum : 1
norm_c : 1
sq_c = """ + " + ".join(f"Sxx_{tau} - 2*k_{tau}*Sxr_{tau} + k_{tau}**2*Srr"
                                         for tau in _TAUS) + """ : 1
""" + _linked(_POPULATION_TRACES)

# The "when" template of readout k is z_k = g_k sum_tau,j w_k,tau,j f_tau,j / sqrt(|f|^2 + 1) with
# f = x - r*tau/tau_rate - <c>.  Its weights change only at cue onsets, so between them the sums Z = sum_j w x and
# RW = sum_j w r are traces too (jump w_k,tau,j when neuron j spikes, decay with x and r) and W = sum_j w is
# constant: sum_tau Z_tau - RW_tau*tau/tau_rate - <c_tau>*W_tau, a few operations per spike instead of a sum over
# every synapse every ms.  At a cue onset w moves by beta*(acc - w), and so do Z, RW and W (by the sums of acc*x,
# acc*r and acc over the neurons).
# what the accumulated change adds to Z, RW and W, summed over the neurons once per trial period
_TEMPLATE_CHANGE = ("AX_fast", "AX_mid", "AX_slow", "AR_fast", "AR_mid", "AR_slow", "A1_fast", "A1_mid", "A1_slow")
TEMPLATE_EQS = _decays("Z_{}") + _decays("RW_{}", "tau_rate") + """W_fast : 1
W_mid : 1
W_slow : 1
opened : 1
n_learned : 1
beta : 1
eta_when : 1 (shared, constant)
""" + _linked(_TEMPLATE_CHANGE)
WHEN_SYN_EQS = "w_fast : 1\nw_mid : 1\nw_slow : 1"
WHEN_ON_SPIKE = ("Z_fast_post += w_fast; Z_mid_post += w_mid; Z_slow_post += w_slow; "
                 "RW_fast_post += w_fast; RW_mid_post += w_mid; RW_slow_post += w_slow")
TEMPLATE_CHANGE_EQS = ("AX_fast_post = acc_fast_pre*x_fast_pre : 1 (summed)\n"
                       "AX_mid_post = acc_mid_pre*x_mid_pre : 1 (summed)\n"
                       "AX_slow_post = acc_slow_pre*x_slow_pre : 1 (summed)\n"
                       "AR_fast_post = acc_fast_pre*r_pre : 1 (summed)\n"
                       "AR_mid_post = acc_mid_pre*r_pre : 1 (summed)\n"
                       "AR_slow_post = acc_slow_pre*r_pre : 1 (summed)\n"
                       "A1_fast_post = acc_fast_pre : 1 (summed)\n"
                       "A1_mid_post = acc_mid_pre : 1 (summed)\n"
                       "A1_slow_post = acc_slow_pre : 1 (summed)")
_TEMPLATE_SUMS = ("Z_fast", "Z_mid", "Z_slow", "RW_fast", "RW_mid", "RW_slow", "W_fast", "W_mid", "W_slow")
APPLY_TEMPLATE = ("n_learned += int(opened > 0)\n"
                  "beta = int(opened > 0)*clip(1.0/clip(n_learned, 1, inf), eta_when, 1)\n"
                  + "\n".join(f"{total}_{tau} += beta*({change}_{tau} - {total}_{tau})"
                              for total, change in (("Z", "AX"), ("RW", "AR"), ("W", "A1"))
                              for tau in ("fast", "mid", "slow")))
APPLY_GAIN = "g += beta*(S_sz - g*S_zz)/(S_zz + int(S_zz <= 0))"
APPLY_WEIGHTS = ("w_fast += beta_post*(acc_fast_pre - w_fast); w_mid += beta_post*(acc_mid_pre - w_mid); "
                 "w_slow += beta_post*(acc_slow_pre - w_slow)")

READOUT_EQS = """
z_raw : 1
z = g*z_raw : 1
g : 1
S_sz : 1
S_zz : 1
beta : 1 (linked)
A_w : 1 (linked)
dA_what : 1
gamma_what : 1 (linked)
A = A_w + dA_what + b_what : 1
y = clip(A, 0, inf)*z*(1 - early(t)) : 1
mean_fast : 1 (linked)
mean_mid : 1 (linked)
mean_slow : 1 (linked)
norm_c : 1 (linked)
norm_m : 1 (linked)
s = target(t, i) : 1
o = outcome(t, i) : 1
G = gate(t, i) : 1
gain_when : 1
gain_what : 1
db_what/dt = gain_what/ms : 1
eta_what : 1 (shared, constant)
""" + _linked(_TEMPLATE_SUMS)

# Three-factor rules (the reservoir has no feedback from the readouts; all factors are Brian2 variables):
#   "when" (online, instar):  on a trial whose outcome k is delivered, the template moves a step beta towards
#                      the normalised network state at the outcome: dw_j = beta * sum_t M(t) G(t) (fh_j(t) - w_j),
#                      M = s the outcome event (Gaussian at the delivered outcome), G the attention gate (scaled
#                      so that sum_t M G = 1 per trial), fh = f/sqrt(|f|^2 + 1) with f_pre = c_pre - <c> the
#                      presynaptic trace centred in time (c = x - running mean) and across the population (<c>,
#                      see POPULATION_EQS).  The Hebbian part sum_t M G fh_j is accumulated during the trial
#                      and applied with the decay at the next cue onset (weights are fixed within a trial).
#                      beta = max(eta_when, 1/n) after the n-th attended trial: a running mean over the first
#                      1/eta_when outcomes, then an exponential one that forgets an old latency in a few trials
#                      (the delta rule's template moved along the small-variance directions that tell 200 from
#                      300 ms only after ~50 trials; the instar is not slowed by them).  At most one readout
#                      attends per trial (one outcome per trial), so the accumulator is kept per presynaptic
#                      neuron, driven by the sum of the readouts' gains (the others' are exactly 0), and given at
#                      the cue onset to the readout whose gate opened: Nr instead of K*Nr updates per ms.
#   gain (error-modulated):   z = g * w.fh.  The signed prediction error of the outcome event, s - z, weighted by
#                      the same M G and by z/g, moves g by the same beta towards the least-squares gain of the
#                      trial, g += beta * (sum s z_raw MG - g sum z_raw^2 MG) / sum z_raw^2 MG, so z peaks near
#                      1 at the outcome for every identity (a state that recurs less exactly, at long latencies,
#                      matches its template less and would otherwise read as a less likely outcome).
#   output:           y = [A]_+ z once the held cue response m has formed (after the early window): before that
#                      A still reads the previous trial's cue, so latencies must exceed early_ms.
#   "what" (offline): in the ITI, dv/dt = eta_what * (o - A) * C(t) * m_pre / (|m|^2 + 1), m_pre the cue
#                      response held from the first 100 ms of the trial, o = 1 if outcome k occurred.
# Order within Brian2's "groups" slot (every factor reads the traces as the previous step left them; the
# accumulator reads the reservoir after its own update):
#   at a cue onset: the accumulated "when" change summed over neurons (-10), beta and Z/RW/W (-8), w and g
#                   (-7), the "what" change to w_what (-7), accumulators and gate flags cleared (-6);
#   every ms:       POPULATION_MEANS (-5), TEMPLATE z (-4) (every 10 ms: |m|^2 and A_w summed, -4),
#                   population and template traces decay (-2, reservoir clock), reservoir update (0), GAINS (1),
#                   gains summed for the neurons (2), accumulator update (3).
POPULATION_MEANS = ("mean_fast = X_fast - R*tau_fast/tau_rate\nmean_mid = X_mid - R*tau_mid/tau_rate\n"
                    "mean_slow = X_slow - R*tau_slow/tau_rate\n"
                    "norm_c = sq_c - n_pop*(mean_fast**2 + mean_mid**2 + mean_slow**2)")
TEMPLATE = ("z_raw = ((Z_fast - RW_fast*k_fast - mean_fast*W_fast) + (Z_mid - RW_mid*k_mid - mean_mid*W_mid) "
            "+ (Z_slow - RW_slow*k_slow - mean_slow*W_slow))/sqrt(norm_c + 1)")
GAINS = ("gain_when = s*G/sqrt(norm_c + 1)\n"
         "S_sz += s*G*s*z_raw\nS_zz += s*G*z_raw**2\n"
         "gain_what = eta_what*(o - A)*consolidate(t)/(norm_m + 1)\n"
         "gamma_what += gain_what\n"
         "dA_what += gain_what*norm_m")
ACCUMULATE = ("acc_fast += gain_sum*(c_fast - mean_fast)\nacc_mid += gain_sum*(c_mid - mean_mid)\n"
              "acc_slow += gain_sum*(c_slow - mean_slow)")
# "what" weights: w_what_j changes only in the ITI, where m is held, by gain_what(t)*m_j every ms; so the change is
# accumulated per readout (gamma_what = sum of gain_what) and applied at the next cue onset, while A follows it
# exactly meanwhile (dA_what += gain_what*|m|^2, the change of sum_j w_what_j m_j).  The sum A_w = sum_j w_what_j m_j
# itself is then needed only after the early window (m formed): every 10 ms, like |m|^2.
WHAT_EQS = "A_w : 1\ngamma_what : 1"
WHAT_SYN_EQS = "w_what : 1\nA_w_post = w_what*m_pre : 1 (summed)"


def _trace_constants(reservoir):
    """Namespace constants of the population second moments and the template: k_tau = tau/tau_rate, and the
    time constants whose Euler factor on the reservoir clock is the square (product) of the traces' factors."""
    from brian2 import ms
    dt = reservoir.dt_ms
    taus = dict(zip(("fast", "mid", "slow"), reservoir.tau_traces_ms))
    q_rate = 1 - dt / reservoir.tau_rate_ms
    out = dict(tau_rate_sq=dt / (1 - q_rate ** 2) * ms)
    for name, tau in taus.items():
        q = 1 - dt / tau
        out[f"k_{name}"] = tau / reservoir.tau_rate_ms
        out[f"tau_{name}_sq"] = dt / (1 - q ** 2) * ms
        out[f"tau_{name}_rate"] = dt / (1 - q * q_rate) * ms
    return out


def _check_one_attended_outcome_per_trial(gate, period_ms):
    """The shared per-neuron accumulator needs at most one readout attending per trial period."""
    n_periods = -(-gate.shape[0] // period_ms)
    padded = np.zeros((n_periods * period_ms, gate.shape[1]))
    padded[:gate.shape[0]] = gate
    attending = (padded.reshape(n_periods, period_ms, -1) > 0).any(axis=1).sum(axis=1)
    if attending.max(initial=0) > 1:
        raise InvalidInputError(f"The paradigm opens the attention gate of {attending.max()} readouts in one trial "
                                "period; the readouts' shared accumulator allows at most one outcome per trial.")


def izhikevich_2003_parameters(n_neurons, frac_exc, rng):
    """Heterogeneous a, b, c, d of Izhikevich (2003): E a=.02 b=.2 c=-65+15r^2 d=8-6r^2; I a=.02+.08r b=.25-.05r
    c=-65 d=2, with r ~ U(0,1) per neuron."""
    n_exc = int(round(frac_exc * n_neurons))
    re = rng.random(n_exc)
    ri = rng.random(n_neurons - n_exc)
    a = np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * ri])
    b = np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * ri])
    c = np.concatenate([-65 + 15 * re ** 2, np.full(ri.size, -65.0)])
    d = np.concatenate([8 - 6 * re ** 2, np.full(ri.size, 2.0)])
    return n_exc, a, b, c, d


def reservoir_connectivity(params, rng):
    """Sparse random E/I connectivity (pre, post, weight).

    Each neuron receives ``in_degree`` = p*N inputs (p*1000 when ``fixed_in_degree`` and N > 1000), drawn
    without replacement and without autapses.  Weights follow Izhikevich (2003), E: w_exc*U(0,1), I:
    -w_inh*U(0,1), scaled by 1000/in_degree so the mean drive equals the dense 1000-neuron original.
    Synapses are returned sorted by presynaptic neuron: a spike then reads its synapses from one contiguous
    block (2.5x faster propagation at N=1e4 than the scattered post-major order; no synapse pair repeats, so the
    order in which a neuron's inputs are summed, and hence every spike train, is unchanged).
    """
    n = params.n_neurons
    n_exc = int(round(params.frac_exc * n))
    k = int(round(params.p_connect * (min(n, 1000) if params.fixed_in_degree else n)))
    k = max(1, min(k, n - 1))
    pre = np.empty((n, k), dtype=np.int32)
    for post in range(n):  # rejection of the autapse: draw from N-1 and shift
        chosen = rng.choice(n - 1, size=k, replace=False)
        chosen[chosen >= post] += 1
        pre[post] = chosen
    post = np.repeat(np.arange(n, dtype=np.int32), k)
    pre = pre.ravel()
    scale = 1000.0 / k
    u = rng.random(pre.size)
    w = np.where(pre < n_exc, params.w_exc * u, -params.w_inh * u) * scale
    order = np.argsort(pre, kind="stable")
    return pre[order], post[order], w[order]


def input_connectivity(n_inputs, n_targets, p, rng):
    """Each input neuron projects to a random fraction p of the reservoir."""
    mask = rng.random((n_inputs, n_targets)) < p
    pre, post = np.nonzero(mask)
    return pre.astype(np.int32), post.astype(np.int32)


@dataclass
class SimulationResult:
    """What a reservoir run produced (times in s, arrays time-first)."""
    paradigm: object
    params: dict
    spike_i: np.ndarray
    spike_t: np.ndarray
    n_neurons: int
    n_exc: int
    n_readout_inputs: int                 # the readouts read reservoir neurons 0..n_readout_inputs-1 (excitatory)
    readout_t: np.ndarray = None          # (T,) s
    readout_y: np.ndarray = None          # (T, K) prediction y_k = A_k z_k
    readout_z: np.ndarray = None          # (T, K) "when" template z_k
    readout_A: np.ndarray = None          # (T, K) "what" gain A_k
    readout_s: np.ndarray = None          # (T, K) teacher (outcome events)
    weight_t: np.ndarray = None           # (S,) s
    w_when: np.ndarray = None             # (S, K, 3, Nr) timing weights on the fast, mid, slow centred traces
    w_what: np.ndarray = None             # (S, K, Nr) gain weights on the held cue response m
    final_w_when: np.ndarray = None       # (K, 3, Nr)
    final_w_what: np.ndarray = None       # (K, Nr)
    final_b_what: np.ndarray = None       # (K,) gain bias
    final_g: np.ndarray = None            # (K,) "when" gain
    cue_spikes: tuple = None              # (indices, times s)
    stimulus_spikes: tuple = None
    wall_time_s: float = None
    extras: dict = field(default_factory=dict)


def trial_window_indices(paradigm, dt_ms=1.0):
    """(n_trials, n_samples) sample indices of every trial window (cue onset + trial_ms) on a dt_ms grid."""
    starts = np.round(paradigm.trials.cue_time.to_numpy() * 1e3 / dt_ms).astype(int)
    return starts[:, None] + np.arange(int(round(paradigm.trial_ms / dt_ms)))[None]


def simulate(paradigm, *, reservoir=ReservoirParams(), inputs=InputParams(), readout=ReadoutParams(),
             noise=True, plasticity=True, record_readout=True, record_weights=True, seed=0,
             device="runtime", threads=None, directory=None, target=None, initial_weights=None):
    """Run the reservoir + readouts on ``paradigm`` and return a :class:`SimulationResult`.

    ``device`` is a :func:`neurosim.backends.use_device` name; ``noise=False`` removes the thalamic noise
    (deterministic run); ``plasticity=False`` freezes the readouts.  ``initial_weights`` =
    (w_when, w_what, b_what, g), shapes (K, 3, Nr), (K, Nr), (K,) and (K,) with Nr the readouts' fan-in (a result's
    final_w_when, final_w_what, final_b_what, final_g), continues from a previous run: the templates then move by
    eta_when per outcome from the first one on (no running mean from scratch).  The readouts read reservoir neurons
    0..Nr-1, Nr = min(excitatory neurons, ``reservoir.readout_fan_in``).
    """
    check_option(device, "device", DEVICES)
    drawn = _draw_network(paradigm, reservoir, inputs, readout, noise, seed, initial_weights)
    params = dict(reservoir=reservoir, inputs=inputs, readout=readout, noise=noise, plasticity=plasticity,
                  seed=seed, device=device)
    # build, run and collect are functions of their own: Brian2 also resolves names in the caller's locals, which
    # must not shadow the equations' names (every name is in the groups' namespaces, and run gets namespace={})
    with use_device(device, directory=directory, threads=threads, target=target, label="reservoir") as dev:
        b2 = import_brian2()
        net, handles = _build(b2, drawn, reservoir, inputs, readout, noise=noise, plasticity=plasticity,
                              record_readout=record_readout, record_weights=record_weights)
        wall = _run(b2, net, paradigm.duration_ms, dev)
        result = _collect(b2, drawn, handles, paradigm, params, wall)
    logger.info("reservoir: %.1f s simulated in %.1f s wall on %s", paradigm.duration_ms / 1e3, wall, device)
    return result


@dataclass(frozen=True)
class _DrawnNetwork:
    """What ``simulate`` draws in NumPy from its seed before Brian2 is touched (the same on every device)."""
    noise_seed: int
    n: int
    n_exc: int
    n_read: int            # the readouts read neurons 0..n_read-1 (excitatory, in random order)
    k_id: int              # outcome identities = readouts
    neurons: dict          # a, b, c, d, v0, noise_sd by reservoir index
    recurrent: tuple       # (pre, post, w), sorted by pre
    cue: tuple             # (spike indices, spike times ms, synapse pre, synapse post)
    stimulus: tuple        # the same for the outcome stimuli
    control: dict          # the paradigm's 1 ms teacher, gate and window arrays
    period_ms: float       # trial + ITI: the clock of the changes made at cue onsets
    initial: tuple         # readout state (w_when, w_what, b_what, g, n_learned)


def _draw_network(paradigm, reservoir, inputs, readout, noise, seed, initial_weights):
    """Check the parameters and draw the network, its inputs and the readouts' initial state."""
    n = reservoir.n_neurons
    if n < 10:
        raise InvalidInputError(f"The 'n_neurons' parameter of ReservoirParams must be >= 10. Got {n} instead.")
    fan_in = reservoir.readout_fan_in
    if not isinstance(fan_in, (int, np.integer)) or fan_in < 1:
        raise InvalidInputError("The 'readout_fan_in' parameter of ReservoirParams must be an int >= 1. "
                                f"Got {fan_in!r} instead.")
    rng = check_random_state(seed)
    net_seed = int(rng.integers(2 ** 31))
    res_rng = np.random.default_rng(net_seed)
    # the order of the draws below fixes every seeded result: keep it
    n_exc, a, b, c, d = izhikevich_2003_parameters(n, reservoir.frac_exc, res_rng)
    n_read = min(n_exc, int(fan_in))
    pre, post, w = reservoir_connectivity(reservoir, res_rng)
    v0 = -65.0 + 5.0 * res_rng.random(n)       # spread initial states (same on every device)
    k_id = paradigm.n_identities
    cue_idx, cue_tms = paradigm.input_spikes(inputs.n_per_cue, inputs.cue_rate_hz, res_rng)
    stim_idx, stim_tms = paradigm.stimulus_spikes(inputs.n_per_stimulus, inputs.stimulus_jitter_ms, res_rng)
    cue_pre, cue_post = input_connectivity(k_id * inputs.n_per_cue, n, inputs.p_input, res_rng)
    stim_pre, stim_post = input_connectivity(k_id * inputs.n_per_stimulus, n, inputs.p_input, res_rng)
    ctrl = paradigm.control_arrays(readout.target_width_ms, dt_ms=1.0, early_ms=reservoir.early_ms,
                                   attention_after_ms=readout.attention_after_ms)
    period_ms = paradigm.trial_ms + paradigm.iti_ms
    _check_one_attended_outcome_per_trial(ctrl["gate"], int(round(period_ms)))
    noise_sd = np.where(np.arange(n) < n_exc, reservoir.noise_exc, reservoir.noise_inh) * (1.0 if noise else 0.0)
    return _DrawnNetwork(
        noise_seed=net_seed % (2 ** 31 - 1), n=n, n_exc=n_exc, n_read=n_read, k_id=k_id,
        neurons=dict(a=a, b=b, c=c, d=d, v0=v0, noise_sd=noise_sd), recurrent=(pre, post, w),
        cue=(cue_idx, cue_tms, cue_pre, cue_post), stimulus=(stim_idx, stim_tms, stim_pre, stim_post),
        control=ctrl, period_ms=period_ms,
        initial=_initial_readout_state(initial_weights, k_id, n_read, readout.eta_when))


def _initial_readout_state(initial_weights, k_id, n_read, eta_when):
    """(w_when, w_what, b_what, g, n_learned) to start from: zero weights, unit gains, or a previous run's."""
    if initial_weights is None:
        return np.zeros((k_id, 3, n_read)), np.zeros((k_id, n_read)), np.zeros(k_id), np.ones(k_id), 0.0
    if len(initial_weights) != 4:
        raise InvalidInputError("initial_weights must be (w_when, w_what, b_what, g); got "
                                f"{len(initial_weights)} arrays instead.")
    w_when0, w_what0, b0, g0 = (np.asarray(x, float) for x in initial_weights)
    want = ((k_id, 3, n_read), (k_id, n_read), (k_id,), (k_id,))
    if (w_when0.shape, w_what0.shape, b0.shape, g0.shape) != want:
        raise InvalidInputError(f"initial_weights must have the shapes {want}; got {w_when0.shape}, "
                                f"{w_what0.shape}, {b0.shape} and {g0.shape}.")
    return w_when0, w_what0, b0, g0, np.ceil(1.0 / eta_when)   # past the running-mean phase


def _build(b2, drawn, reservoir, inputs, readout, *, noise, plasticity, record_readout, record_weights):
    """The Brian2 network of ``drawn`` (inside the active device); returns it and what ``_collect`` reads."""
    ms = b2.ms
    b2.start_scope()
    b2.defaultclock.dt = reservoir.dt_ms * ms
    ctrl = drawn.control
    namespace = dict(
        tau_fast=reservoir.tau_traces_ms[0] * ms, tau_mid=reservoir.tau_traces_ms[1] * ms,
        tau_slow=reservoir.tau_traces_ms[2] * ms, tau_rate=reservoir.tau_rate_ms * ms,
        tau_hold=reservoir.tau_hold_ms * ms, n_pop=float(drawn.n_read),
        early=b2.TimedArray(ctrl["early"], dt=1 * ms, name="ta_early"),
        gate=b2.TimedArray(ctrl["gate"] * (1.0 if plasticity else 0.0), dt=1 * ms, name="ta_gate"),
        consolidate=b2.TimedArray(ctrl["consolidate"] * (1.0 if plasticity else 0.0), dt=1 * ms,
                                  name="ta_consolidate"),
        target=b2.TimedArray(ctrl["target"], dt=1 * ms, name="ta_target"),
        **_trace_constants(reservoir),
        thalamic_gauss=thalamic_gauss_function(), noise_seed=drawn.noise_seed,
        outcome=b2.TimedArray(ctrl["outcome"], dt=1 * ms, name="ta_outcome"),
    )
    parts, objects, spike_monitors, (cue, stim) = _build_reservoir(b2, drawn, namespace, inputs, noise)
    readouts, readout_objects = _build_readouts(b2, drawn, namespace, parts[0][3], readout)
    cue_mon = b2.SpikeMonitor(cue, name="cue_spikes")
    stim_mon = b2.SpikeMonitor(stim, name="stimulus_spikes")
    objects += readout_objects + [cue, stim, cue_mon, stim_mon]
    handles = dict(readouts, parts=parts, spike_monitors=spike_monitors, cue_mon=cue_mon, stim_mon=stim_mon)
    n_syn = drawn.n_read * drawn.k_id
    period = drawn.period_ms * ms
    if record_readout:
        handles["rmon"] = b2.StateMonitor(readouts["out"], ["y", "z", "A", "s"], record=True, dt=1 * ms,
                                          name="readout_monitor")
        objects.append(handles["rmon"])
    if record_weights:
        from brian2.utils.logger import catch_logs

        # every synapse is recorded (n_syn = all of them); standalone devices cannot check synaptic indices
        # before the run and warn that they cannot: that one warning is dropped, any other is passed on
        with catch_logs() as caught:
            handles["wmon"] = b2.StateMonitor(readouts["when_syn"], ["w_fast", "w_mid", "w_slow"],
                                              record=np.arange(n_syn), dt=period, name="weight_monitor")
            handles["what_mon"] = b2.StateMonitor(readouts["ro"], "w_what", record=np.arange(n_syn), dt=period,
                                                  name="what_weight_monitor")
        for level, name, message in caught:
            if not name.endswith("cannot_check_statemonitor_indices"):
                logger.warning("%s: %s", name, message)
        objects += [handles["wmon"], handles["what_mon"]]
    return b2.Network(*objects, name="reservoir_network"), handles


def _build_reservoir(b2, drawn, namespace, inputs, noise):
    """The Izhikevich neurons, their recurrent synapses and the cue and stimulus inputs.

    Returns the parts (tag, name suffix, reservoir slice, group), the objects to run, the spike monitors and the
    (cue, stimulus) generators."""
    ms, n, n_read, k_id = b2.ms, drawn.n, drawn.n_read, drawn.k_id
    nrn = drawn.neurons
    # Two groups with the same neurons: the readouts' inputs (neurons 0..n_read-1, with their traces) and the
    # rest (v and u only).  Synapses stay sorted by presynaptic index and their pathways run in name order
    # (cue inputs, then from the readouts' inputs, then from the rest), so every neuron sums its inputs in the
    # same order as in one group: the split changes no spike.
    # (tag, name suffix, neurons, equations, reset) of each group
    groups = [("read", "", slice(0, n_read), IZHIKEVICH_EQS + READOUT_INPUT_EQS, RESET + READOUT_INPUT_RESET)]
    if n > n_read:
        groups.append(("rest", "_rest", slice(n_read, n), IZHIKEVICH_EQS, RESET))
    parts, objects, spike_monitors = [], [], []
    for tag, suffix, part, eqs, reset in groups:
        name = f"reservoir{suffix}"
        group = b2.NeuronGroup(part.stop - part.start, eqs, threshold="v >= 30", reset=reset, method="euler",
                               namespace=dict(namespace, first_index=part.start), name=name)
        group.a, group.b, group.c, group.d = nrn["a"][part], nrn["b"][part], nrn["c"][part], nrn["d"][part]
        group.v = nrn["v0"][part]
        group.u = nrn["b"][part] * nrn["v0"][part]
        group.noise_sd = nrn["noise_sd"][part]
        if noise:
            # Izhikevich (2003) redraws the thalamic input once per ms; drawn by the neuron's reservoir index
            objects.append(group.run_regularly(
                "I_noise = noise_sd*thalamic_gauss(i + first_index, int(t/ms + 0.5), noise_seed)",
                dt=1 * ms, name=f"{name}_noise"))
        parts.append((tag, suffix, part, group))
        spike_monitors.append(b2.SpikeMonitor(group, name=f"{name}_spikes"))
    objects += [group for *_, group in parts] + spike_monitors
    pre, post, w = drawn.recurrent
    for tag, _, part, group in parts:
        out_of = (pre >= part.start) & (pre < part.stop)
        objects += _connect_into(b2, parts, group, pre[out_of] - part.start, post[out_of], w[out_of],
                                 "w : 1 (constant)", "v_post += w", f"reservoir_syn_from_{tag}")
    cue_idx, cue_tms, cue_pre, cue_post = drawn.cue
    cue = b2.SpikeGeneratorGroup(k_id * inputs.n_per_cue, cue_idx, cue_tms * ms, name="cue_input")
    objects += _connect_into(b2, parts, cue, cue_pre, cue_post, None, "", f"v_post += {inputs.w_input!r}",
                             "cue_syn")
    stim_idx, stim_tms, stim_pre, stim_post = drawn.stimulus
    stim = b2.SpikeGeneratorGroup(k_id * inputs.n_per_stimulus, stim_idx, stim_tms * ms, name="stimulus_input")
    if inputs.stimulus_to_reservoir:
        objects += _connect_into(b2, parts, stim, stim_pre, stim_post, None, "", f"v_post += {inputs.w_input!r}",
                                 "stimulus_syn")
    return parts, objects, spike_monitors, (cue, stim)


def _connect_into(b2, parts, source, syn_pre, syn_post, weights, model, on_pre, prefix):
    """Synapses from ``source`` into each reservoir group (``syn_post`` in reservoir indices)."""
    made = []
    for _, suffix, part, group in parts:
        into = (syn_post >= part.start) & (syn_post < part.stop)
        if into.any():
            syn = b2.Synapses(source, group, model, on_pre=on_pre, name=f"{prefix}{suffix}")
            syn.connect(i=syn_pre[into], j=syn_post[into] - part.start)
            if weights is not None:
                syn.w = weights[into]
            made.append(syn)
    return made


def _build_readouts(b2, drawn, namespace, res, readout):
    """The readouts, the population statistics they read and their plasticity, reading the group ``res``.

    Returns the handles ``_collect`` reads and the objects to run."""
    ms, n_read, k_id = b2.ms, drawn.n_read, drawn.k_id
    w_when0, w_what0, b0, g0, n_learned0 = drawn.initial
    # readouts and their plasticity on a 1 ms clock (the teacher and gates are 1 ms TimedArrays): half the cost;
    # the population and template traces follow the reservoir clock (they mirror the neurons' traces step for
    # step); the changes of the "when" weights happen on a clock of one trial period, at the cue onsets
    period = drawn.period_ms * ms
    zero = np.zeros(k_id, dtype=int)
    pop = b2.NeuronGroup(1, POPULATION_EQS, method="euler", namespace=namespace, name="readout_population",
                         order=-2)
    pop_syn = b2.Synapses(res, pop, on_pre=POPULATION_ON_SPIKE, namespace=namespace,
                          name="readout_population_syn")
    pop_syn.connect()
    cue_norm = b2.NeuronGroup(1, "norm_m : 1", name="readout_norm_m", dt=10 * ms, order=-3)
    cue_norm_syn = b2.Synapses(res, cue_norm, CUE_NORM, namespace=namespace, name="readout_norm_m_syn")
    cue_norm_syn.connect()
    change = b2.NeuronGroup(1, "\n".join(f"{name} : 1" for name in _TEMPLATE_CHANGE),
                            name="readout_template_change", dt=period, order=-9)
    change_syn = b2.Synapses(res, change, TEMPLATE_CHANGE_EQS, namespace=namespace,
                             name="readout_template_change_syn")
    change_syn.connect()
    out = b2.NeuronGroup(k_id, READOUT_EQS, method="euler", namespace=namespace, name="readout", dt=1 * ms)
    template = b2.NeuronGroup(k_id, TEMPLATE_EQS, method="euler", namespace=namespace, name="readout_template",
                              order=-2)
    when_syn = b2.Synapses(res, template, WHEN_SYN_EQS, on_pre=WHEN_ON_SPIKE, namespace=namespace,
                           name="readout_when_syn")
    when_syn.connect()  # all-to-all; synapse order in Brian2 is pre-major: index = pre*K + post
    for n_tau, name in enumerate(("w_fast", "w_mid", "w_slow")):
        setattr(when_syn, name, w_when0[:, n_tau].T.ravel())
        setattr(template, "W" + name[1:], w_when0[:, n_tau].sum(axis=1))  # Z and RW start at 0 with the traces
    shared = b2.NeuronGroup(1, SHARED_EQS, namespace=namespace, name="readout_shared", dt=1 * ms, order=3)
    for name in _POPULATION_TRACES:
        setattr(shared, name, b2.linked_var(pop, name))
    gain_sum_syn = b2.Synapses(out, shared, "gain_sum_post = gain_when_pre : 1 (summed)",
                               name="readout_gain_sum_syn")  # runs at order shared.order - 1 = 2
    gain_sum_syn.connect()
    for name in ("mean_fast", "mean_mid", "mean_slow"):
        setattr(out, name, b2.linked_var(shared, name, index=zero))
        setattr(res, name, b2.linked_var(shared, name))
    res.gain_sum = b2.linked_var(shared, "gain_sum")
    out.norm_c = b2.linked_var(shared, "norm_c", index=zero)
    for name in _TEMPLATE_SUMS:
        setattr(out, name, b2.linked_var(template, name))
    out.norm_m = b2.linked_var(cue_norm, "norm_m", index=zero)
    what = b2.NeuronGroup(k_id, WHAT_EQS, name="readout_what", dt=10 * ms, order=-3)
    out.A_w = b2.linked_var(what, "A_w")
    out.gamma_what = b2.linked_var(what, "gamma_what")
    for name in _TEMPLATE_CHANGE:
        setattr(template, name, b2.linked_var(change, name, index=zero))
    template.eta_when = readout.eta_when
    out.beta = b2.linked_var(template, "beta")
    out.g = g0
    out.b_what = b0
    template.n_learned = n_learned0
    out.eta_what = readout.eta_what
    step = dict(dt=1 * ms, when="groups")
    at_onset = dict(dt=period, when="groups")
    code = [
        template.run_regularly(APPLY_TEMPLATE, order=-8, name="readout_apply_template", **at_onset),
        when_syn.run_regularly(APPLY_WEIGHTS, order=-7, name="readout_apply_when", **at_onset),
        out.run_regularly(APPLY_GAIN, order=-7, name="readout_apply_gain", **at_onset),
        out.run_regularly("S_sz = 0; S_zz = 0", order=-6, name="readout_clear_gain_sums", **at_onset),
        res.run_regularly("acc_fast = 0; acc_mid = 0; acc_slow = 0", order=-6, name="readout_clear_acc",
                          **at_onset),
        template.run_regularly("opened = 0", order=-6, name="readout_clear_opened", **at_onset),
        shared.run_regularly(POPULATION_MEANS, order=-5, name="readout_means", **step),
        out.run_regularly(TEMPLATE, order=-4, name="readout_template_sum", **step),
        out.run_regularly(GAINS, order=1, name="readout_gains", **step),
        template.run_regularly("opened += int(gate(t, i) > 0)", order=1, name="readout_attended", **step),
        res.run_regularly(ACCUMULATE, order=3, name="readout_accumulate", **step),
    ]
    ro = b2.Synapses(res, what, WHAT_SYN_EQS, namespace=namespace, name="readout_syn")
    ro.connect()  # same order as when_syn
    ro.w_what = w_what0.T.ravel()
    code += [ro.run_regularly("w_what += gamma_what_post*m_pre", order=-7, name="readout_apply_what", **at_onset),
             what.run_regularly("gamma_what = 0", order=-6, name="readout_clear_gamma", **at_onset),
             out.run_regularly("dA_what = 0", order=-6, name="readout_clear_dA", **at_onset)]
    objects = [pop, pop_syn, cue_norm, cue_norm_syn, change, change_syn, out, template, when_syn, shared,
               gain_sum_syn, what, *code, ro]
    return dict(out=out, when_syn=when_syn, what=what, ro=ro, res=res), objects


def _run(b2, net, duration_ms, dev):
    """Run the built network; return the wall time of the simulation alone."""
    t0 = time.perf_counter()
    net.run(duration_ms * b2.ms, namespace={}, profile=_PROFILE)
    wall = time.perf_counter() - t0
    # standalone: time of the compiled simulation alone (code generation and make are not simulation)
    return float(getattr(dev, "_last_run_time", None) or wall)


def _collect(b2, drawn, handles, paradigm, params, wall):
    """Read the monitors and the final readout state into a :class:`SimulationResult` (inside the device)."""
    n_read, k_id = drawn.n_read, drawn.k_id
    # one spike train over the reservoir's indices, in time order and by index within a step (as one group)
    spike_i = np.concatenate([np.asarray(mon.i[:], dtype=np.int64) + part.start
                              for mon, (_, _, part, _) in zip(handles["spike_monitors"], handles["parts"])])
    spike_t = np.concatenate([np.asarray(mon.t[:] / b2.second) for mon in handles["spike_monitors"]])
    order = np.lexsort((spike_i, spike_t))
    cue_mon, stim_mon = handles["cue_mon"], handles["stim_mon"]
    result = SimulationResult(
        paradigm=paradigm, params=params,
        spike_i=spike_i[order], spike_t=spike_t[order], n_neurons=drawn.n, n_exc=drawn.n_exc,
        n_readout_inputs=n_read, wall_time_s=wall,
        cue_spikes=(np.array(cue_mon.i[:]), np.asarray(cue_mon.t[:] / b2.second)),
        stimulus_spikes=(np.array(stim_mon.i[:]), np.asarray(stim_mon.t[:] / b2.second)))
    if "rmon" in handles:
        rmon = handles["rmon"]
        result.readout_t = np.asarray(rmon.t[:] / b2.second)
        result.readout_y = np.asarray(rmon.y[:]).T.copy()
        result.readout_z = np.asarray(rmon.z[:]).T.copy()
        result.readout_A = np.asarray(rmon.A[:]).T.copy()
        result.readout_s = np.asarray(rmon.s[:]).T.copy()
    if "wmon" in handles:
        wmon = handles["wmon"]
        result.weight_t = np.asarray(wmon.t[:] / b2.second)
        # monitor shape (synapses, samples); synapse index = pre*K + post
        result.w_when = np.stack([np.asarray(getattr(wmon, name)[:]).reshape(n_read, k_id, -1).transpose(2, 1, 0)
                                  for name in ("w_fast", "w_mid", "w_slow")], axis=2)
        result.w_what = (np.asarray(handles["what_mon"].w_what[:]).reshape(n_read, k_id, -1)
                         .transpose(2, 1, 0).copy())
    when_syn, what, ro, out = handles["when_syn"], handles["what"], handles["ro"], handles["out"]
    result.final_w_when = np.stack([np.asarray(getattr(when_syn, name)[:]).reshape(n_read, k_id).T
                                    for name in ("w_fast", "w_mid", "w_slow")], axis=1)
    # with the change accumulated since the last cue onset
    pending = np.asarray(what.gamma_what[:])[None, :] * np.asarray(handles["res"].m[:])[:, None]
    result.final_w_what = (np.asarray(ro.w_what[:]).reshape(n_read, k_id) + pending).T.copy()
    result.final_b_what = np.asarray(out.b_what[:]).copy()
    result.final_g = np.asarray(out.g[:]).copy()
    return result
