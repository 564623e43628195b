"""Ground-truth tests of the reservoir (issue 9): devices, FORCE sine, and the what/when/how-likely numbers.

Thresholds (from the issue):
  1. timing: cued readout peak within 10 ms of the latency on >= 90 % of frozen test trials;
  2. probability: mean peak amplitude strictly monotone in p (Spearman rho = 1) and a line with R^2 >= 0.9;
  3. re-adaptation (slow: RLS on 2401 features): within N_READAPT trials of the switched identity, the readout's
     timing error (median |peak - new latency| over the last 5 of them) is <= TIMING_TOLERANCE_MS after the
     latency switch and its relative amplitude error (analysis.readaptation) is <= AMPLITUDE_TOLERANCE after the
     probability switch; RLS with decayed P stays >= 2x higher than the three-factor readout on both, RLS with
     P reset at the switch reaches both tolerances;
  4. |cos(what, when)| < 0.2 for every readout (vectors defined in models/yamada_chao_2025_reservoir.json);
  5. Nicola-Clopath 5 Hz sine: Pearson r > 0.95 in the test phase;
  6. runtime and cpp_standalone give identical spikes without noise (and with it).
"""
import numpy as np
import pytest
from scipy.stats import spearmanr

from neurosim.reservoir import Paradigm, ReservoirParams

N_READAPT = 20              # trials of the switched identity after the switch
TIMING_TOLERANCE_MS = 10.0  # one 10 ms bin, as in result 1
AMPLITUDE_TOLERANCE = 0.25  # |a_after/a_before - p_after/p_before| relative to p_after/p_before


@pytest.mark.parametrize("noise", [False, True])
def test_runtime_and_cpp_standalone_give_identical_spikes(noise):
    """Result 6: a deterministic configuration (no noise) gives identical spike trains on both devices; and so does
    the noisy one, whose counter-based noise draws the same numbers on every target."""
    from neurosim.reservoir.network import simulate
    par = Paradigm([150, 250], [1.0, 1.0], 2, seed=1, trial_ms=300, iti_ms=100)
    res = ReservoirParams(n_neurons=1000)
    a = simulate(par, noise=noise, seed=0, device="runtime", target="numpy", reservoir=res)
    b = simulate(par, noise=noise, seed=0, device="cpp_standalone", reservoir=res)
    assert a.spike_i.size > 1000
    key = lambda r: sorted(zip(np.round(r.spike_t * 2e3).astype(int), r.spike_i))  # noqa: E731
    assert key(a) == key(b)
    np.testing.assert_allclose(a.final_w_when, b.final_w_when, rtol=1e-6, atol=1e-9)


def test_readout_fan_in_leaves_the_reservoir_unchanged():
    """The readouts read a fixed fan-in of excitatory neurons (their traces in a group of their own, the rest of the
    reservoir in another): the reservoir does not hear its readouts, so its spikes must not depend on the fan-in, and
    with the fan-in at all 800 excitatory neurons the split is the one-group network of earlier versions."""
    from neurodata.errors import InvalidInputError
    from neurosim.reservoir.network import simulate
    par = Paradigm([150, 250], [1.0, 1.0], 2, seed=1, trial_ms=300, iti_ms=100)
    full = simulate(par, seed=0, device="runtime", target="numpy", reservoir=ReservoirParams(n_neurons=1000))
    part = simulate(par, seed=0, device="runtime", target="numpy",
                    reservoir=ReservoirParams(n_neurons=1000, readout_fan_in=300))
    assert (full.n_readout_inputs, part.n_readout_inputs) == (800, 300)
    np.testing.assert_array_equal(full.spike_i, part.spike_i)
    np.testing.assert_array_equal(full.spike_t, part.spike_t)
    assert np.all(np.diff(part.spike_t) >= 0) and part.spike_i.max() >= 800     # one train over all 1000 neurons
    assert part.final_w_when.shape == (2, 3, 300) and np.abs(part.final_w_when).max() > 0
    with pytest.raises(InvalidInputError, match="readout_fan_in"):
        simulate(par, reservoir=ReservoirParams(n_neurons=1000, readout_fan_in=0))


