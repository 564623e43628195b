"""Cue -> outcome paradigm with per-identity latency and probability and scheduled contingency switches.

Each trial presents one cue identity k (balanced, shuffled in blocks of K).  Outcome k follows the cue after
latency L_k with probability p_k and is omitted otherwise.  A switch changes L_k or p_k from a given trial on.
Trials alternate with inter-trial intervals (ITI) in which offline consolidation runs.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from neurodata.errors import InvalidInputError
from neurodata.utils import check_random_state, check_scalar


@dataclass(frozen=True)
class Switch:
    """From trial ``trial`` on, outcome ``identity`` has a new ``latency_ms`` and/or ``probability``."""
    trial: int
    identity: int
    latency_ms: float = None
    probability: float = None


class Paradigm:
    """A concrete trial sequence (``trials`` DataFrame) and the time-resolved arrays it implies.

    Parameters
    ----------
    latencies_ms, probabilities : sequence of float, one per outcome identity.
    n_trials : int
    switches : sequence of Switch
    frozen_trials : iterable of int — trials with plasticity off (test trials).
    trial_ms, iti_ms : trial window after cue onset, and the interval after it.
    seed : int or Generator — draws the cue order and outcome occurrences.
    """

    def __init__(self, latencies_ms, probabilities, n_trials, *, switches=(), frozen_trials=(), trial_ms=500.0,
                 iti_ms=300.0, seed=None):
        lat = np.asarray(latencies_ms, dtype=float)
        prob = np.asarray(probabilities, dtype=float)
        if lat.ndim != 1 or lat.shape != prob.shape or lat.size == 0:
            raise InvalidInputError("latencies_ms and probabilities must be 1-D sequences of the same, nonzero "
                                    f"length; got shapes {lat.shape} and {prob.shape}.")
        check_scalar(int(n_trials) if float(n_trials).is_integer() else n_trials, "n_trials", "Paradigm",
                     low=1)
        check_scalar(trial_ms, "trial_ms", "Paradigm", low=0, low_inclusive=False)
        check_scalar(iti_ms, "iti_ms", "Paradigm", low=0, low_inclusive=False)
        self.n_identities = lat.size
        self.n_trials = int(n_trials)
        self.trial_ms = float(trial_ms)
        self.iti_ms = float(iti_ms)
        rng = check_random_state(seed)
        self._check_values(lat, prob, "initial")
        frozen = set(int(t) for t in frozen_trials)
        rows = []
        cur_lat, cur_prob = lat.copy(), prob.copy()
        by_trial = {}
        for sw in switches:
            if not 0 <= sw.identity < self.n_identities or not 0 <= sw.trial < self.n_trials:
                raise InvalidInputError(f"Switch {sw} names identity/trial outside 0..{self.n_identities - 1} / "
                                        f"0..{self.n_trials - 1}.")
            by_trial.setdefault(sw.trial, []).append(sw)
        order = []
        while len(order) < self.n_trials:
            order.extend(rng.permutation(self.n_identities))
        for t in range(self.n_trials):
            for sw in by_trial.get(t, ()):
                if sw.latency_ms is not None:
                    cur_lat[sw.identity] = sw.latency_ms
                if sw.probability is not None:
                    cur_prob[sw.identity] = sw.probability
                self._check_values(cur_lat, cur_prob, f"switch at trial {t}")
            k = int(order[t])
            start = t * (self.trial_ms + self.iti_ms)
            occurred = bool(rng.random() < cur_prob[k])
            rows.append(dict(start_time=start / 1e3, stop_time=(start + self.trial_ms + self.iti_ms) / 1e3,
                             cue_time=start / 1e3, identity=k, latency_ms=float(cur_lat[k]),
                             probability=float(cur_prob[k]), occurred=occurred,
                             outcome_time=(start + cur_lat[k]) / 1e3 if occurred else np.nan,
                             learning=t not in frozen))
        self.trials = pd.DataFrame(rows)
        self.trials.index.name = "trial"
        self.switches = tuple(switches)

    def _check_values(self, lat, prob, when):
        if np.any(lat <= 0) or np.any(lat >= self.trial_ms):
            raise InvalidInputError(f"Latencies ({when}) must lie in (0, trial_ms={self.trial_ms}); got {lat}.")
        if np.any(prob < 0) or np.any(prob > 1):
            raise InvalidInputError(f"Probabilities ({when}) must lie in [0, 1]; got {prob}.")

    @property
    def duration_ms(self):
        return self.n_trials * (self.trial_ms + self.iti_ms)

    def input_spikes(self, n_per_identity, rate_hz, seed):
        """Cue input: one frozen Poisson pattern (duration trial_ms) per identity, replayed at every cue.

        Returns (indices, times_ms); neuron k*n_per_identity + i belongs to cue k.
        """
        rng = check_random_state(seed)
        patterns = []
        for k in range(self.n_identities):
            n_spk = rng.poisson(rate_hz * self.trial_ms / 1e3 * n_per_identity)
            idx = rng.integers(0, n_per_identity, n_spk) + k * n_per_identity
            tms = rng.uniform(0, self.trial_ms, n_spk)
            patterns.append((idx, tms))
        idx_all, t_all = [], []
        for _, row in self.trials.iterrows():
            idx, tms = patterns[row.identity]
            idx_all.append(idx)
            t_all.append(row.cue_time * 1e3 + tms)
        return self._sorted_unique(np.concatenate(idx_all), np.concatenate(t_all))

    def stimulus_spikes(self, n_per_identity, jitter_ms, seed):
        """Outcome stimuli: a volley of all n_per_identity neurons of identity k around the outcome time."""
        rng = check_random_state(seed)
        idx_all, t_all = [], []
        for _, row in self.trials[self.trials.occurred].iterrows():
            idx_all.append(np.arange(n_per_identity) + row.identity * n_per_identity)
            t_all.append(row.outcome_time * 1e3 + np.abs(rng.normal(0, jitter_ms, n_per_identity)))
        if not idx_all:
            return np.zeros(0, int), np.zeros(0)
        return self._sorted_unique(np.concatenate(idx_all), np.concatenate(t_all))

    @staticmethod
    def _sorted_unique(idx, tms, resolution_ms=0.5):
        # SpikeGeneratorGroup refuses two spikes of one neuron in one time step: keep the first.
        tms = np.round(tms / resolution_ms) * resolution_ms
        order = np.lexsort((idx, tms))
        idx, tms = idx[order], tms[order]
        keep = np.ones(idx.size, bool)
        keep[1:] = (idx[1:] != idx[:-1]) | (tms[1:] != tms[:-1])
        return idx[keep].astype(np.int64), tms[keep]

    def control_arrays(self, target_width_ms, dt_ms=1.0, early_ms=100.0, attention_after_ms=150.0):
        """Time-resolved control signals sampled every ``dt_ms``.

        Returns dict with
          target (T x K): Gaussian outcome event centred on each delivered outcome (the "when" teacher),
          early (T,):     1 in the first ``early_ms`` of every trial (the held cue response m_j forms there),
          gate (T x K):   attention gate G_k(t) of a learning trial whose outcome k is delivered: open from the
                          end of the cue response (``early_ms``) until ``attention_after_ms`` after the outcome
                          (or the end of the trial), scaled so that the outcome event weighted by the gate sums
                          to 1 over every such trial (sum_t target*gate*dt = 1: each delivered outcome moves the
                          "when" template by one step, whatever the event's truncation by the gate),
          consolidate (T,): 1 in the ITI after a learning trial (offline "what" consolidation),
          outcome (T x K): during that ITI, 1 for the identity whose outcome occurred in the trial.
        """
        check_scalar(attention_after_ms, "attention_after_ms", "Paradigm.control_arrays", low=0,
                     low_inclusive=False)
        n_t = int(round(self.duration_ms / dt_ms)) + 1
        t = np.arange(n_t) * dt_ms
        target = np.zeros((n_t, self.n_identities))
        gate = np.zeros((n_t, self.n_identities))
        early = np.zeros(n_t)
        consolidate = np.zeros(n_t)
        outcome = np.zeros((n_t, self.n_identities))
        for _, row in self.trials.iterrows():
            c0 = row.cue_time * 1e3
            iti = (t >= c0 + self.trial_ms) & (t < c0 + self.trial_ms + self.iti_ms)
            early[(t >= c0) & (t < c0 + early_ms)] = 1.0
            if row.occurred:
                target[:, row.identity] += np.exp(-0.5 * ((t - row.outcome_time * 1e3) / target_width_ms) ** 2)
            if row.learning:
                consolidate[iti] = 1.0
                if row.occurred:
                    stop = min(row.outcome_time * 1e3 + attention_after_ms, c0 + self.trial_ms)
                    attend = (t >= c0 + early_ms) & (t < stop)
                    gate[attend, row.identity] = 1.0 / (target[attend, row.identity].sum() * dt_ms)
                    outcome[iti, row.identity] = 1.0
        return dict(target=target, early=early, gate=gate, consolidate=consolidate, outcome=outcome)

    def expected_response(self, trial, identity, times_ms, width_ms):
        """Ideal readout (probability x Gaussian at latency) of ``identity`` in ``trial`` at times after cue."""
        row = self.trials.iloc[trial]
        if row.identity != identity:
            return np.zeros_like(np.asarray(times_ms, dtype=float))
        return row.probability * np.exp(-0.5 * ((np.asarray(times_ms) - row.latency_ms) / width_ms) ** 2)
