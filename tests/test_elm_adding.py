"""#21 item 4: the long-horizon adding task (SHD-Adding in spirit) for the ELM neuron, and the benchmark's
reference transcription."""
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurodata.errors import InvalidInputError  # noqa: E402
from neurosim.elm.adding import (FULL_CONFIGURATION, SMALL_CONFIGURATION, ELMAddingClassifier,  # noqa: E402
                                 make_adding_task, run_adding_task)

ROOT = Path(__file__).resolve().parent.parent
TINY_TASK = dict(n_channels=12, n_patterns=3, duration=0.2, pattern_duration=0.03, first_onsets=(0.0, 0.03),
                 second_onsets=(0.1, 0.16))


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread


# ------------------------------------------------------------------------------------------------ the task
def test_task_follows_its_placement_rule_and_labels():
    task = make_adding_task(200, seed=1)
    assert task.spikes.shape == (200, 100, 700) and task.spikes.dtype == np.uint8
    assert task.patterns.shape == (10, 10, 700) and task.n_classes == 19
    np.testing.assert_array_equal(task.labels, task.first + task.second)
    assert set(task.labels) <= set(range(19)) and {0, 9} <= set(task.first) | set(task.second)
    first, second = task.onsets.T
    assert first.min() >= 0 and first.max() <= 0.3 + 1e-9  # first pattern over by 400 ms: >= 600 ms before the end
    assert second.min() >= 0.5 - 1e-9 and second.max() <= 0.9 + 1e-9
    assert np.all(second - first >= 0.2 - 1e-9)  # never overlapping
    # each pattern's counts sit on top of the background where the rule put it
    for k in range(5):
        for index, onset in ((task.first[k], first[k]), (task.second[k], second[k])):
            b = int(round(onset / task.dt))
            assert np.all(task.spikes[k, b:b + 10] >= task.patterns[index])
    # rates: 5 Hz background, 20 Hz patterns, per channel and 10 ms bin
    outside = np.ones(task.spikes.shape[:2], bool)
    for k in range(200):
        for onset in task.onsets[k]:
            b = int(round(onset / task.dt))
            outside[k, b:b + 10] = False
    assert task.spikes[outside].mean() == pytest.approx(0.05, rel=0.02)
    assert task.patterns.mean() == pytest.approx(0.2, rel=0.03)


def test_patterns_are_fixed_and_trials_follow_the_seed():
    a, b = make_adding_task(5, seed=1), make_adding_task(5, seed=2)
    np.testing.assert_array_equal(a.patterns, b.patterns)  # the same ten patterns for train and test sets
    assert not np.array_equal(a.spikes, b.spikes)
    np.testing.assert_array_equal(a.spikes, make_adding_task(5, seed=1).spikes)
    assert not np.array_equal(a.patterns, make_adding_task(5, seed=1, pattern_seed=1).patterns)


def test_task_rejects_bad_settings():
    with pytest.raises(InvalidInputError, match="Onset ranges"):
        make_adding_task(4, first_onsets=(0.0, 0.45), second_onsets=(0.5, 0.9))  # overlap possible
    with pytest.raises(InvalidInputError, match="Onset ranges"):
        make_adding_task(4, second_onsets=(0.5, 0.95))  # runs past the end
    with pytest.raises(InvalidInputError, match="whole number of bins"):
        make_adding_task(4, pattern_duration=0.105)
    with pytest.raises(InvalidInputError, match="'n_trials'"):
        make_adding_task(0)


# ------------------------------------------------------------------------------------------ the classifier
def _tiny(n=40, seed=0):
    return make_adding_task(n, **TINY_TASK, seed=seed)


def _tiny_model(**kw):
    return ELMAddingClassifier(**{"memory": 4, "n_epochs": 2, "batch_size": 8, "device": "cpu", "n_threads": 1,
                                  "seed": 0, **kw})