def test_continuation_starts_from_the_learned_readouts():
    """initial_weights = a run's final readout state: a frozen continuation keeps it, a wrong tuple is refused."""
    from neurodata.errors import InvalidInputError
    from neurosim.reservoir.network import simulate
    par = Paradigm([150, 250], [1.0, 1.0], 4, seed=1, trial_ms=300, iti_ms=100)
    res = ReservoirParams(n_neurons=200)
    a = simulate(par, seed=0, device="runtime", target="numpy", reservoir=res, record_weights=False)
    state = (a.final_w_when, a.final_w_what, a.final_b_what, a.final_g)
    assert np.abs(a.final_w_when).max() > 0 and not np.allclose(a.final_g, 1.0)   # something was learned
    b = simulate(par, seed=0, device="runtime", target="numpy", reservoir=res, record_weights=False,
                 plasticity=False, initial_weights=state)
    for got, want in zip((b.final_w_when, b.final_w_what, b.final_b_what, b.final_g), state):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(InvalidInputError, match="w_when, w_what, b_what, g"):
        simulate(par, seed=0, device="runtime", target="numpy", reservoir=res, initial_weights=state[:2])


def test_unknown_device_names_the_backends_devices():
    """The device is checked against the one tuple in neurosim.backends, before anything is drawn or built."""
    from neurodata.errors import InvalidInputError
    from neurosim.backends import DEVICES
    from neurosim.reservoir.network import simulate
    par = Paradigm([100], [1.0], 1, trial_ms=200, iti_ms=100)
    with pytest.raises(InvalidInputError, match="Did you mean 'cpp_standalone'") as info:
        simulate(par, device="cpp_standlone")
    assert all(repr(name) in str(info.value) for name in DEVICES)


def test_thalamic_noise_is_standard_normal():
    """The counter-based ziggurat (NumPy twin of thalamic_noise.h): 10^6 draws over 1000 neurons x 1000 steps are
    N(0, 1) (KS distance < 1.36/sqrt(n), the 5 % critical value; tail mass beyond the ziggurat's 3.654 within 10 %
    of 2.58e-4), uncorrelated between neighbouring steps and between seeds, and reproducible."""
    from scipy import stats

    from neurosim.reservoir.noise import thalamic_gauss_numpy
    neurons, steps = np.arange(1000)[None, :], np.arange(1000)[:, None]
    x = thalamic_gauss_numpy(neurons, steps, 7)
    flat = x.ravel()
    assert stats.kstest(flat, "norm").statistic < 1.36 / np.sqrt(flat.size)
    assert abs(flat.mean()) < 5e-3 and abs(flat.var() - 1) < 5e-3
    tail = np.mean(np.abs(flat) > 3.6541528853610088)
    assert abs(tail / (2 * stats.norm.sf(3.6541528853610088)) - 1) < 0.1
    assert abs(np.corrcoef(x[:-1].ravel(), x[1:].ravel())[0, 1]) < 5e-3
    assert abs(np.corrcoef(flat, thalamic_gauss_numpy(neurons, steps, 8).ravel())[0, 1]) < 5e-3
    np.testing.assert_array_equal(thalamic_gauss_numpy(neurons[:, :10], steps[:10], 7), x[:10, :10])


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


def test_three_factor_readapts_within_20_trials(trained):
    """Result 3, three-factor half (the RLS comparison is the slow test below): 20 trials of the switched identity
    after the latency switch (200 -> 300 ms) and after the probability switch (0.25 -> 1) bring the readout within
    tolerance.  Measured (seed 0): timing error 1 ms, amplitude error 0.157."""
    from neurosim.reservoir.analysis import readaptation, trial_responses
    from neurosim.reservoir.experiment import LATENCY_SWITCH, PROBABILITY_SWITCH
    par = trained.paradigm
    switch = par.switches[0].trial
    resp = trial_responses(trained)[0]
    lat = readaptation(par, resp, LATENCY_SWITCH["identity"], switch, N_READAPT)
    prob = readaptation(par, resp, PROBABILITY_SWITCH["identity"], switch, N_READAPT)
    assert lat["peak_ms"][0] < 250.0                    # the switch is real: the first trial still peaks at 200 ms
    assert lat["timing_error_ms"] <= TIMING_TOLERANCE_MS
    assert prob["amplitude_error"] <= AMPLITUDE_TOLERANCE


@pytest.fixture(scope="module")
def readaptation_scores(trained):
    """Re-adaptation of the three-factor readouts and of RLS (decayed P, P reset at the switch) on the same
    features and trials (the reservoir has no feedback from its readouts)."""
    from neurosim.reservoir.analysis import readaptation, trial_responses
    from neurosim.reservoir.experiment import LATENCY_SWITCH, PROBABILITY_SWITCH
    from neurosim.reservoir.force import RLSReadout, readout_features
    par = trained.paradigm
    switch = par.switches[0].trial
    width = trained.params["readout"].target_width_ms
    feats = readout_features(trained)
    responses = {"three_factor": trial_responses(trained)[0],
                 "rls_decayed": RLSReadout().fit_trials(feats, par, width).responses_,
                 "rls_reset": RLSReadout(reset_at_trial=switch).fit_trials(feats, par, width).responses_}
    scores = {}
    for name, resp in responses.items():
        lat = readaptation(par, resp, LATENCY_SWITCH["identity"], switch, N_READAPT)
        prob = readaptation(par, resp, PROBABILITY_SWITCH["identity"], switch, N_READAPT)
        scores[name] = dict(timing_error_ms=lat["timing_error_ms"], amplitude_error=prob["amplitude_error"])
    print(scores)
    return scores


