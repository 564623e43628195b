"""Unit tests of the heterogeneous-delay motion detector (Grimaldi & Perrinet 2023): shapes, causality,
dense conv == NumPy event-driven == Brian2 twin, event statistics, NWB round trip, CLI."""
import numpy as np
import pytest

from neurodata.errors import BackendUnavailableError, InvalidInputError
from neurosim.motion.config import MotionConfig, get_config
from neurosim.motion.events import (events_from_movie, make_dataset, make_movie, read_events, write_events)


def test_importing_neurosim_motion_stays_light():
    import subprocess
    import sys
    code = "import neurosim, neurosim.motion, neurosim.motion.cli, sys; print('torch' in sys.modules, 'brian2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_paper_kernel_has_436968_weights_and_36_biases():
    torch = pytest.importorskip("torch")
    from neurosim.motion.model import DelayKernelNet

    config = get_config("paper")
    assert config.n_classes == 36 and config.kernel_size == (21, 17, 17)
    net = DelayKernelNet(config.n_classes, config.kernel_size)
    assert tuple(net.weight.shape) == (36, 2, 21, 17, 17)
    assert net.weight.numel() == config.n_weights == 436_968
    assert net.bias.numel() == 36
    assert isinstance(net.weight, torch.nn.Parameter)


def test_single_event_reaches_detectors_only_after_its_delay():
    torch = pytest.importorskip("torch")
    from neurosim.motion.model import delay_convolution

    t0, x0, y0, d = 5, 4, 6, 3
    events = torch.zeros(1, 2, 16, 10, 11, dtype=torch.float64)
    events[0, 1, t0, x0, y0] = 1.0  # one ON event
    kernel = torch.zeros(2, 2, 7, 5, 5, dtype=torch.float64)
    kernel[1, 1, d, 2, 2] = 0.75  # one tap: class 1, ON, delay d, no spatial offset
    out = delay_convolution(events, kernel)[0]
    nz = torch.nonzero(out).tolist()
    assert nz == [[1, t0 + d, x0, y0]]
    assert out[1, t0 + d, x0, y0] == 0.75
    assert torch.all(out[:, :t0] == 0)  # nothing precedes the event
    # a spatial offset moves the evidence by the offset
    kernel.zero_()
    kernel[0, 1, 0, 4, 1] = 1.0  # dx = +2, dy = -1
    out = delay_convolution(events, kernel)[0]
    assert torch.nonzero(out).tolist() == [[0, t0, x0 + 2, y0 - 1]]


def _random_problem(seed=0, classes=3, shape=(2, 14, 7, 8), kernel_size=(4, 5, 3), keep=0.6):
    rng = np.random.default_rng(seed)
    kernel = rng.standard_normal((classes, 2) + kernel_size)
    kernel[rng.random(kernel.shape) > keep] = 0.0
    bias = rng.standard_normal(classes)
    draw = rng.random(shape)
    events = np.zeros(shape, dtype=bool)
    events[1] = draw[1] < 0.1
    events[0] = (draw[0] < 0.1) & ~events[1]
    return events, kernel, bias


def test_dense_convolution_equals_numpy_event_driven_accumulation():
    torch = pytest.importorskip("torch")
    from neurosim.motion.model import delay_convolution
    from neurosim.motion.twin import accumulate_events

    for seed in range(3):
        events, kernel, bias = _random_problem(seed)
        dense = delay_convolution(torch.from_numpy(events[None].astype(float)), torch.from_numpy(kernel),
                                  torch.from_numpy(bias))[0].numpy()
        np.testing.assert_allclose(accumulate_events(events, kernel, bias), dense, rtol=1e-12, atol=1e-12)


def test_brian2_twin_evidence_equals_dense_convolution():
    torch = pytest.importorskip("torch")
    pytest.importorskip("brian2")
    from neurosim.motion.model import delay_convolution
    from neurosim.motion.twin import run_brian2_twin

    events, kernel, bias = _random_problem(1)
    dense = delay_convolution(torch.from_numpy(events[None].astype(float)), torch.from_numpy(kernel),
                              torch.from_numpy(bias))[0].numpy()
    result = run_brian2_twin(events, kernel, bias, target="numpy")
    assert result.evidence.shape == dense.shape
    np.testing.assert_allclose(result.evidence, dense, rtol=1e-10, atol=1e-10)
    assert result.n_synapses > 0 and result.n_events == int(events.sum())


