"""The standard experiment: train on four outcome identities, test with plasticity off, then switch contingencies.

Identity k has latency L_k and probability p_k (defaults from the model card: p = 0.25, 0.5, 0.75, 1.0).
After ``n_train`` learning trials and ``n_test`` frozen test trials, identity 3 changes its latency and
identity 0 its probability, and learning resumes for ``n_after`` trials.
"""
from .params import InputParams, ReadoutParams, ReservoirParams
from .task import Paradigm, Switch

LATENCIES_MS = (150.0, 250.0, 350.0, 200.0)
PROBABILITIES = (0.25, 0.5, 0.75, 1.0)
LATENCY_SWITCH = dict(identity=3, latency_ms=300.0)
PROBABILITY_SWITCH = dict(identity=0, probability=1.0)


def standard_paradigm(n_train=200, n_test=40, n_after=80, seed=0):
    """Train / frozen test / switch paradigm (see module docstring)."""
    n = n_train + n_test + n_after
    switches = []
    if n_after > 0:
        s = n_train + n_test
        switches = [Switch(s, **LATENCY_SWITCH), Switch(s, **PROBABILITY_SWITCH)]
    return Paradigm(LATENCIES_MS, PROBABILITIES, n, switches=switches,
                    frozen_trials=range(n_train, n_train + n_test), seed=seed)


def run_experiment(n_trials=320, *, n_neurons=1000, device="runtime", threads=None, seed=0, noise=True,
                   readout=ReadoutParams(), inputs=InputParams()):
    """Run the standard paradigm with ``n_trials`` in total (5/8 train, 1/8 test, 1/4 after the switch)."""
    from .network import simulate

    n_test = max(1, n_trials // 8)
    n_after = n_trials // 4
    n_train = n_trials - n_test - n_after
    paradigm = standard_paradigm(n_train, n_test, n_after, seed=seed)
    return simulate(paradigm, reservoir=ReservoirParams(n_neurons=n_neurons), inputs=inputs, readout=readout,
                    noise=noise, seed=seed, device=device, threads=threads)
