"""FORCE/RLS baselines.

* :class:`RLSReadout` — recursive least squares (Sussillo & Abbott 2009) on the same reservoir traces as the
  three-factor readouts; P can be reset at contingency switches.  The reservoir has no feedback from its
  readouts, so training RLS on the recorded traces is the same as training it inside the simulation.

The Nicola & Clopath (2017) FORCE network lives in :mod:`neurosim.reservoir.nicola_clopath`.
"""
import numpy as np
from scipy.signal import lfilter

from neurodata.base import Estimator
from neurodata.utils import check_scalar, progress

from .params import RLSParams


def readout_features(result, dt_ms=1.0):
    """What the three-factor readouts read, per trial window: (n_trials, n_samples, 3 * Nr) float32.

    Each of the readouts' Nr input neurons' fast/mid/slow traces (jump 1 per spike), centred in time by its running
    rate and across the population at every sample (the readouts' POPULATION_EQS), recomputed from the recorded spikes.
    """
    from .network import trial_window_indices
    res = result.params["reservoir"]
    nr = result.n_readout_inputs
    par = result.paradigm
    n_t = int(round(par.duration_ms / dt_ms)) + 1
    counts = np.zeros((n_t, nr), np.float32)
    keep = result.spike_i < nr
    np.add.at(counts, (np.minimum(np.floor(result.spike_t[keep] * 1e3 / dt_ms).astype(int), n_t - 1),
                       result.spike_i[keep]), 1)
    idx = trial_window_indices(par, dt_ms)
    decay = lambda tau: [1.0, -np.exp(-dt_ms / tau)]  # noqa: E731
    rate = lfilter([1.0], decay(res.tau_rate_ms), counts, axis=0).astype(np.float32)[idx]
    feats = np.empty(idx.shape + (3, nr), np.float32)
    for n, tau in enumerate(res.tau_traces_ms):
        feats[:, :, n] = lfilter([1.0], decay(tau), counts, axis=0).astype(np.float32)[idx] - rate * (tau / res.tau_rate_ms)
    feats -= feats.mean(axis=3, keepdims=True)
    return feats.reshape(idx.shape + (3 * nr,))


class RLSReadout(Estimator):
    """Linear readouts y = W f + b trained by recursive least squares (Sussillo & Abbott 2009), trial by trial.

    Parameters
    ----------
    alpha : float — P(0) = I / alpha (regulariser).
    step : int — one update every ``step`` samples inside learning trials (10 samples = the 10 ms bin).
    reset_at_trial : int or None — P is reset to I / alpha at this trial (after a contingency switch);
        None keeps the decayed P of all earlier updates.
    verbose : bool — progress bar over trials.

    Attributes
    ----------
    responses_ : ndarray (n_trials, n_samples, K)
        The readout y of every trial, computed before that trial's updates (what a causal learner shows).
    W_ : ndarray (n_features + 1, K)
        The readout weights after the last trial (the last row is the bias).
    P_ : ndarray (n_features + 1, n_features + 1)
        The RLS inverse-correlation estimate after the last trial.
    """

    def __init__(self, *, alpha=RLSParams.alpha, step=10, reset_at_trial=None, verbose=False):
        self._keep(locals())

    def fit_trials(self, features, paradigm, width_ms, dt_ms=1.0):
        """Run over the trials in order: respond with the weights held at the start of each trial (as the
        three-factor readouts do), then learn on learning trials, the teacher being the Gaussian outcome
        event of the delivered outcome (zero for the other readouts and on omitted trials).

        Keeps the responses (n_trials, n_samples, K) in ``responses_``, and ``W_``, ``P_``; returns self.
        """
        check_scalar(self.alpha, "alpha", "RLSReadout", low=0, low_inclusive=False)
        n_trials, n_s, n_f = features.shape
        k_id = paradigm.n_identities
        t_ms = np.arange(n_s) * dt_ms
        P = np.eye(n_f + 1) / self.alpha
        W = np.zeros((n_f + 1, k_id))
        out = np.empty((n_trials, n_s, k_id))
        for n, row in progress(enumerate(paradigm.trials.itertuples()), total=n_trials, desc="RLS",
                               verbose=self.verbose):
            if n == self.reset_at_trial:
                P = np.eye(n_f + 1) / self.alpha
            X = np.hstack([features[n].astype(np.float64), np.ones((n_s, 1))])
            out[n] = X @ W
            if not row.learning:
                continue
            S = np.zeros((n_s, k_id))
            if row.occurred:
                S[:, row.identity] = np.exp(-0.5 * ((t_ms - row.latency_ms) / width_ms) ** 2)
            for i in range(0, n_s, self.step):
                r = X[i]
                Pr = P @ r
                g = Pr / (1.0 + r @ Pr)
                W -= np.outer(g, r @ W - S[i])
                P -= np.outer(g, Pr)
        self.responses_, self.W_, self.P_ = out, W, P
        return self