def test_pruned_kernel_makes_proportionally_fewer_synapses():
    from neurosim.motion.prune import prune_kernel
    from neurosim.motion.twin import kernel_synapses

    _, kernel, _ = _random_problem(2, keep=1.0)
    full = len(kernel_synapses(kernel, (12, 12))[0])
    pruned = prune_kernel(kernel, kernel.size // 10)
    assert np.count_nonzero(pruned) == kernel.size // 10
    assert 0.05 * full < len(kernel_synapses(pruned, (12, 12))[0]) < 0.15 * full
    short = prune_kernel(kernel, kernel[:, :, :1].size, method="shortening")
    assert np.count_nonzero(short[:, :, 1:]) == 0 and np.count_nonzero(short[:, :, 0]) == kernel[:, :, :1].size


def test_genn_device_refuses_heterogeneous_delays():
    from neurosim.motion.twin import run_brian2_twin

    events, kernel, bias = _random_problem(0)
    with pytest.raises(BackendUnavailableError, match="Brian2GeNN does not support heterogeneous"):
        run_brian2_twin(events, kernel, bias, device="genn")


def test_static_movie_gives_no_events():
    frames = np.repeat(np.random.default_rng(0).standard_normal((1, 16, 16)), 30, axis=0)
    assert events_from_movie(frames).sum() == 0


def test_event_statistics_on_natural_movies():
    config = MotionConfig(n_speeds=1, speed_median=1.0, size=(24, 24), n_steps=30, kernel_size=(5, 5, 5))
    frames, labels = make_movie(config, np.random.default_rng(3))
    assert labels.shape == (30,) and frames.shape == (30, 24, 24)
    events = events_from_movie(frames)
    assert not np.any(events[0] & events[1])  # ON and OFF never coincide in a voxel
    assert events[:, 0].sum() == 0  # no event before the first difference
    densities = [events_from_movie(frames, selectivity=s).mean() for s in (0.25, 0.5, 1.0, 2.0, 4.0)]
    assert all(a > b for a, b in zip(densities, densities[1:])), densities
    assert densities[2] > 0.01


def test_labels_switch_like_poisson_blocks():
    config = MotionConfig(n_speeds=1, speed_median=1.0, size=(16, 16), n_steps=400, block_length=24.0)
    from neurosim.motion.events import draw_labels
    labels = draw_labels(20000, 12, 24.0, np.random.default_rng(0))
    switches = np.mean(labels[1:] != labels[:-1])
    # a switch is drawn with probability 1/24 and lands on a new class 11 times out of 12
    assert abs(switches - (1 / 24) * 11 / 12) < 0.005
    assert set(np.unique(labels)) == set(range(12))
    assert config.n_classes == 12


def test_events_round_trip_through_nwb(tmp_path):
    config = MotionConfig(n_speeds=1, speed_median=1.0, size=(12, 10), n_steps=20)
    data = make_dataset(config, 2, seed=0)
    path = write_events(tmp_path / "events.nwb", data.events, data.labels, config=config)
    events, labels, dt = read_events(path)
    np.testing.assert_array_equal(events, data.events)
    np.testing.assert_array_equal(labels, data.labels)
    assert dt == config.dt


def test_bad_inputs_raise_suite_errors():
    with pytest.raises(InvalidInputError):
        events_from_movie(np.zeros((5, 4)))
    with pytest.raises(InvalidInputError, match="kernel_size"):
        MotionConfig(kernel_size=(3, 4))
    with pytest.raises(InvalidInputError, match="Did you mean"):
        get_config("reduce")
    from neurosim.motion.twin import accumulate_events
    with pytest.raises(InvalidInputError):
        accumulate_events(np.zeros((3, 5, 4, 4)), np.zeros((2, 2, 3, 3, 3)))


def test_checkpoint_resume_and_threads_restored(tmp_path):
    torch = pytest.importorskip("torch")
    from neurosim.motion.model import HeterogeneousDelayClassifier

    config = MotionConfig(n_directions=4, n_speeds=1, speed_median=1.0, size=(12, 12), n_steps=12,
                          kernel_size=(3, 3, 3), epochs=2, batch_size=2, voxels_per_movie=32, lr=1e-2)
    data = make_dataset(config, 4, seed=0)
    before = torch.get_num_threads()
    ckpt = tmp_path / "ckpt.pt"
    first = HeterogeneousDelayClassifier(config=config, epochs=1, n_threads=1, checkpoint=ckpt, seed=0).fit(
        data.events, data.labels)
    assert torch.get_num_threads() == before and ckpt.exists() and first.n_epochs_done_ == 1
    resumed = HeterogeneousDelayClassifier(config=config, epochs=2, n_threads=1, checkpoint=ckpt, seed=0).fit(
        data.events, data.labels)
    assert resumed.n_epochs_done_ == 2 and resumed.history_[0] == first.history_[0]
    # the resumed run ends bit for bit where one uninterrupted run (without a checkpoint) does
    whole = HeterogeneousDelayClassifier(config=config, epochs=2, n_threads=1, seed=0).fit(data.events, data.labels)
    np.testing.assert_array_equal(resumed.kernel_, whole.kernel_)
    np.testing.assert_array_equal(resumed.bias_, whole.bias_)
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in whole.history_]
    with pytest.raises(InvalidInputError, match="Allowed values are 'cpu', 'cuda', 'auto'"):
        HeterogeneousDelayClassifier(config=config, epochs=1, device="gpu").fit(data.events, data.labels)
    path = resumed.save(tmp_path / "model.pt")
    loaded = HeterogeneousDelayClassifier.load(path)
    np.testing.assert_array_equal(loaded.kernel_, resumed.kernel_)
    assert loaded.predict(data.events).shape == data.labels.shape


