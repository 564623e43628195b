"""#29 item 3a: held-out nats per spike of the current-window pattern, Neuroformer against a Poisson GLM."""
import numpy as np
import pytest
from scipy.stats import poisson

from neurodata.errors import InvalidInputError
from neurodata.io import SpikeTrains
from neurodata.neuroformer import SpikeTokenizer, time_block_split
from neurodata.neuroformer.likelihood import PoissonWindowGLM, order_log_probability, window_counts


def test_window_counts_use_the_tokenizers_bins():
    spikes = SpikeTrains([np.array([0.02, 0.151, 0.162, 0.169]), np.array([0.12, 0.199])], start=0.0, end=0.2)
    tok = SpikeTokenizer(2)
    cur, past = window_counts(tok.tokenize(spikes, starts=[0.15]), tok, past_bins=3)
    want = np.zeros((1, 2, 6))
    want[0, 0, 0] = 1  # 0.151 → offset 0.001 → step 0
    want[0, 0, 1] = 1  # 0.162 → step 1
    want[0, 0, 2] = 1  # 0.169 → 1.9 steps → step 2
    want[0, 1, 5] = 1  # 0.199 → 4.9 steps → step 5
    np.testing.assert_array_equal(cur, want)
    # past window [0, 0.15): unit 0 at 0.02 (first third), unit 1 at 0.12 (last third); features unit-major
    np.testing.assert_array_equal(past, [[1, 0, 0, 0, 0, 1]])


def test_glm_log_likelihood_is_the_poisson_pmf():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    lam = np.exp(0.3 + 0.5 * x[:, :1])[:, :, None] * np.ones((1, 2, 2))
    y = rng.poisson(lam)
    glm = PoissonWindowGLM(past_bins=1, alpha=0.0).fit(y, x)
    np.testing.assert_allclose(glm.coef_[:, 0], 0.5 * x[:, 0].std(), atol=0.1)
    want = poisson.logpmf(y, glm.rates(x)).sum()
    assert glm.log_likelihood(y, x) == pytest.approx(want, rel=1e-10)
    with pytest.raises(InvalidInputError):
        PoissonWindowGLM().fit(y[:, 0], x)


def test_order_probability_of_a_bin():
    # bin 0 holds units (0, 0, 1): 3 time orders, each 1/3; bin 1 holds one spike: probability 1
    counts = np.array([[[2, 0], [1, 1]]])
    assert order_log_probability(counts) == pytest.approx(np.log(1 / 3))


def test_model_and_glm_in_one_unit_on_a_hub_network():
    torch = pytest.importorskip("torch")
    from neurodata.neuroformer.estimator import Neuroformer
    from neurodata.neuroformer.likelihood import compare_window_log_likelihood
    from neurosim.groundtruth.neuroformer import simulate_hub_network

    threads = torch.get_num_threads()
    net = simulate_hub_network(n_neurons=12, n_hubs=2, n_targets=4, duration=120.0, weight=1.5, seed=3)
    spikes = net.spikes
    tok = SpikeTokenizer(spikes.n_units)
    starts = tok.window_starts(spikes.start, spikes.end)
    train, test = time_block_split(starts, window=tok.window, past=tok.past, n_blocks=5, seed=0)
    model = Neuroformer(n_embd=32, n_head=2, n_state=1, n_past=0, n_history=1, n_self=1, dropout=0.0, lr=3e-3,
                        epochs=3, batch_size=64, device="cpu", n_threads=1, seed=0,
                        verbose=False).fit(spikes, starts=starts[train])
    r = compare_window_log_likelihood(model, spikes, train_starts=starts[train], test_starts=starts[test])
    assert torch.get_num_threads() == threads
    s = model.score(spikes, starts=starts[test])
    assert r["n_spikes"] == s["n_spikes"] > 500
    # the pattern's log-probability holds every spike's pair and the EOS: below the spikes-only sum
    assert r["neuroformer"] <= s["log_likelihood_per_spike"] + 1e-9
    # the GLM reads the hubs' drive out of the past window: better than constant rates
    assert r["glm"] > r["constant_rate"] + 0.005
    assert r["glm_pattern"] - r["glm"] == pytest.approx(r["constant_rate_pattern"] - r["constant_rate"])
    # the trained model beats uniform tokens (at this size it does not reach the rate models: see the card)
    uniform = np.log(tok.id_vocab_size - 2) + np.log(tok.dt_vocab_size - 2)
    assert r["neuroformer"] > -uniform * (1 + r["n_test_windows"] / r["n_spikes"]) + 0.5
    with pytest.raises(InvalidInputError):
        compare_window_log_likelihood(Neuroformer(), spikes, train_starts=starts[train], test_starts=starts[test])
