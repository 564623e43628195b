"""FORCE/RLS baselines.

* :class:`RLSReadout` — recursive least squares (Sussillo & Abbott 2009) on the same reservoir traces as the
  three-factor readouts; P can be reset at contingency switches.  The reservoir has no feedback from its
  readouts, so training RLS on the recorded traces is the same as training it inside the simulation.

The Nicola & Clopath (2017) FORCE network lives in :mod:`neurosim.reservoir.nicola_clopath`.
"""
import numpy as np
from scipy.signal import lfilter

from neurodata.utils import check_scalar, progress

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

