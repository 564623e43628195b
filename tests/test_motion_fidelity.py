"""Issue #28 (motion): the authors' event rule against their density table, spiking output with a
winner-take-all (dense model == Brian2 twin, spike for spike), pruning counted over the dense kernel with a
sigmoid half point, the shortening curve, streamed events in fit, and the edge cases as regression tests."""
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from neurodata.errors import InvalidInputError
from neurosim.motion.config import MotionConfig, get_config
from neurosim.motion.events import (TEXTURED_IMAGES, events_from_movie, make_dataset, make_movie, read_events,
                                    write_events)

# the authors' notebook (FastMotionDetection.ipynb, "Control the input firing frequency"): events per voxel of the
# (2, T, X, Y) volume on 64 x 64 x 100 movies, selectivity = 1 x 10**(-0.2, 0.2, 0.6) over 30 van Hateren movies,
# and 1.0 on one movie
AUTHORS_DENSITY = {10 ** -0.2: 0.144, 1.0: 0.061, 10 ** 0.2: 0.034, 10 ** 0.6: 0.0020}


def _notebook_events(frames, selectivity):
    """A line-by-line float transcription of the notebook's make_events, as the reference."""
    movie = np.moveaxis(frames, 0, -1)  # (x, y, t) as in the notebook
    it = np.diff(movie, axis=-1)
    threshold = selectivity * it.std()
    it_full = np.zeros(movie.shape)
    it_full[:, :, 1:] = it
    spikes = np.zeros(movie.shape)
    for t in range(1, movie.shape[2]):
        it_full[:, :, t] -= threshold * spikes[:, :, t - 1]
        spikes[:, :, t] = 1.0 * (it_full[:, :, t] > threshold) - 1.0 * (it_full[:, :, t] < -threshold)
    out = np.zeros((2,) + frames.shape, dtype=bool)
    out[0] = np.moveaxis(spikes == -1, -1, 0)
    out[1] = np.moveaxis(spikes == 1, -1, 0)
    return out


def test_default_event_rule_is_the_notebook_rule_exactly():
    config = get_config("paper", size=(24, 24), n_steps=30)
    frames, _ = make_movie(config, np.random.default_rng(0))
    for s in (0.5, 1.0, 2.0):
        np.testing.assert_array_equal(events_from_movie(frames, s), _notebook_events(frames, s))
    # the residual rule differs and is denser: sub-threshold changes add up
    assert events_from_movie(frames, rule="residual").sum() > 1.5 * events_from_movie(frames).sum()
    with pytest.raises(InvalidInputError, match="Did you mean 'residual'"):
        events_from_movie(frames, rule="residuals")
    # a pixel whose luminance ramps by 0.6 threshold per step fires with the residual rule only
    ramp = np.zeros((10, 1, 2))
    ramp[:, 0, 0] = 0.6 * np.arange(10)
    assert events_from_movie(ramp, threshold=1.0).sum() == 0
    assert events_from_movie(ramp, threshold=1.0, rule="residual")[1, :, 0, 0].sum() == 5


def test_event_densities_within_20_percent_of_the_authors_table():
    # frames: the paper configuration's generator at the notebook's DEBUG=2 size (64 x 64 pixels, 100 steps,
    # 36 motions, blocks of 24 steps), 16 movies from each textured photograph (the default images without
    # 'astronaut' and 'rocket'; the paper's van Hateren scenes are not available offline). Densities vary between
    # movies by ~30 % (SD), so 96 movies keep the standard error near 3 %.
    config = get_config("paper", size=(64, 64), n_steps=100)
    rng = np.random.default_rng(0)
    densities = {s: [] for s in AUTHORS_DENSITY}
    residual = {s: [] for s in AUTHORS_DENSITY}
    for image in TEXTURED_IMAGES:
        for _ in range(16):
            frames, _ = make_movie(config.replace(images=(image,)), rng)
            for s in AUTHORS_DENSITY:
                densities[s].append(events_from_movie(frames, s).mean())
                if len(residual[s]) < 12:
                    residual[s].append(events_from_movie(frames, s, rule="residual").mean())
    for s, authors in AUTHORS_DENSITY.items():
        ours = np.mean(densities[s])
        # measured 0.127 / 0.072 / 0.031 / 0.0023 (-12 / +17 / -10 / +14 %) against 0.144 / 0.061 / 0.034 /
        # 0.0020 (seeds 1, 2: -14..-13 / +15..+16 / -9..-5 / +6..+15 %); the authors' 1.0 entry is one movie, their
        # 30-movie scan interpolates to 0.070 there
        assert abs(ours - authors) <= 0.2 * authors, (s, ours, authors)
        # the residual rule (now an option) is 1.6-19x denser on these frames
        assert np.mean(residual[s]) > 1.5 * authors


