"""FORCE/RLS baselines.

* :class:`RLSReadout` — recursive least squares (Sussillo & Abbott 2009) on the same reservoir traces as the
  three-factor readouts; P can be reset at contingency switches.  The reservoir has no feedback from its
  readouts, so training RLS on the recorded traces is the same as training it inside the simulation.
* :func:`nicola_clopath_sine` — the Izhikevich FORCE network of Nicola & Clopath (2017, Nat Commun 8:2208;
  ModelDB 190565, IZFORCESINE) learning a 5 Hz sine.  Its RLS update of an N x N matrix every 20 steps is not
  expressible as Brian2 equations, so it is a NumPy loop (as in the authors' MATLAB code).
"""
import numpy as np
from scipy.signal import lfilter

from neurodata.utils import check_random_state, check_scalar, progress

from .params import RLSParams


def presynaptic_traces(spike_i, spike_t, n_cells, duration_ms, tau_ms, dt_ms=1.0):
    """Exponentially filtered spike trains x (time x cells), jump 1 per spike, sampled every dt_ms."""
    n_t = int(round(duration_ms / dt_ms)) + 1
    counts = np.zeros((n_t, n_cells))
    keep = spike_i < n_cells
    np.add.at(counts, (np.minimum(np.floor(spike_t[keep] * 1e3 / dt_ms).astype(int), n_t - 1), spike_i[keep]), 1)
    return lfilter([1.0], [1.0, -np.exp(-dt_ms / tau_ms)], counts, axis=0)


class RLSReadout:
    """Linear readout y = W x (+ bias) trained by recursive least squares.

    Parameters
    ----------
    alpha : float — P(0) = I / alpha (regulariser).
    step : int — update every ``step`` samples.
    reset_at : iterable of int — sample indices at which P is reset to I / alpha (after a switch).
    """

    def __init__(self, alpha=RLSParams.alpha, step=10, reset_at=()):
        self.alpha = alpha
        self.step = step
        self.reset_at = reset_at

    def run(self, X, S, learn, verbose=False):
        """Online pass over features X (T x N) and targets S (T x K); ``learn`` (T,) bool marks samples
        where updates are allowed.  Returns the online output Y (T x K) and keeps W_ and P_."""
        check_scalar(self.alpha, "alpha", "RLSReadout", low=0, low_inclusive=False)
        T, n = X.shape
        k = S.shape[1]
        Xb = np.hstack([X, np.ones((T, 1))])
        P = np.eye(n + 1) / self.alpha
        W = np.zeros((n + 1, k))
        Y = np.empty((T, k))
        resets = set(int(r) for r in self.reset_at)
        pending_reset = False
        for t in progress(range(T), total=T, desc="RLS", verbose=verbose):
            if t in resets:
                pending_reset = True
            r = Xb[t]
            Y[t] = r @ W
            if learn[t] and t % self.step == 0:
                if pending_reset:
                    P = np.eye(n + 1) / self.alpha
                    pending_reset = False
                Pr = P @ r
                g = Pr / (1.0 + r @ Pr)
                W -= np.outer(g, Y[t] - S[t])
                P -= np.outer(g, Pr)
        self.W_, self.P_ = W, P
        return Y


def nicola_clopath_sine(*, n_neurons=2000, dt_ms=0.04, t_total_ms=15000.0, rls_start_ms=5000.0,
                        rls_stop_ms=10000.0, freq_hz=5.0, step=20, seed=0, verbose=False):
    """Nicola & Clopath (2017) Izhikevich FORCE network trained on sin(2 pi f t).

    Parameters follow ModelDB 190565 (IZFORCESINE.m): C=250, vr=-60, b=-2, k=2.5, vpeak=30, vreset=-65,
    vt = vr+40-b/k, a=0.01, d=200, double-exponential synapses tr=2 ms, td=20 ms, p=0.1, G=5e3, Q=5e3,
    BIAS=1000, P0 = 2 I (Pinv = eye(N)*2), RLS every ``step`` steps between rls_start and rls_stop.

    Returns dict(t_s, target, output, test_r (Pearson r after rls_stop), rate_hz).
    """
    rng = check_random_state(seed)
    N = int(n_neurons)
    C, vr, b, ff, vpeak, vreset = 250.0, -60.0, -2.0, 2.5, 30.0, -65.0
    vt = vr + 40.0 - b / ff
    a, d, tr, td, p, G, Q, BIAS = 0.01, 200.0, 2.0, 20.0, 0.1, 5e3, 5e3, 1000.0
    dt = dt_ms
    nt = int(round(t_total_ms / dt))
    omega = G * rng.standard_normal((N, N)) * (rng.random((N, N)) < p) / (p * np.sqrt(N))
    E = (2 * rng.random(N) - 1) * Q
    v = vr + (vpeak - vr) * rng.random(N)
    v_prev = v.copy()
    u = np.zeros(N)
    ipsc = np.zeros(N)
    h = np.zeros(N)
    r = np.zeros(N)
    hr = np.zeros(N)
    jd = np.zeros(N)
    phi = np.zeros(N)
    Pinv = 2.0 * np.eye(N)
    z = 0.0
    i_min, i_crit = int(round(rls_start_ms / dt)), int(round(rls_stop_ms / dt))
    target = np.sin(2 * np.pi * freq_hz * np.arange(1, nt + 1) * dt / 1000.0)
    out = np.empty(nt)
    dec_r, dec_d = np.exp(-dt / tr), np.exp(-dt / td)
    n_spikes_test = 0
    for i in progress(range(nt), total=nt, desc="Nicola-Clopath FORCE", verbose=verbose):
        I = ipsc + E * z + BIAS
        v = v + dt * (ff * (v - vr) * (v - vt) - u + I) / C
        u = u + dt * (a * (b * (v_prev - vr) - u))   # u uses v(t-1), as in the authors' code
        fired = np.flatnonzero(v >= vpeak)
        if fired.size:
            jd = omega[:, fired].sum(axis=1)
            if i >= i_crit:
                n_spikes_test += fired.size
        ipsc = ipsc * dec_r + h * dt
        h = h * dec_d + jd * (fired.size > 0) / (tr * td)
        r = r * dec_r + hr * dt
        hr = hr * dec_d + (v >= vpeak) / (tr * td)
        z = phi @ r
        err = z - target[i]
        # MATLAB's mod(i, step) == 1 with 1-based i is i % step == 0 here
        if i % step == 0 and i_min < i + 1 < i_crit:
            cd = Pinv @ r
            phi -= cd * err
            Pinv -= np.outer(cd, cd) / (1.0 + r @ cd)
        u = u + d * (v >= vpeak)
        v = np.where(v >= vpeak, vreset, v)
        v_prev = v
        out[i] = z
    t_s = np.arange(1, nt + 1) * dt / 1000.0
    test = slice(i_crit, nt)
    test_r = float(np.corrcoef(out[test], target[test])[0, 1]) if nt > i_crit + 1 else float("nan")
    rate = n_spikes_test / N / max((t_total_ms - rls_stop_ms) / 1000.0, 1e-9)
    return dict(t_s=t_s, target=target, output=out, test_r=test_r, rate_hz=rate)