@pytest.mark.slow
def test_rls_readapts_only_when_p_is_reset(readaptation_scores):
    """Result 3, baseline half: RLS with decayed P stays off the new contingencies, RLS with P reset returns."""
    dec, reset = readaptation_scores["rls_decayed"], readaptation_scores["rls_reset"]
    assert dec["timing_error_ms"] > TIMING_TOLERANCE_MS and dec["amplitude_error"] > AMPLITUDE_TOLERANCE
    assert reset["timing_error_ms"] <= TIMING_TOLERANCE_MS and reset["amplitude_error"] <= AMPLITUDE_TOLERANCE


@pytest.mark.slow
def test_three_factor_readapts_faster_than_decayed_rls(readaptation_scores):
    """Result 3: the three-factor readout returns within tolerance and RLS with decayed P stays >= 2x higher.
    Measured (seed 0): three-factor timing error 1 ms (peak at 300 ms from the 8th trial of the switched identity
    on), amplitude error 0.157."""
    ours, dec = readaptation_scores["three_factor"], readaptation_scores["rls_decayed"]
    assert ours["timing_error_ms"] <= TIMING_TOLERANCE_MS
    assert ours["amplitude_error"] <= AMPLITUDE_TOLERANCE
    assert dec["timing_error_ms"] >= 2 * max(ours["timing_error_ms"], 1.0)
    assert dec["amplitude_error"] >= 2 * ours["amplitude_error"]


# Other network seeds (slow).  Measured (320 trials, cpp_standalone): timing holds on neither (0.675 on seed 1,
# 0.725 on seed 2: their cue-evoked trajectories recur less exactly; an offline ridge readout on the same traces
# reaches 0.825 and 0.875, below 0.9 too); probability holds on seed 2 (rho 1, R^2 0.975), not on seed 1 (rho 0.4:
# the ITI-trained gain A of the p = 0.25 identity ends training at 0.49); orthogonality holds on seed 1 (max |cos|
# 0.18), not quite on seed 2 (identity 3: 0.204); see the model card.
_OTHER_SEEDS = {1: dict(timing=0.675, probability_holds=False, orthogonal=True),
                2: dict(timing=0.725, probability_holds=True, orthogonal=False)}


@pytest.fixture(scope="module", params=sorted(_OTHER_SEEDS))
def trained_other_seed(request):
    from neurosim.reservoir.experiment import run_experiment
    return request.param, run_experiment(320, device="cpp_standalone", seed=request.param)


@pytest.mark.slow
def test_other_seeds_orthogonality(trained_other_seed):
    from neurosim.reservoir.analysis import what_when_cosine
    seed, result = trained_other_seed
    cos = max(abs(what_when_cosine(result, k)) for k in range(4))
    assert (cos < 0.2) == _OTHER_SEEDS[seed]["orthogonal"], (seed, cos)
    if cos >= 0.2:
        pytest.xfail(f"result 4 does not hold on seed {seed}: max |cos| {cos:.3f}")


@pytest.mark.slow
def test_other_seeds_probability(trained_other_seed):
    from neurosim.reservoir.analysis import peak_table
    seed, result = trained_other_seed
    test = peak_table(result)[lambda d: ~d.learning]
    means = test.groupby("probability").peak_amplitude.mean()
    rho = spearmanr(means.index, means.values).statistic
    resid = means.values - np.polyval(np.polyfit(means.index, means.values, 1), means.index)
    holds = rho == 1.0 and 1 - resid.var() / means.values.var() >= 0.9
    assert holds == _OTHER_SEEDS[seed]["probability_holds"], (seed, rho, means.values)
    if not holds:
        pytest.xfail(f"result 2 does not hold on seed {seed}: rho {rho:.2f}")


@pytest.mark.slow
def test_other_seeds_timing_within_one_bin(trained_other_seed):
    from neurosim.reservoir.analysis import peak_table
    seed, result = trained_other_seed
    test = peak_table(result)[lambda d: ~d.learning]
    timing = np.mean(np.abs(test.peak_ms - test.latency_ms) <= 10.0)
    assert timing < 0.9, timing  # measured below the 0.9 on both seeds (see _OTHER_SEEDS)
    pytest.xfail(f"result 1 does not hold on seed {seed}: timing {timing:.3f} "
                 f"(measured {_OTHER_SEEDS[seed]['timing']})")