def test_reduced_configuration_keeps_the_residual_rule_and_old_files_load_with_it(tmp_path):
    assert get_config("paper").event_rule == "notebook"
    assert get_config("reduced").event_rule == "residual"
    assert MotionConfig().event_rule == "notebook"
    with pytest.raises(InvalidInputError, match="event_rule"):
        MotionConfig(event_rule="log")
    pytest.importorskip("torch")
    import os

    from neurosim.motion.model import HeterogeneousDelayClassifier
    # the shipped checkpoint predates the setting: it was trained on residual-rule events and says so on loading
    path = os.path.join(os.path.dirname(__file__), "..", "models", "grimaldi_perrinet_2023_reduced.pt")
    assert HeterogeneousDelayClassifier.load(path).config_.event_rule == "residual"


# ---------------------------------------------------------------------------------------------------------------
# spiking output
def _small_classifier(seed=0, bias=True, n_train=4):
    from neurosim.motion.model import HeterogeneousDelayClassifier

    config = MotionConfig(n_directions=4, n_speeds=1, speed_median=1.0, size=(10, 12), n_steps=16,
                          kernel_size=(4, 5, 5), epochs=1, batch_size=2, voxels_per_movie=64, lr=1e-2, bias=bias,
                          images=("grass", "camera"))
    data = make_dataset(config, n_train, seed=seed)
    clf = HeterogeneousDelayClassifier(config=config, n_threads=1, seed=seed).fit(data.events, data.labels)
    # one epoch leaves every class with the same large centre tap, and one class wins every voxel; random taps
    # (float32, as trained kernels) make every class win somewhere
    rng = np.random.default_rng(seed)
    clf = clf.with_kernel(rng.standard_normal(clf.kernel_.shape).astype(np.float32))
    clf.bias_ = (0.1 * rng.standard_normal(clf.bias_.shape)).astype(np.float32) if bias else clf.bias_
    return clf, data


def test_thresholds_give_the_target_rate_after_the_winner_take_all():
    pytest.importorskip("torch")
    from neurosim.motion.spiking import calibrate_thresholds, spike_rates, winner_take_all

    clf, data = _small_classifier()
    clf.calibrate_thresholds(data.events, rate=25.0)
    spikes = clf.spikes(data.events)
    assert spikes.shape == data.events.shape[:1] + (4,) + data.events.shape[2:]
    # one spike at most per position and step, always the winning class
    assert spikes.sum(axis=1).max() == 1
    evidence = clf.logits(data.events)
    n, c, t, x, y = np.nonzero(spikes)
    np.testing.assert_array_equal(c, evidence.argmax(axis=1)[n, t, x, y])
    assert np.all(evidence[n, c, t, x, y] > clf.thresholds_[c])
    # every detector neuron fires 25 spikes/s on the calibration movies (k = 25 * 1e-3 * 4 * 16 * 120 = 192)
    np.testing.assert_allclose(spike_rates(spikes, dt=clf.config_.dt), 25.0, rtol=1e-9)
    # unit cases: a class that never wins never fires, k = 0 gives no spike
    ev = np.zeros((1, 2, 3, 1, 1))
    ev[0, 0] = np.array([1.0, 2.0, 3.0])[:, None, None]
    th = calibrate_thresholds(ev, 2, rate=1000 / 3, dt=1e-3)  # k = 1 of 3 voxels
    assert th[0] == 2.5 and th[1] == -np.inf
    assert winner_take_all(ev, th).sum() == 1
    assert np.all(calibrate_thresholds(ev, 2, rate=1.0) == np.inf)
    with pytest.raises(InvalidInputError, match="calibrate_thresholds first|call calibrate_thresholds"):
        clf.with_kernel(clf.kernel_).spikes(data.events)


