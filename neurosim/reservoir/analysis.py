"""Trial-aligned readout analysis: peaks (timing, amplitude), errors against the ideal prediction, cosines."""
import numpy as np
import pandas as pd


def trial_responses(result, signal="y"):
    """(n_trials, n_samples, K) readout ``signal`` aligned to cue onset over the trial window; times in ms."""
    from .network import trial_window_indices
    dt_ms = (result.readout_t[1] - result.readout_t[0]) * 1e3
    idx = trial_window_indices(result.paradigm, dt_ms)
    return getattr(result, f"readout_{signal}")[idx], np.arange(idx.shape[1]) * dt_ms


def peak_table(result):
    """Per trial: peak time (ms after cue) and peak amplitude of the readout of the cued identity."""
    resp, t_ms = trial_responses(result)
    trials = result.paradigm.trials
    k = trials.identity.to_numpy()
    own = resp[np.arange(len(k)), :, k]
    return pd.DataFrame(dict(identity=k, latency_ms=trials.latency_ms.to_numpy(),
                             probability=trials.probability.to_numpy(), learning=trials.learning.to_numpy(),
                             peak_ms=t_ms[np.argmax(own, axis=1)], peak_amplitude=own.max(axis=1)),
                        index=trials.index)


def prediction_error(result, width_ms, responses=None):
    """Per trial RMS error between the cued readout and its ideal p*Gaussian(latency), over the window."""
    resp, t_ms = trial_responses(result) if responses is None else responses
    trials = result.paradigm.trials
    err = np.empty(len(trials))
    for n, row in enumerate(trials.itertuples()):
        ideal = row.probability * np.exp(-0.5 * ((t_ms - row.latency_ms) / width_ms) ** 2)
        err[n] = np.sqrt(np.mean((resp[n, :, row.identity] - ideal) ** 2))
    return err


def cosine(u, v):
    u = np.ravel(u)
    v = np.ravel(v)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def what_when_cosine(result, k):
    """cos between readout k's "what" and "when" weight vectors, both over its synapses x trace timescales.

    The when vector is w_when[k] (3 x Ne: fast, mid, slow centred traces); the what vector is w_what[k] placed on
    the slow-trace synapses it reads (the held cue response m follows the centred slow trace), zero elsewhere.
    """
    what = np.zeros_like(result.final_w_when[k])
    what[2] = result.final_w_what[k]
    return cosine(what, result.final_w_when[k])


def readaptation(paradigm, responses, identity, start_trial, n_trials, last=5):
    """How a readout re-adapts on ``identity`` after a contingency switch at ``start_trial``.

    ``responses`` (n_trials, n_samples, K) on a 1 ms grid from cue onset.  Over the first ``n_trials``
    trials of that identity from the switch on, returns per-trial peak times and amplitudes, the timing error
    |peak - new latency| (median of the ``last`` trials), and the relative amplitude error
    |a_after / a_before - p_after / p_before| / (p_after / p_before), a_before being the mean amplitude over the
    frozen test trials of that identity before the switch and a_after the mean of the ``last`` trials.
    """
    trials = paradigm.trials
    ids = trials.identity.to_numpy()
    after = np.flatnonzero((ids == identity) & (trials.index >= start_trial))[:n_trials]
    before = np.flatnonzero((ids == identity) & ~trials.learning.to_numpy() & (trials.index < start_trial))
    own = responses[:, :, identity]
    peak_ms = np.argmax(own, axis=1).astype(float)
    amp = own.max(axis=1)
    p_before = trials.probability.iloc[before].mean()
    p_after = trials.probability.iloc[after[-1]]
    ratio = p_after / p_before
    return dict(trials=after, peak_ms=peak_ms[after], amplitude=amp[after],
                timing_error_ms=float(np.median(np.abs(peak_ms[after[-last:]] - trials.latency_ms.iloc[after[-1]]))),
                amplitude_error=float(abs(amp[after[-last:]].mean() / amp[before].mean() - ratio) / ratio))
