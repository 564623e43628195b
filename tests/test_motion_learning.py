"""Ground truth for the motion detector: the reduced configuration learns the 12 motions from event movies
(chance 1/12) on 2 CPU cores, and magnitude pruning keeps accuracy near peak with 3 % of the weights."""
import numpy as np
import pytest

pytest.importorskip("torch")

from neurosim.motion.config import get_config  # noqa: E402
from neurosim.motion.events import make_dataset  # noqa: E402
from neurosim.motion.model import HeterogeneousDelayClassifier  # noqa: E402
from neurosim.motion.prune import half_accuracy_point, pruning_curve  # noqa: E402


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
    curve = pruning_curve(clf, test.events, test.labels, fractions=[1.0, 0.1, 0.03, 0.01, 0.003],
                          methods=("magnitude",))
    peak = curve["accuracy"].max()
    at3 = curve.loc[np.isclose(curve["fraction"], 0.03, rtol=0.05), "accuracy"].item()
    assert at3 >= peak - 0.05, curve
    half = half_accuracy_point(curve, chance=1 / 12)
    # falls to half of (peak - chance) at a much smaller count (measured ~50 of 9953 non-zero weights)
    assert np.isfinite(half) and half < 0.03 * curve["n_weights"].max(), (half, curve)