def test_brian2_twin_spikes_equal_the_dense_model_spikes():
    pytest.importorskip("torch")
    pytest.importorskip("brian2")
    from neurosim.motion.twin import run_brian2_twin

    clf, data = _small_classifier(seed=1)
    clf.calibrate_thresholds(data.events, rate=30.0)
    for movie in range(2):
        dense = clf.spikes(data.events[movie:movie + 1])[0]
        twin = run_brian2_twin(data.events[movie], clf.kernel_, clf.bias_, thresholds=clf.thresholds_,
                               flip=clf.config_.flip, dt=clf.config_.dt, target="numpy")
        np.testing.assert_allclose(twin.evidence, clf.logits(data.events[movie:movie + 1])[0], rtol=1e-5, atol=1e-4)
        assert dense.sum() > 20 and dense.any(axis=(1, 2, 3)).all()  # measured 247 and 196, every class
        np.testing.assert_array_equal(twin.spikes, dense)
    # without thresholds: evidence only, as before
    assert run_brian2_twin(data.events[0], clf.kernel_, clf.bias_, target="numpy").spikes is None


def test_thresholds_survive_save_and_load(tmp_path):
    pytest.importorskip("torch")
    from neurosim.motion.model import HeterogeneousDelayClassifier

    clf, data = _small_classifier()
    clf.calibrate_thresholds(data.events)  # the paper's 1 spike/s
    loaded = HeterogeneousDelayClassifier.load(clf.save(tmp_path / "m.pt"))
    np.testing.assert_array_equal(loaded.thresholds_, clf.thresholds_)
    assert loaded.threshold_rate_ == 1.0
    np.testing.assert_array_equal(loaded.spikes(data.events), clf.spikes(data.events))


# ---------------------------------------------------------------------------------------------------------------
# pruning
def test_pruning_counts_over_the_dense_kernel():
    pytest.importorskip("torch")
    from neurosim.motion.prune import prune_kernel, pruning_curve, shortening_curve

    clf, data = _small_classifier()
    kernel = clf.kernel_.copy()
    kernel[np.abs(kernel) < np.quantile(np.abs(kernel), 0.5)] = 0  # half the taps are zero
    clf = clf.with_kernel(kernel)
    n_dense, n_nonzero = kernel.size, np.count_nonzero(kernel)
    curve = pruning_curve(clf, data.events, data.labels, fractions=[1.0, 0.6, 0.1, 0.01], methods=("magnitude",))
    # 1.0 and 0.6 of the dense kernel both keep every non-zero tap: one row, at its share of the dense kernel
    assert curve["n_weights"].tolist() == [n_nonzero, round(0.1 * n_dense), round(0.01 * n_dense)]
    np.testing.assert_allclose(curve["fraction"], curve["n_weights"] / n_dense)
    legacy = pruning_curve(clf, data.events, data.labels, fractions=[0.1], methods=("magnitude",), count="nonzero")
    assert legacy["n_weights"].item() == round(0.1 * n_nonzero)
    # shortening with a dense budget: d delays cost d / K_T of the dense kernel, zeros included
    slice_size = n_dense // kernel.shape[2]
    short = prune_kernel(kernel, 2 * slice_size, "shortening", count="dense")
    np.testing.assert_array_equal(short[:, :, :2], kernel[:, :, :2])
    assert not short[:, :, 2:].any()
    rows = shortening_curve(clf, data.events, data.labels)
    assert rows["n_delays"].tolist() == [1, 2, 3, 4]
    assert rows["n_weights"].tolist() == [np.count_nonzero(kernel[:, :, :d]) for d in (1, 2, 3, 4)]
    assert rows["accuracy"].iloc[-1] == clf.score(data.events, data.labels)


