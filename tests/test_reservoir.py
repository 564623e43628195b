"""Ground-truth tests of the reservoir (issue 9): devices, FORCE sine, and the what/when/how-likely numbers.

Thresholds (from the issue):
  1. timing: cued readout peak within 10 ms of the latency on >= 90 % of frozen test trials;
  2. probability: mean peak amplitude strictly monotone in p (Spearman rho = 1) and a line with R^2 >= 0.9;
  3. re-adaptation (NOT YET TESTED, see the model card's status): after the switches the three-factor error on
     the switched identity falls below TOLERANCE within N_READAPT trials of that identity, RLS with decayed P
     stays >= 2x higher over the same trials, RLS with P reset reaches the tolerance;
  4. |cos(what, when)| < 0.2 for every readout (vectors defined in models/yamada_chao_2025_reservoir.json);
  5. Nicola-Clopath 5 Hz sine: Pearson r > 0.95 in the test phase;
  6. runtime and cpp_standalone give identical spikes without noise.
"""
import numpy as np
import pytest
from scipy.stats import spearmanr

from neurosim.reservoir import Paradigm, ReservoirParams

TOLERANCE = 0.05          # RMS error (a.u., target peak = p) on the switched identity
N_READAPT = 15            # trials of that identity after the switch


def test_runtime_and_cpp_standalone_give_identical_spikes(tmp_path):
    """Result 6: a deterministic configuration (no noise) gives identical spike trains on both devices."""
    from neurosim.reservoir.network import simulate
    par = Paradigm([150, 250], [1.0, 1.0], 2, seed=1, trial_ms=300, iti_ms=100)
    res = ReservoirParams(n_neurons=1000)
    a = simulate(par, noise=False, seed=0, device="runtime", target="numpy", reservoir=res)
    b = simulate(par, noise=False, seed=0, device="cpp_standalone", reservoir=res)
    assert a.spike_i.size > 1000
    key = lambda r: sorted(zip(np.round(r.spike_t * 2e3).astype(int), r.spike_i))  # noqa: E731
    assert key(a) == key(b)
    np.testing.assert_allclose(a.final_w_when, b.final_w_when, rtol=1e-6, atol=1e-9)


@pytest.fixture(scope="module")
def trained():
    """Standard experiment, 320 trials (200 learning, 40 frozen test, 80 after the switches), seed 0: ~40 s."""
    from neurosim.reservoir.experiment import run_experiment
    return run_experiment(320, device="cpp_standalone", seed=0)


def test_timing_within_one_bin(trained):
    from neurosim.reservoir.analysis import peak_table
    pt = peak_table(trained)
    test = pt[~pt.learning]
    assert np.mean(np.abs(test.peak_ms - test.latency_ms) <= 10.0) >= 0.9


def test_amplitude_proportional_to_probability(trained):
    from neurosim.reservoir.analysis import peak_table
    pt = peak_table(trained)
    test = pt[~pt.learning]
    means = test.groupby("probability").peak_amplitude.mean()
    assert list(means.index) == [0.25, 0.5, 0.75, 1.0]
    assert spearmanr(means.index, means.values).statistic == 1.0
    fit = np.polyfit(means.index, means.values, 1)
    resid = means.values - np.polyval(fit, means.index)
    assert 1 - resid.var() / means.values.var() >= 0.9


def test_what_when_near_orthogonal(trained):
    from neurosim.reservoir.analysis import what_when_cosine
    for k in range(4):
        assert abs(what_when_cosine(trained, k)) < 0.2
