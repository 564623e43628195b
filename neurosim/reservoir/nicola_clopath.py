"""Nicola & Clopath (2017) FORCE-trained Izhikevich network learning a 5 Hz sine — the FORCE baseline network.

Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE training. Nat Commun
8:2208.  Reference code: ModelDB 190565, ``CODE FOR FIGURE 2/IZFORCESINE.m``; every default below is that
script's value, and :func:`nicola_clopath_sine` runs its loop step for step (forward Euler, u integrated with
v of the previous step, double-exponential synapses, RLS on the filtered spike trains every ``step`` steps).

Why not Brian2: the RLS update rewrites an N x N matrix every 20 steps (0.8 ms) and feeds the decoded output
back into every neuron at the next step, which Brian2 equations cannot express; a per-step Python callback
would cost more than the whole simulation.  The loop is therefore one numba kernel (the authors' code is a
MATLAB loop too).  Its per-step work is O(N) for the neurons plus one row of the static weights per spike;
the RLS step is a single fused pass over P (the rank-1 update of the previous RLS step is applied while P r
is computed for the next one), so the memory traffic of P is read once and written once per update.
"""
import numbers
from dataclasses import asdict, dataclass

import numpy as np

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurodata.utils import check_random_state, check_scalar, progress


@dataclass(frozen=True)
class NicolaClopathParams:
    """Network constants of IZFORCESINE.m (ModelDB 190565).  Units: ms, mV, pF, pA."""
    C: float = 250.0            # capacitance
    vr: float = -60.0           # resting potential
    b: float = -2.0             # resonance parameter
    k: float = 2.5              # gain on v ("ff" in the MATLAB code)
    vpeak: float = 30.0
    vreset: float = -65.0
    a: float = 0.01             # adaptation rate (1/ms)
    d: float = 200.0            # adaptation jump (pA)
    tau_rise_ms: float = 2.0
    tau_decay_ms: float = 20.0
    p: float = 0.1              # connection probability of the static weights
    G: float = 5e3              # static weights G * randn * (rand < p) / (p sqrt(N))
    Q: float = 5e3              # feedback encoders uniform in [-Q, Q]
    bias: float = 1000.0        # constant current (rheobase is about 950 pA)
    P0_scale: float = 2.0       # P(0) = 2 I (MATLAB: Pinv = eye(N)*2), i.e. regulariser lambda = 1/2

    @property
    def vt(self):
        """Threshold vr + 40 - b/k, as in the MATLAB code."""
        return self.vr + 40.0 - self.b / self.k


def _kernels():
    try:
        from numba import njit
    except ImportError:  # pragma: no cover - numba ships with the suite's environment
        raise BackendUnavailableError("nicola_clopath_sine needs numba: pip install numba") from None

    @njit(cache=True, fastmath=False)
    def run_chunk(i0, i1, state, v, u, ipsc, h, r, hr, jd, w_pre, enc, phi, P, c_pend, target, out, spikes,
                  consts, rls_lo, rls_hi, step):
        # consts: dt, C, vr, vt, k, a, b, d, vpeak, vreset, bias, dec_r, dec_d, 1/(tr*td)
        dt, C, vr, vt, k, a, b, d = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5], consts[6], consts[7]
        vpeak, vreset, bias, dec_r, dec_d, inv_rd = consts[8], consts[9], consts[10], consts[11], consts[12], consts[13]
        n = v.shape[0]
        z = state[0]
        fired = np.empty(n, dtype=np.int64)
        for i in range(i0, i1):
            nf = 0
            for j in range(n):
                vj = v[j]
                # u uses v of the previous step (the MATLAB v_), which equals v before this step's update
                v[j] = vj + dt * (k * (vj - vr) * (vj - vt) - u[j] + ipsc[j] + enc[j] * z + bias) / C
                u[j] = u[j] + dt * (a * (b * (vj - vr) - u[j]))
                if v[j] >= vpeak:
                    fired[nf] = j
                    nf += 1
            if nf > 0:
                # JD = sum(OMEGA(:, index), 2); MATLAB keeps the last JD but only adds it on spiking steps
                jd[:] = 0.0
                for q in range(nf):
                    row = w_pre[fired[q]]
                    for j in range(n):
                        jd[j] += row[j]
                spikes[i] = nf
            for j in range(n):
                ipsc[j] = ipsc[j] * dec_r + h[j] * dt
                h[j] = h[j] * dec_d
                r[j] = r[j] * dec_r + hr[j] * dt
                hr[j] = hr[j] * dec_d
            if nf > 0:
                for j in range(n):
                    h[j] += jd[j] * inv_rd
                for q in range(nf):
                    hr[fired[q]] += inv_rd
            z = 0.0
            for j in range(n):
                z += phi[j] * r[j]
            # MATLAB: mod(i, step) == 1 and imin < i < icrit with 1-based i = this i + 1
            if i % step == 0 and rls_lo < i + 1 < rls_hi:
                err = z - target[i]
                # fused pass: apply the pending rank-1 update P -= c c' / den of the previous RLS step row
                # by row, and compute cd = P r with the updated row while it is in cache
                den_prev = state[1]
                cd = np.empty(n)
                if den_prev > 0.0:
                    for row_i in range(n):
                        f = c_pend[row_i] / den_prev
                        Pi = P[row_i]
                        acc = 0.0
                        for j in range(n):
                            Pi[j] -= f * c_pend[j]
                            acc += Pi[j] * r[j]
                        cd[row_i] = acc
                else:
                    for row_i in range(n):
                        Pi = P[row_i]
                        acc = 0.0
                        for j in range(n):
                            acc += Pi[j] * r[j]
                        cd[row_i] = acc
                rcd = 0.0
                for j in range(n):
                    phi[j] -= cd[j] * err
                    rcd += r[j] * cd[j]
                c_pend[:] = cd
                state[1] = 1.0 + rcd
            for q in range(nf):
                j = fired[q]
                u[j] += d
                v[j] = vreset
            out[i] = z
        state[0] = z

    return run_chunk


