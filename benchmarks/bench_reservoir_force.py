"""Nicola & Clopath (2017) FORCE network (N = 2000, dt = 0.04 ms, RLS every 20 steps): our numba kernel vs a
plain vectorised NumPy loop of IZFORCESINE.m (ModelDB 190565), same network and protocol, in one run.

The window has RLS on for its second half, so both the neuron/synapse path and the N x N RLS update are timed.
"""
import time

import numpy as np

from neurosim.reservoir.nicola_clopath import NicolaClopathParams, nicola_clopath_sine


def _numpy_loop(n, t_total_ms, rls_start_ms, dt=0.04, step=20, seed=0):
    """IZFORCESINE.m with whole-vector NumPy operations (the MATLAB code's own vectorisation)."""
    pr = NicolaClopathParams()
    rng = np.random.default_rng(seed)
    omega = (pr.G * rng.standard_normal((n, n)) * (rng.random((n, n)) < pr.p) / (pr.p * np.sqrt(n))).T.copy()
    E = (2 * rng.random(n) - 1) * pr.Q
    v = pr.vr + (pr.vpeak - pr.vr) * rng.random(n)
    u, ipsc, h, r, hr, jd, phi = (np.zeros(n) for _ in range(7))
    Pinv = pr.P0_scale * np.eye(n)
    nt, i_min = round(t_total_ms / dt), round(rls_start_ms / dt)
    zx = np.sin(2 * np.pi * 5.0 * np.arange(1, nt + 1) * dt / 1000)
    dr, dd, inv = np.exp(-dt / pr.tau_rise_ms), np.exp(-dt / pr.tau_decay_ms), 1 / (pr.tau_rise_ms * pr.tau_decay_ms)
    z = 0.0
    out = np.empty(nt)
    for i in range(1, nt + 1):
        v_old = v
        v = v + dt * (pr.k * (v - pr.vr) * (v - pr.vt) - u + ipsc + E * z + pr.bias) / pr.C
        u = u + dt * (pr.a * (pr.b * (v_old - pr.vr) - u))
        spk = v >= pr.vpeak
        index = np.flatnonzero(spk)
        if index.size:
            jd = omega[:, index].sum(axis=1)
        ipsc = ipsc * dr + h * dt
        h = h * dd + jd * (index.size > 0) * inv
        r = r * dr + hr * dt
        hr = hr * dd + spk * inv
        z = phi @ r
        if i % step == 1 and i > i_min:
            cd = Pinv @ r
            phi = phi - cd * (z - zx[i - 1])
            Pinv = Pinv - np.outer(cd, cd) / (1 + r @ cd)
        u = u + pr.d * spk
        v = np.where(spk, pr.vreset, v)
        out[i - 1] = z
    return out


def bench_nicola_clopath(quick: bool) -> dict:
    """Wall time of the same N = 2000 run (RLS on for the second half): numba kernel vs NumPy loop."""
    t_total = 200.0 if quick else 1000.0
    kw = {"n_neurons": 2000, "t_total_ms": t_total, "rls_start_ms": t_total / 2, "rls_stop_ms": t_total - 0.08,
          "seed": 0}
    nicola_clopath_sine(**{**kw, "n_neurons": 20})          # compile / load the cached kernel first
    t0 = time.perf_counter()
    ours = nicola_clopath_sine(**kw)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = _numpy_loop(2000, t_total, t_total / 2)
    t_base = time.perf_counter() - t0
    n = min(ref.size, ours["output"].size)
    return {"name": "nicola_clopath_force_N2000", "ours": t_ours, "baseline": t_base,
            "simulated_s": t_total / 1000.0, "ours_realtime_factor": t_total / 1000.0 / t_ours,
            "baseline_realtime_factor": t_total / 1000.0 / t_base,
            "max_abs_output_difference": float(np.max(np.abs(ref[:n] - ours["output"][:n])))}


if __name__ == "__main__":
    import sys
    print(bench_nicola_clopath(quick="--full" not in sys.argv))