def test_half_accuracy_point_is_a_sigmoid_fit():
    from neurosim.motion.prune import fit_sigmoid, half_accuracy_point

    n = np.geomspace(1, 436_968, 15)
    chance, high, half, width = 1 / 36, 0.91, 652.0, 0.35
    acc = chance + (high - chance) / (1 + np.exp(-(np.log10(n) - np.log10(half)) / width))
    acc = acc + 0.01 * np.random.default_rng(0).standard_normal(len(n))  # measurement noise
    curve = pd.DataFrame({"method": "magnitude", "n_weights": n, "accuracy": acc})
    fit = fit_sigmoid(curve, chance=chance)
    assert abs(np.log10(fit.half_weights / half)) < 0.05 and abs(fit.high - high) < 0.02
    assert abs(half_accuracy_point(curve, chance=chance) / half - 1) < 0.12
    free = fit_sigmoid(curve)  # lower asymptote fitted too
    assert abs(free.low - chance) < 0.02
    # the fit is not an interpolation: on a noiseless curve sampled coarsely it still finds the half point
    coarse = curve.iloc[::3].assign(accuracy=chance + (high - chance) / (
        1 + np.exp(-(np.log10(n[::3]) - np.log10(half)) / width)))
    assert abs(half_accuracy_point(coarse, chance=chance) / half - 1) < 1e-3
    assert np.isnan(half_accuracy_point(curve[curve["n_weights"] > 1e4], chance=chance))  # no drop measured
    with pytest.raises(InvalidInputError, match="at least 4 points"):
        fit_sigmoid(curve.iloc[:3], chance=chance)


def test_fit_streams_events_without_a_float_copy_of_all_movies():
    pytest.importorskip("torch")
    from neurosim.motion.model import HeterogeneousDelayClassifier

    config = MotionConfig(n_directions=4, n_speeds=1, speed_median=1.0, size=(24, 24), n_steps=24,
                          kernel_size=(3, 3, 3), epochs=1, batch_size=4, voxels_per_movie=16, lr=1e-2)
    rng = np.random.default_rng(0)
    events = rng.random((64, 2, 24, 24, 24)) < 0.05
    labels = rng.integers(4, size=(64, 24))
    full_float32 = events.size * 4  # 7.1 MB: what the old events.astype(np.float32) allocated
    tracemalloc.start()
    try:
        HeterogeneousDelayClassifier(config=config, n_threads=1, seed=0).fit(events, labels)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < full_float32 / 4, peak  # one batch of 4 movies is 1/16 of it


# ---------------------------------------------------------------------------------------------------------------
# edge cases (regression tests)
def test_a_batch_without_events_writes_and_reads_back(tmp_path):
    empty = np.zeros((2, 2, 10, 4, 5), dtype=bool)
    labels = np.ones((2, 10), dtype=int)
    path = write_events(tmp_path / "empty.nwb", empty, labels)  # was a raw hdmf "could not resolve dtype"
    events, back, _ = read_events(path)
    assert events.shape == empty.shape and not events.any()
    np.testing.assert_array_equal(back, labels)
    mixed = empty.copy()
    mixed[1, 1, 3, 2, 2] = True  # one movie silent, one with a single event
    np.testing.assert_array_equal(read_events(write_events(tmp_path / "mixed.nwb", mixed))[0], mixed)


def test_short_movies_and_empty_input_raise_suite_errors():
    pytest.importorskip("torch")
    clf, data = _small_classifier(n_train=2)
    k_t = clf.config_.kernel_size[0]
    short = data.events[:, :, :k_t - 1]
    with pytest.raises(InvalidInputError, match=f"at least {k_t} steps long"):  # was NaN + RuntimeWarning
        clf.score(short, data.labels[:, :k_t - 1])
    assert 0 <= clf.score(data.events[:, :, :k_t], data.labels[:, :k_t]) <= 1
    silent = np.zeros_like(data.events[:1])
    with pytest.raises(InvalidInputError, match=r"Movie\(s\) \[0\] hold no event"):  # was class 0 everywhere
        clf.predict(silent)
    with pytest.raises(InvalidInputError, match="got 0 movies"):
        clf.predict(data.events[:0])
    with pytest.raises(InvalidInputError, match="got 0 movies"):
        clf.fit(data.events[:0], data.labels[:0])