def test_classifier_fits_predicts_and_resumes(tmp_path):
    task = _tiny()
    model = _tiny_model().fit(task.spikes, task.labels)
    assert model.net_.routing is None and model.net_.n_branches == 12  # plain ELM
    assert model.net_.dt == 0.01 and float(model.net_.kappa_m.max()) == pytest.approx(np.exp(-0.01 / 0.5), rel=1e-4)
    assert set(model.classes_) == set(task.labels) and len(model.history_) == 2
    proba = model.predict_proba(task.spikes)
    assert proba.shape == (40, len(model.classes_)) and np.allclose(proba.sum(1), 1)
    assert set(model.predict(task.spikes)) <= set(model.classes_)
    assert 0.0 <= model.score(task.spikes, task.labels) <= 1.0
    # checkpoint: a run interrupted in its second epoch, then resumed, gives the uninterrupted run's weights
    path = tmp_path / "adding.ckpt"
    calls, loss = [], torch.nn.functional.cross_entropy

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 6:  # 36 training trials in batches of 8: step 6 is the second epoch's first
            raise KeyboardInterrupt
        return loss(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.nn.functional, "cross_entropy", interrupted)
        with pytest.raises(KeyboardInterrupt):
            _tiny_model(checkpoint=str(path)).fit(task.spikes, task.labels)
    resumed = _tiny_model(checkpoint=str(path)).fit(task.spikes, task.labels)
    assert [h["epoch"] for h in resumed.history_] == [1, 2]
    for a, b in zip(resumed.net_.state_dict().values(), model.net_.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_classifier_names_bad_input():
    task = _tiny()
    model = _tiny_model(n_epochs=1)
    with pytest.raises(InvalidInputError, match="not fitted"):
        model.predict(task.spikes)
    with pytest.raises(InvalidInputError, match=r"\(trials, time bins, channels\)"):
        model.fit(task.spikes[0], task.labels)
    with pytest.raises(InvalidInputError, match=r"at least one of each; got shape \(0, 20, 12\)"):
        model.fit(task.spikes[:0], task.labels[:0])
    bad = task.spikes.astype(float)
    bad[3, 4, 5] = np.nan
    with pytest.raises(InvalidInputError, match="1 NaN"):
        model.fit(bad, task.labels)
    with pytest.raises(InvalidInputError, match="one label per trial"):
        model.fit(task.spikes, task.labels[:-1])
    with pytest.raises(InvalidInputError, match="integer class labels"):
        model.fit(task.spikes, task.labels.astype(float))
    with pytest.raises(InvalidInputError, match="'tau_m_max'"):
        _tiny_model(tau_m_max=1e-4).fit(task.spikes, task.labels)
    model.fit(task.spikes, task.labels)
    with pytest.raises(InvalidInputError, match="13 channels per bin; .* fitted on 12"):
        model.predict(np.zeros((2, 20, 13)))
    with pytest.raises(InvalidInputError, match="NaN"):
        model.predict(bad)
    with pytest.raises(InvalidInputError, match="at least one of each"):
        model.predict(np.zeros((0, 20, 12)))


# ------------------------------------------------------------------------- long horizon: 500 ms vs 20 ms
# Thresholds for the small configuration (4000 training trials, 10 epochs), measured on seeds 0, 1, 2 on the
# 2-core machine: tau_max 500 ms 0.866 / 0.840 / 0.858 test accuracy (worst 0.840), 20 ms 0.076 / 0.094 / 0.078
# (worst 0.094; chance, the most frequent class, is 0.10). Each run ~150-200 s with 1 thread under load.
CI_ACCURACY_LONG, CI_ACCURACY_SHORT = 0.7, 0.25


def test_long_memory_solves_the_adding_task_and_short_memory_does_not():
    """Small configuration (SMALL_CONFIGURATION: the same task and model, 4000 trials x 10 epochs instead of
    8000 x 15), seed 0. The short memory fits its training trials (~100 %) but not the test trials."""
    long = run_adding_task(tau_m_max=0.5, **SMALL_CONFIGURATION, seed=0, device="cpu", n_threads=1)
    short = run_adding_task(tau_m_max=0.02, **SMALL_CONFIGURATION, seed=0, device="cpu", n_threads=1)
    print(f"test accuracy: tau_max 500 ms {long['test_accuracy']:.3f}, 20 ms {short['test_accuracy']:.3f}")
    assert long["test_accuracy"] >= CI_ACCURACY_LONG
    assert short["test_accuracy"] <= CI_ACCURACY_SHORT


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_configuration_reaches_90_percent_and_20_ms_stays_below_50(seed):
    """The issue's numbers: d_m = 100, τ_max = 500 ms ≥ 90 % test accuracy; τ_max = 20 ms ≤ 50 %.
    Measured (2026-12-07, seeds 0/1/2): 0.998/0.995/0.986 and 0.090/0.094/0.081."""
    long = run_adding_task(tau_m_max=0.5, **FULL_CONFIGURATION, seed=seed, device="cpu", n_threads=1)
    short = run_adding_task(tau_m_max=0.02, **FULL_CONFIGURATION, seed=seed, device="cpu", n_threads=1)
    print(f"seed {seed}: tau_max 500 ms {long['test_accuracy']:.3f}, 20 ms {short['test_accuracy']:.3f}")
    assert long["test_accuracy"] >= 0.9
    assert short["test_accuracy"] <= 0.5


# -------------------------------------------------------------------------- the benchmark's transcription
@pytest.fixture
def bench_elm():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import bench_elm
    finally:
        sys.path.pop(0)
    return bench_elm


@pytest.mark.parametrize("dt", [1e-3, 1e-2])
def test_benchmark_transcription_equals_elmnet(bench_elm, dt):
    """The benchmark's eager per-step baseline (the reference's gather on dim 2) gives ELMNet's outputs."""
    net = bench_elm.neuronio_net(memory=3, dt=dt)
    x = bench_elm.sparse_inputs(2, 40, 0.05)
    assert bench_elm.check_equivalence(net, x, atol=1e-5) <= 1e-5
    # and the plain ELM without routing (the adding task's network)
    from neurosim.elm.model import ELMNet

    plain = ELMNet(7, 3, memory=4, dt=dt, generator=torch.Generator().manual_seed(0))
    assert bench_elm.check_equivalence(plain, torch.rand(2, 30, 7), atol=1e-5) <= 1e-5
    with pytest.raises(AssertionError, match="differ"):
        bench_elm.check_equivalence(net, x, atol=-1.0)


def test_cli_adding_defaults_are_the_full_configuration():
    """The CLI spells FULL_CONFIGURATION out (importing it would load torch for --help); they must agree."""
    from neurosim.cli import parser

    args = parser().parse_args(["elm", "adding", "--out", "x.nwb"])
    assert {"n_train": args.n_train, "n_test": args.n_test, "n_epochs": args.n_epochs} == FULL_CONFIGURATION
    assert args.n_memory == 100 and args.tau_m_max == [0.5, 0.02]


def test_cli_adding_writes_results(tmp_path, capsys):
    """`neurosim elm adding` runs both memories and writes one results file (a tiny smoke size)."""
    from neurodata.io import read_results
    from neurosim.cli import main

    out = tmp_path / "adding.nwb"
    argv = ["elm", "adding", "--n-train", "64", "--n-test", "32", "--n-epochs", "1", "--n-memory", "4",
            "--torch-device", "cpu", "--torch-threads", "1", "--quiet", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "tau_m_max 0.5 s: test accuracy" in printed and "tau_m_max 0.02 s: test accuracy" in printed
    assert read_results(out).analysis and out.exists()
    assert main(argv) == 1  # refuses the existing file without --overwrite
