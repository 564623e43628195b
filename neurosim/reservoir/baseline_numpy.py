"""Plain vectorised NumPy version of the same reservoir (Izhikevich's spnet loop), the benchmark baseline.

Same neurons, connectivity, inputs and Euler step as :mod:`neurosim.reservoir.network`; spikes are delivered
in the step after they occur through a CSR matrix (the spnet scheme: v += sum of weights of spiking inputs).
"""
import time

import numpy as np
import scipy.sparse as sp

from neurodata.utils import check_random_state

from .network import input_connectivity, izhikevich_2003_parameters, reservoir_connectivity
from .params import InputParams, ReservoirParams


def simulate_numpy(duration_ms, *, reservoir=ReservoirParams(), noise=True, seed=0, paradigm=None,
                   inputs=InputParams(), return_state=False):
    """Run the bare reservoir for ``duration_ms``; returns (spike_i, spike_t_s, wall_s).

    With ``paradigm`` the cue and stimulus inputs of that paradigm are delivered as in the Brian2 network.
    """
    rng = check_random_state(seed)
    net_seed = int(rng.integers(2 ** 31))
    res_rng = np.random.default_rng(net_seed)
    noise_rng = np.random.default_rng(net_seed + 1)
    n = reservoir.n_neurons
    n_exc, a, b, c, d = izhikevich_2003_parameters(n, reservoir.frac_exc, res_rng)
    pre, post, w = reservoir_connectivity(reservoir, res_rng)
    v = -65.0 + 5.0 * res_rng.random(n)
    u = b * v
    # W[post, pre]: a column per presynaptic neuron, so the drive is W @ spiked
    W = sp.csc_matrix((w, (post, pre)), shape=(n, n))
    ext = None
    if paradigm is not None:
        k_id = paradigm.n_identities
        cue_idx, cue_tms = paradigm.input_spikes(inputs.n_per_cue, inputs.cue_rate_hz, res_rng)
        stim_idx, stim_tms = paradigm.stimulus_spikes(inputs.n_per_stimulus, inputs.stimulus_jitter_ms, res_rng)
        cue_pre, cue_post = input_connectivity(k_id * inputs.n_per_cue, n, inputs.p_input, res_rng)
        stim_pre, stim_post = input_connectivity(k_id * inputs.n_per_stimulus, n, inputs.p_input, res_rng)
        Wc = sp.csc_matrix((np.full(cue_pre.size, inputs.w_input), (cue_post, cue_pre)),
                           shape=(n, k_id * inputs.n_per_cue))
        Ws = sp.csc_matrix((np.full(stim_pre.size, inputs.w_input), (stim_post, stim_pre)),
                           shape=(n, k_id * inputs.n_per_stimulus))
        ext = [(Wc, cue_idx, np.round(cue_tms / reservoir.dt_ms).astype(int))]
        if inputs.stimulus_to_reservoir:
            ext.append((Ws, stim_idx, np.round(stim_tms / reservoir.dt_ms).astype(int)))
    noise_sd = np.where(np.arange(n) < n_exc, reservoir.noise_exc, reservoir.noise_inh)
    dt = reservoir.dt_ms
    n_steps = int(round(duration_ms / dt))
    steps_per_ms = max(1, int(round(1.0 / dt)))
    I = np.zeros(n)
    out_i, out_t = [], []
    ext_ptr = [0, 0, 0]
    t0 = time.perf_counter()
    for step in range(n_steps):
        if noise and step % steps_per_ms == 0:
            I = noise_sd * noise_rng.standard_normal(n)
        dv = 0.04 * v * v + 5.0 * v + 140.0 - u + I
        du = a * (b * v - u)
        v += dt * dv
        u += dt * du
        fired = np.flatnonzero(v >= 30.0)
        # Brian2's schedule: thresholds -> synaptic propagation -> resets (input to a neuron that just fired
        # is overwritten by its reset)
        if fired.size:
            v += W[:, fired].sum(axis=1).A1
        if ext is not None:
            for e, (Wx, idx, st) in enumerate(ext):
                p = ext_ptr[e]
                q = p
                while q < st.size and st[q] <= step:
                    q += 1
                if q > p:
                    v += Wx[:, idx[p:q]].sum(axis=1).A1
                ext_ptr[e] = q
        if fired.size:
            v[fired] = c[fired]
            u[fired] += d[fired]
            out_i.append(fired)
            out_t.append(np.full(fired.size, step * dt))
    wall = time.perf_counter() - t0
    si = np.concatenate(out_i) if out_i else np.zeros(0, int)
    st = (np.concatenate(out_t) if out_t else np.zeros(0)) / 1e3
    return si, st, wall