def fit_sine(t_s, y, freq_hz, *, rel_range=0.1):
    """Best sinusoid a sin(2 pi f t) + b cos(2 pi f t) + c for f within ``rel_range`` of ``freq_hz``.

    Tells a free-running oscillator whose frequency is slightly off (its phase drifts against the target, so
    the Pearson r with the fixed-phase target falls with the test length) from one that lost the waveform.
    Returns {"freq_hz", "amplitude", "r"} with r the Pearson r between y and the fitted sinusoid.
    """
    t_s = np.asarray(t_s, float)
    y = np.asarray(y, float)

    def fit(f):
        X = np.column_stack([np.sin(2 * np.pi * f * t_s), np.cos(2 * np.pi * f * t_s), np.ones_like(t_s)])
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        return float(np.sum((y - X @ coef) ** 2)), coef, X @ coef

    # coarse grid (41 points), then a fine one around the best coarse frequency
    coarse = np.linspace((1 - rel_range) * freq_hz, (1 + rel_range) * freq_hz, 41)
    f0 = min(coarse, key=lambda f: fit(f)[0])
    width = coarse[1] - coarse[0]
    f_best = min(np.linspace(f0 - width, f0 + width, 41), key=lambda f: fit(f)[0])
    _, coef, fitted = fit(f_best)
    return {"freq_hz": float(f_best), "amplitude": float(np.hypot(coef[0], coef[1])),
            "r": float(np.corrcoef(y, fitted)[0, 1])}


