"""Ground truth for the motion detector: the reduced configuration learns the 12 motions from event movies
(chance 1/12) on 2 CPU cores, magnitude pruning keeps accuracy near peak with 3 % of the dense kernel whereas
shortening loses it, and the spiking output (1 spike/s per detector, winner-take-all) names the motion."""
import numpy as np
import pytest

pytest.importorskip("torch")

from neurosim.motion.config import get_config  # noqa: E402
from neurosim.motion.events import make_dataset  # noqa: E402
from neurosim.motion.model import HeterogeneousDelayClassifier  # noqa: E402
from neurosim.motion.prune import half_accuracy_point, pruning_curve, shortening_curve  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    config = get_config("reduced")
    train = make_dataset(config, config.n_train, seed=1)  # saccade-like walks, label switching (block 24 steps)
    test = make_dataset(config, config.n_test, seed=2, block_length=config.test_block_length)
    clf = HeterogeneousDelayClassifier(config=config, n_threads=2, seed=0).fit(train.events, train.labels)
    return clf, test


def test_reduced_configuration_reaches_issue_target(trained):
    clf, test = trained
    # per-time-step accuracy with the paper's read-out (evidence averaged over space); chance is 1/12 = 0.083.
    # measured 0.99 on these 32 movies (0.95 on 96) on this machine (see the model card)
    assert clf.score(test.events, test.labels) >= 0.8


def test_notebook_readout_is_well_above_chance(trained):
    clf, test = trained
    # the notebook's top-15 % voxel selection, decided per time step (measured 0.80)
    assert clf.score(test.events, test.labels, readout="top") >= 0.5


def test_magnitude_pruning_keeps_peak_at_3_percent(trained):
    clf, test = trained
    # fractions of the dense kernel (12 x 2 x 7 x 13 x 13 = 28,392 taps, 9,953 non-zero after the L1 prior), as the
    # paper counts them: 1.0 keeps every non-zero tap (a fraction 0.35 of the dense kernel), 3 % keeps 852
    curve = pruning_curve(clf, test.events, test.labels, fractions=[1.0, 0.1, 0.03, 0.01, 0.003, 0.001],
                          methods=("magnitude",))
    peak = curve["accuracy"].max()
    at3 = curve.loc[np.isclose(curve["fraction"], 0.03, rtol=0.05), "accuracy"].item()
    assert at3 >= peak - 0.05, curve
    half = half_accuracy_point(curve, chance=1 / 12)
    # half-saturation of a sigmoid fit (chance floor) at a much smaller count (measured ~51 weights on these
    # 32 movies from a 13-point curve)
    assert np.isfinite(half) and half < 0.01 * clf.kernel_.size, (half, curve)


def test_shortening_loses_accuracy_long_before_magnitude_pruning(trained):
    clf, test = trained
    short = shortening_curve(clf, test.events, test.labels, delays=[1, 3, 5, 7])
    # measured 0.06 / 0.54 / 0.90 / 0.99 with 531 / 3926 / 7037 / 9953 weights (1, 3, 5, 7 delays)
    assert short["accuracy"].iloc[-1] == clf.score(test.events, test.labels)
    assert short["accuracy"].iloc[0] < short["accuracy"].iloc[-1] - 0.5, short
    half_short = half_accuracy_point(short, "shortening", chance=1 / 12)
    # measured ~3700 weights (a third of the non-zero taps, as the paper's 'one third'), against ~51 by magnitude
    assert 1000 < half_short < 9953, short


def test_spiking_output_names_the_motion(trained):
    from neurosim.motion.spiking import spike_precision, spike_rates

    clf, test = trained
    config = clf.config_
    calibration = make_dataset(config, 32, seed=1)  # training movies (the first 32 of the fit's seed)
    clf = clf.with_kernel(clf.kernel_).calibrate_thresholds(calibration.events)  # the paper's 1 spike/s
    rates = spike_rates(clf.spikes(calibration.events), dt=config.dt)
    # 1 spike/s, but where the k-th evidence falls in a cluster of equal values (identical local event patterns),
    # which no threshold splits (measured 0.999-1.000 per class)
    np.testing.assert_allclose(rates, 1.0, rtol=0.02)
    spikes = clf.spikes(test.events)
    rates = spike_rates(spikes, dt=config.dt)
    # held-out constant-motion movies: measured mean 1.26 spikes/s (0.04-2.3 per class, by which motions appear)
    assert 0.5 < rates.mean() < 2.0, rates
    # measured 0.45 of the output spikes carry the movie's label (chance 1/12): per-voxel decisions are noisier
    # than the evidence pooled over space (0.99)
    assert spike_precision(spikes, test.labels, skip=config.kernel_size[0] - 1) > 0.3