def test_cli_events_train_evaluate_prune(tmp_path):
    pytest.importorskip("torch")
    from neurosim.cli import build_parser, run

    def main(argv):
        return run(build_parser(prog="neurosim", description="x", modules=["neurosim.motion.cli"]), argv)

    events = tmp_path / "events.nwb"
    assert main(["motion", "events", "--n-movies", "2", "--out", str(events), "--quiet"]) == 0
    assert read_events(events)[0].shape == (2, 2, 40, 48, 48)
    model = "models/grimaldi_perrinet_2023_reduced.pt"
    import os
    model = os.path.join(os.path.dirname(__file__), "..", model)
    out = tmp_path / "eval.nwb"
    assert main(["motion", "evaluate", model, "--events", str(events), "--out", str(out), "--torch-device", "cpu",
                 "--torch-threads", "1", "--quiet"]) == 0
    from neurodata.io import read_results
    res = read_results(out)
    assert 0.0 <= res.parameters["accuracy"] <= 1.0
    assert main(["motion", "prune", model, "--events", str(events), "--n-fractions", "3", "--out",
                 str(tmp_path / "prune.nwb"), "--figure", str(tmp_path / "p.png"), "--quiet"]) == 0
    assert (tmp_path / "p.png").exists()
    assert main(["motion", "evaluate", str(tmp_path / "missing.pt"), "--out", str(out), "--quiet"]) == 1


def test_symmetry_augmentation_relabels_directions_exactly():
    torch = pytest.importorskip("torch")
    from neurosim.motion.model import apply_symmetry

    config = get_config("reduced")
    perms = config.symmetry_permutations()
    assert sorted(map(tuple, np.sort(perms, axis=1))) == [tuple(range(12))] * 8  # each row is a permutation
    phi, speed = config.class_motion()
    grid = np.arange(32.0)
    for label in range(config.n_classes):
        # a Gaussian blob moving with the class velocity (x = axis 3, y = axis 4), as a 1-movie, 2-channel batch
        centres = 16 + np.arange(6)[:, None] * speed[label] * np.array([np.cos(phi[label]), np.sin(phi[label])])
        frames = np.exp(-((grid[None, :, None] - centres[:, :1, None]) ** 2
                          + (grid[None, None, :] - centres[:, 1:, None]) ** 2) / 8.0)
        movie = torch.from_numpy(np.stack([frames, frames])[None])
        for g in range(8):
            moved, new = apply_symmetry(movie, torch.tensor([label]), torch.from_numpy(perms), g)
            f = moved[0, 0].numpy()
            cx = (f.sum(2) * grid).sum(1) / f.sum((1, 2))
            cy = (f.sum(1) * grid).sum(1) / f.sum((1, 2))
            velocity = np.array([np.diff(cx).mean(), np.diff(cy).mean()])
            p, s = config.class_motion(int(new[0]))
            np.testing.assert_allclose(velocity, s * np.array([np.cos(p), np.sin(p)]), atol=1e-6)