def nicola_clopath_sine(*, n_neurons=2000, dt_ms=0.04, t_total_ms=15000.0, rls_start_ms=5000.0,
                        rls_stop_ms=10000.0, freq_hz=5.0, step=20, seed=0, params=None, verbose=False):
    """Simulate the Nicola & Clopath (2017) Izhikevich network and FORCE-train it on sin(2 pi f t).

    Defaults are the ModelDB 190565 protocol: N = 2000, dt = 0.04 ms, 15 s, RLS every 20 steps from 5 s to
    10 s with P(0) = 2 I, output tested from 10 s on.

    Parameters
    ----------
    n_neurons : int
    dt_ms : float — Euler step (ms).
    t_total_ms, rls_start_ms, rls_stop_ms : float — run length and the RLS window (ms); the test phase is
        [rls_stop_ms, t_total_ms).
    freq_hz : float — frequency of the sine target.
    step : int — RLS update every ``step`` integration steps.
    seed : int or numpy.random.Generator — static weights, encoders and initial voltages.
    params : NicolaClopathParams or None — network constants (default: the paper's).
    verbose : bool — progress bar.

    Returns
    -------
    dict with ``t_s`` (s), ``target``, ``output`` (decoded z), ``test_r`` (Pearson r of output and target in
    the test phase; NaN if the output is constant there), ``rate_hz`` (mean rate in the test phase),
    ``spike_counts`` (spikes per step), ``decoder`` (phi after training), ``test_fit`` (:func:`fit_sine` of the
    test-phase output: frequency, amplitude and r of the free-running oscillation), ``rls_last_rPr`` (r'P r at the
    last RLS update, P before it: that update removed the fraction rPr / (1 + rPr) of the error; it measures how
    hard RLS was still steering the output when training stopped) and ``parameters``.
    """
    params = NicolaClopathParams() if params is None else params
    if not isinstance(params, NicolaClopathParams):
        raise InvalidInputError(f"params must be a NicolaClopathParams; got {type(params).__name__} instead.")
    owner = "nicola_clopath_sine"
    N = check_scalar(n_neurons, "n_neurons", owner, kind=numbers.Integral, low=1)
    step = check_scalar(step, "step", owner, kind=numbers.Integral, low=1)
    dt = check_scalar(dt_ms, "dt_ms", owner, low=0, low_inclusive=False)
    T = check_scalar(t_total_ms, "t_total_ms", owner, low=0, low_inclusive=False)
    t_on = check_scalar(rls_start_ms, "rls_start_ms", owner, low=0)
    t_off = check_scalar(rls_stop_ms, "rls_stop_ms", owner, low=0)
    check_scalar(freq_hz, "freq_hz", owner, low=0, low_inclusive=False)
    if not t_on < t_off < T:
        raise InvalidInputError(f"{owner} needs rls_start_ms < rls_stop_ms < t_total_ms (a training and a test "
                                f"phase); got {t_on}, {t_off}, {T} instead.")
    rng = check_random_state(seed)
    pr = params
    nt = round(float(T / dt))
    if nt - round(float(t_off / dt)) < 2:
        raise InvalidInputError(f"{owner}: the test phase [rls_stop_ms, t_total_ms) must hold at least two steps "
                                f"of {dt} ms; got {t_off} and {T} instead.")
    # w_pre[j] is presynaptic neuron j's column of the MATLAB OMEGA (iid entries, so drawing the transpose
    # is the same distribution); rows make the per-spike sum contiguous.
    w_pre = pr.G * rng.standard_normal((N, N)) * (rng.random((N, N)) < pr.p) / (pr.p * np.sqrt(N))
    enc = (2.0 * rng.random(N) - 1.0) * pr.Q
    v = pr.vr + (pr.vpeak - pr.vr) * rng.random(N)
    u, ipsc, h, r, hr, jd, phi = (np.zeros(N) for _ in range(7))
    P = np.eye(N) * pr.P0_scale
    c_pend = np.zeros(N)
    state = np.zeros(2)          # [z, 1 + r'cd of the pending rank-1 update (0: none)]
    t_s = np.arange(1, nt + 1) * dt / 1000.0
    target = np.sin(2.0 * np.pi * freq_hz * t_s)
    out = np.empty(nt)
    spikes = np.zeros(nt, dtype=np.int64)
    consts = np.array([dt, pr.C, pr.vr, pr.vt, pr.k, pr.a, pr.b, pr.d, pr.vpeak, pr.vreset, pr.bias,
                       np.exp(-dt / pr.tau_rise_ms), np.exp(-dt / pr.tau_decay_ms),
                       1.0 / (pr.tau_rise_ms * pr.tau_decay_ms)])
    i_min, i_crit = round(float(t_on / dt)), round(float(t_off / dt))
    run_chunk = _kernels()
    chunk = max(1, round(float(100.0 / dt)))   # 100 ms per kernel call, for the progress bar
    starts = range(0, nt, chunk)
    for i0 in progress(starts, total=len(starts), desc="Nicola-Clopath FORCE", verbose=verbose):
        run_chunk(i0, min(i0 + chunk, nt), state, v, u, ipsc, h, r, hr, jd, w_pre, enc, phi, P, c_pend,
                  target, out, spikes, consts, i_min, i_crit, step)
    test = slice(i_crit, nt)
    if np.ptp(out[test]) > 0:
        test_r = float(np.corrcoef(out[test], target[test])[0, 1])
        # 0.4 ms samples resolve a 5 Hz wave and make the fit 10x cheaper
        thin = slice(i_crit, nt, 10) if nt - i_crit >= 100 else test
        test_fit = fit_sine(t_s[thin], out[thin], freq_hz)
    else:                              # a constant output (e.g. a silent network) has no correlation
        test_r = float("nan")
        test_fit = {"freq_hz": float("nan"), "amplitude": 0.0, "r": float("nan")}
    rate = spikes[test].sum() / N / ((nt - i_crit) * dt / 1000.0)
    parameters = {**asdict(pr), "vt": pr.vt, "n_neurons": N, "dt_ms": dt, "t_total_ms": T, "rls_start_ms": t_on,
                  "rls_stop_ms": t_off, "freq_hz": float(freq_hz), "step": step}
    # state[1] = 1 + r'P r of the last RLS update (its a-posteriori error is the a-priori error over this)
    rls_rpr = float(state[1] - 1.0) if state[1] > 0 else float("nan")
    return {"t_s": t_s, "target": target, "output": out, "test_r": test_r, "rate_hz": float(rate),
            "spike_counts": spikes, "decoder": phi, "test_fit": test_fit, "rls_last_rPr": rls_rpr,
            "parameters": parameters}
