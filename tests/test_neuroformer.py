"""Neuroformer (Antoniades et al. 2023): tokenizer, splits, model, generation, training, circuit recovery."""
import numpy as np
import pytest

from neurodata.errors import InvalidInputError, NWBContentError
from neurodata.io import SpikeTrains
from neurodata.neuroformer import SpikeTokenizer, time_block_split


# ----------------------------------------------------------------------------------------------- tokenizer
def test_vocabularies_are_the_papers():
    tok = SpikeTokenizer(386)
    assert tok.dt_vocab_size == 19 and tok.n_dt == 16
    assert tok.id_vocab_size == 389
    assert (tok.id_sos, tok.id_eos, tok.id_pad) == (386, 387, 388)
    assert (tok.dt_sos, tok.dt_eos, tok.dt_pad) == (16, 17, 18)


def test_tokens_of_a_hand_made_recording():
    # unit 0 at 0.152 and 0.18, unit 1 at 0.152 (tie → unit order) and 0.01; unit 2 silent
    spikes = SpikeTrains([np.array([0.152, 0.18]), np.array([0.01, 0.152]), np.array([])], start=0.0, end=0.3)
    tok = SpikeTokenizer(3)
    t = tok.tokenize(spikes)
    np.testing.assert_allclose(t.window_start, [0.15, 0.2, 0.25])
    # first window [0.15, 0.2): 0.152 (u0, u1) → step 0, 0.18 → step 3
    np.testing.assert_array_equal(t.id[0], [3, 0, 1, 0, 4])
    np.testing.assert_array_equal(t.dt[0], [16, 0, 0, 3, 17])
    np.testing.assert_array_equal(t.id[1], [3, 4, 5, 5, 5])
    # its past [0, 0.15): unit 1 at 0.01 → step 1
    np.testing.assert_array_equal(t.past_id[0], [3, 1, 5, 5])
    np.testing.assert_array_equal(t.past_dt[0], [16, 1, 18, 18])
    # second window's past [0.05, 0.2) holds the three spikes at 0.152, 0.152, 0.18 → steps 10, 10, 13
    np.testing.assert_array_equal(t.past_id[1], [3, 0, 1, 0])
    np.testing.assert_array_equal(t.past_dt[1], [16, 10, 10, 13])
    np.testing.assert_array_equal(t.n_current, [3, 0, 0])


def _poisson(n_units=5, rate=20.0, duration=30.0, seed=0):
    rng = np.random.default_rng(seed)
    return SpikeTrains([np.sort(rng.uniform(0, duration, rng.poisson(rate * duration))) for _ in range(n_units)],
                       start=0.0, end=duration)


def test_round_trip_is_exact_to_the_dt_resolution():
    spikes = _poisson()
    tok = SpikeTokenizer(spikes.n_units)
    t = tok.tokenize(spikes)
    back = tok.decode(t.id, t.dt, t.window_start)
    covered = (t.window_start[0], t.window_start[-1] + tok.window)
    for orig, rec in zip(spikes.times, back):
        orig = orig[(orig >= covered[0]) & (orig < covered[1])]
        assert len(orig) == len(rec)  # no spike lost
        assert np.max(np.abs(np.sort(orig) - rec)) <= tok.dt / 2 + 1e-12
    assert t.n_current.sum() == sum(len(x) for x in back)
    # every token is inside its window's range
    cur = t.dt[:, 1:][t.id[:, 1:] < tok.n_units]
    past = t.past_dt[t.past_id < tok.n_units]
    assert cur.max() <= 5 and past.max() <= 15 and cur.min() >= 0


@pytest.mark.parametrize("name", ["spikes_A8604-211122.nwb", "spikes_behavior_A2929-200711.nwb"])
def test_tokens_of_the_shared_recordings_are_well_formed(testdata, name):
    from neurodata.io import read_spikes

    spikes = read_spikes(testdata / "nwb" / name)
    tok = SpikeTokenizer(spikes.n_units)
    t = tok.tokenize(spikes)
    starts = t.window_start
    times = np.concatenate(spikes.times)
    inside = np.count_nonzero((times >= starts[0]) & (times < starts[-1] + tok.window))
    assert t.n_current.sum() == inside
    assert np.all((t.id[:, 1:-1] < tok.n_units) | (t.id[:, 1:-1] >= tok.id_eos))
    assert np.all(t.dt[t.id < tok.n_units] <= 5) and np.all(t.past_dt[t.past_id < tok.n_units] <= 15)


def test_bad_inputs_raise_the_suites_errors():
    with pytest.raises(InvalidInputError, match="overflows the dt vocabulary"):
        SpikeTokenizer(3, past=0.3)
    with pytest.raises(InvalidInputError, match="shorter than one sample"):
        SpikeTokenizer(1).tokenize(SpikeTrains([np.array([0.01])], start=0.0, end=0.1))
    with pytest.raises(NWBContentError, match="no spikes"):
        SpikeTokenizer(2).tokenize(SpikeTrains([np.array([]), np.array([])], start=0.0, end=1.0))
    with pytest.raises(InvalidInputError, match="more than its block"):
        SpikeTokenizer(5).tokenize(_poisson(), block=1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_time_block_split_never_overlaps(seed):
    tok = SpikeTokenizer(5)
    starts = tok.window_starts(0.0, 100.0)
    train, test = time_block_split(starts, window=tok.window, past=tok.past, test_fraction=0.3, seed=seed)
    assert len(np.intersect1d(train, test)) == 0 and len(test) > 0 and len(train) > len(starts) // 2
    lo_tr, hi_tr = starts[train] - tok.past, starts[train] + tok.window
    lo_te, hi_te = starts[test] - tok.past, starts[test] + tok.window
    # no train span intersects any test span
    overlaps = (lo_tr[:, None] < hi_te[None, :]) & (lo_te[None, :] < hi_tr[:, None])
    assert not overlaps.any()
    # only the windows next to test blocks are dropped
    assert len(starts) - len(train) - len(test) <= 2 * 3 * 4


# ----------------------------------------------------------------------------------------------- model
torch = pytest.importorskip("torch")


def _np_layernorm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _np_block(block, x, kv, mask):
    """Plain float64 transcription of one block: x += attn(ln1 x, kv); x += mlp(ln2 x); ln_f x."""
    from scipy.special import erf

    p = {k: v.detach().double().numpy() for k, v in block.state_dict().items()}
    lin = lambda z, name: z @ p[name + ".weight"].T + p[name + ".bias"]  # noqa: E731
    h = _np_layernorm(x, p["ln1.weight"], p["ln1.bias"])
    kv = h if kv is None else kv
    n_head = block.attn.n_head
    b, lq, e = x.shape
    d = e // n_head
    q = lin(h, "attn.query").reshape(b, lq, n_head, d).transpose(0, 2, 1, 3)
    k = lin(kv, "attn.key").reshape(b, -1, n_head, d).transpose(0, 2, 1, 3)
    v = lin(kv, "attn.value").reshape(b, -1, n_head, d).transpose(0, 2, 1, 3)
    s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    s = np.where(mask, s, -np.inf)
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    y = (a @ v).transpose(0, 2, 1, 3).reshape(b, lq, e)
    x = x + lin(y, "attn.proj")
    h = lin(_np_layernorm(x, p["ln2.weight"], p["ln2.bias"]), "mlp.0")
    h = 0.5 * h * (1 + erf(h / np.sqrt(2)))
    x = x + lin(h, "mlp.2")
    return _np_layernorm(x, p["ln_f.weight"], p["ln_f.bias"])


@pytest.mark.parametrize("cross", [False, True])
def test_block_forward_matches_a_float64_transcription(cross):
    from neurodata.neuroformer.model import Block

    torch.manual_seed(0)
    block = Block(16, 4, 0.0).eval()
    for prm in block.parameters():  # away from the identity-like initialisation
        prm.data.normal_(0, 0.3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 16))
    if cross:
        kv = rng.normal(size=(3, 5, 16))
        mask = np.ones((3, 1, 1, 5), bool)
        mask[0, ..., 3:] = False  # padded keys of sample 0
    else:
        kv, mask = None, np.tril(np.ones((7, 7), bool))[None, None]
    got = block(torch.tensor(x, dtype=torch.float32), None if kv is None else torch.tensor(kv, dtype=torch.float32),
                torch.tensor(mask)).detach().double().numpy()
    np.testing.assert_allclose(got, _np_block(block, x, kv, mask), atol=2e-5, rtol=1e-4)


def test_contrastive_loss_is_the_symmetric_info_nce():
    from neurodata.neuroformer.model import contrastive_loss

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    an, bn = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = an @ bn.T / 0.5

    def ce(z):
        return np.mean(np.log(np.exp(z).sum(1)) - np.diag(z))

    want = 0.5 * (ce(logits) + ce(logits.T))
    got = contrastive_loss(torch.tensor(a), torch.tensor(b), 0.5).item()
    assert got == pytest.approx(want, rel=1e-10)


def test_sampling_respects_top_k_top_p_and_the_allowed_set():
    from neurodata.neuroformer.estimator import _sample

    gen = torch.Generator().manual_seed(0)
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(2000, 1)
    allowed = torch.tensor([True, True, True, True])
    assert set(_sample(logits, allowed, 1.0, 2, None, gen).tolist()) == {0, 1}
    assert set(_sample(logits, allowed, 1.0, None, 0.7, gen).tolist()) == {0, 1}  # 0.5 < 0.7 <= 0.8
    assert set(_sample(logits, allowed, 1.0, None, 0.5, gen).tolist()) == {0}
    draws = _sample(logits, torch.tensor([False, True, True, True]), 1.0, None, None, gen)
    assert 0 not in set(draws.tolist())
    cold = _sample(logits, allowed, 0.05, None, None, gen)
    assert (cold == 0).float().mean() > 0.99


def _tiny(**kw):
    from neurodata.neuroformer.estimator import Neuroformer

    params = dict(n_embd=16, n_head=2, n_state=1, n_past=1, n_history=1, n_self=1, dropout=0.1, lr=3e-3,
                  epochs=2, batch_size=32, device="cpu", n_threads=1, seed=0)
    params.update(kw)
    return Neuroformer(**params)


def test_fit_score_generate_attention_on_a_small_recording():
    spikes = _poisson(n_units=4, rate=15.0, duration=8.0)
    model = _tiny().fit(spikes)
    assert len(model.history_) == 2 and model.history_[1]["loss"] < model.history_[0]["loss"]
    s = model.score(spikes)
    assert np.isfinite(s["log_likelihood_per_spike"]) and s["n_spikes"] > 0
    gen = model.generate(spikes, top_k=5, top_p=0.95, seed=1)
    assert gen.n_units == 4 and gen.n_spikes > 0
    assert gen.start >= model.past and all(np.all(np.diff(t) >= 0) for t in gen.times)
    again = model.generate(spikes, top_k=5, top_p=0.95, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(gen.times, again.times))
    a = model.attention(spikes)
    assert a.shape == (4, 4) and np.all(np.isfinite(a))


def test_fit_with_behaviour_uses_the_contrastive_loss():
    from neurodata.io import Traces

    spikes = _poisson(n_units=3, rate=15.0, duration=12.0)
    t = np.arange(0, 12.0, 0.02)
    behavior = Traces(np.c_[np.sin(t), np.cos(t)], rate=50.0, name="CompassDirection")
    model = _tiny(n_behavior_layers=1, clip_dim=8, epochs=1, behavior_bins=5).fit(spikes, behavior=behavior)
    assert model.n_behavior_features_ == 2 and model.net_.clip_neural is not None
    assert np.isfinite(model.score(spikes, behavior=behavior)["log_likelihood_per_spike"])
    with pytest.raises(InvalidInputError, match="behavior="):
        model.score(spikes)


def test_resume_from_a_checkpoint_gives_the_same_weights(tmp_path):
    spikes = _poisson(n_units=3, rate=15.0, duration=10.0)
    ckpt = tmp_path / "nf.pt"
    full = _tiny(epochs=2).fit(spikes)
    _tiny(epochs=1, checkpoint=str(ckpt)).fit(spikes)
    resumed = _tiny(epochs=2, checkpoint=str(ckpt)).fit(spikes)
    for (name, a), b in zip(full.net_.state_dict().items(), resumed.net_.state_dict().values()):
        assert torch.equal(a, b), name


def test_estimator_errors():
    with pytest.raises(InvalidInputError, match="SpikeTrains"):
        _tiny().fit(np.zeros((10, 3)))
    with pytest.raises(InvalidInputError, match="multiple of"):
        _tiny(n_embd=15).fit(_poisson(n_units=2, duration=5.0))
    with pytest.raises(InvalidInputError, match="not fitted"):
        _tiny().score(_poisson(n_units=2, duration=5.0))


# ----------------------------------------------------------------------------------------------- ground truth
def test_edge_auroc_on_a_hand_made_score():
    from neurodata.neuroformer.connectivity import edge_auroc

    adj = np.zeros((3, 3), bool)
    adj[0, 1] = adj[0, 2] = True
    score = np.array([[0, 5, 4], [1, 0, 2], [0.5, 4.5, 0]], float)
    # edges (5, 4) vs non-edges (1, 2, 0.5, 4.5): 7 of 8 pairs ranked right; direction 4/4
    assert edge_auroc(score, adj) == {"edge": 7 / 8, "direction": 1.0}


def test_hub_network_through_nwb_and_the_classical_baselines(tmp_path):
    from neurodata.io import read_spikes
    from neurodata.neuroformer.connectivity import cross_correlogram_connectivity, edge_auroc
    from neurosim.groundtruth.neuroformer import write_hub_network

    net = write_hub_network(tmp_path / "hubs.nwb", n_neurons=12, n_hubs=2, n_targets=4, duration=120.0, seed=3)
    adj = net.adjacency
    assert adj.sum() == 8 and not adj[:, :2].any() and not (adj & adj.T).any()
    spikes = read_spikes(tmp_path / "hubs.nwb")
    assert spikes.n_units == 12 and spikes.n_spikes == net.spikes.n_spikes
    auc = edge_auroc(cross_correlogram_connectivity(spikes), adj)
    assert auc["edge"] > 0.9 and auc["direction"] > 0.9


@pytest.mark.parametrize("n_units, want", [(386, 24_080_384), (2023, 24_918_528)])
def test_v1al_parameter_count_is_the_references(n_units, want):
    """V1AL (mconf.yaml): 6 state + 6 stimulus feature-encoder blocks, 6 history + 6 stimulus + 6 self blocks,
    embedding 256, 8 heads, id/prev-id blocks of 100, Conv3d 3x8x8 frames: 23,881,216 + 512 (N + 3)."""
    from neurodata.neuroformer.model import NeuroformerNet

    net = NeuroformerNet(id_vocab=n_units + 3, dt_vocab=19, block=100, past_block=100, n_embd=256, n_head=8,
                         n_state=6, n_past=0, n_history=6, n_self=6, n_stimulus_layers=6)
    assert sum(p.numel() for p in net.parameters()) == want == 23_881_216 + 512 * (n_units + 3)


def test_frames_reach_the_model_and_are_optional():
    from neurodata.neuroformer.model import NeuroformerNet

    net = NeuroformerNet(id_vocab=7, dt_vocab=19, block=6, past_block=5, n_embd=16, n_head=2, n_state=1,
                         n_history=1, n_self=1, n_stimulus_layers=1, dropout=0.0).eval()
    ids, dts = torch.randint(0, 4, (2, 6)), torch.randint(0, 6, (2, 6))
    pids, pdts = torch.randint(0, 4, (2, 5)), torch.randint(0, 16, (2, 5))
    valid = torch.ones(2, 5, dtype=torch.bool)
    frames = torch.randn(2, 1, 6, 16, 16)
    with_frames = net(ids, dts, pids, pdts, valid, frames=frames)[0]
    without = net(ids, dts, pids, pdts, valid)[0]  # no crash without frames (the reference's bug)
    assert with_frames.shape == without.shape == (2, 6, 7) and not torch.allclose(with_frames, without)


# ----------------------------------------------------------------------------------------------- NWB, CLI
def test_pretrain_generate_attention_write_results_nwb(tmp_path):
    import neurodata.cli
    from neurodata.io import read_results, read_spikes
    from neurosim.groundtruth.neuroformer import write_hub_network

    source = tmp_path / "hubs.nwb"
    write_hub_network(source, n_neurons=6, n_hubs=1, n_targets=2, duration=30.0, seed=0)
    common = ["--torch-device", "cpu", "--torch-threads", "1", "--quiet"]
    argv = ["neuroformer", "pretrain", str(source), "--out", str(tmp_path / "r.nwb"), "--model-out",
            str(tmp_path / "m.pt"), "--n-epochs", "1", "--n-embedding-dims", "8", "--n-heads", "2", "--n-layers", "1"]
    assert neurodata.cli.main(argv + common) == 0
    res = read_results(tmp_path / "r.nwb")
    assert res.arrays["attention"].shape == (6, 6) and len(res.tables["history"]) == 1
    assert np.isfinite(res.tables["scores"]["log_likelihood_per_spike"].iloc[0])
    assert res.sources[0]["sha256"]
    assert neurodata.cli.main(argv + common) == 1  # --out exists: refused without --overwrite
    assert neurodata.cli.main(["neuroformer", "generate", str(source), "--model", str(tmp_path / "m.pt"), "--out",
                               str(tmp_path / "g.nwb"), "--start", "5", "--end", "10", *common]) == 0
    gen = read_spikes(tmp_path / "g.nwb")
    assert gen.n_units == 6 and gen.start >= 5.0 and gen.end <= 10.0 + 1e-9
    assert neurodata.cli.main(["neuroformer", "attention", str(source), "--model", str(tmp_path / "m.pt"), "--out",
                               str(tmp_path / "a.nwb"), *common]) == 0
    assert read_results(tmp_path / "a.nwb").arrays["attention"].shape == (6, 6)


# ----------------------------------------------------------------------------------------------- ground truth (slow)
@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_circuit_recovery_on_a_hub_network(seed, tmp_path, monkeypatch):
    """#29 item 3 on a 30-neuron hub network (3 hubs x 8 targets, 20 min; examples/neuroformer.py, the card's
    small configuration, 1 epoch): attention edge AUROC >= 0.8 and direction AUROC >= 0.7; generated rates
    r >= 0.9 against the first 1,500 held-out windows. Minutes per seed on a CPU."""
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "examples"))
    from neuroformer import circuit_validation

    metrics, *_ = circuit_validation(tmp_path, seed=seed, duration=1200.0, n_epochs=1, glm=False,
                                    n_generate=1500)
    assert metrics["attention_auroc"]["edge"] >= 0.8
    assert metrics["attention_auroc"]["direction"] >= 0.7
    assert metrics["rate_r"] >= 0.9
    sys.modules.pop("neuroformer", None)


def test_model_card_matches_the_code():
    from neurodata.cards import load_card
    from neurodata.neuroformer.model import NeuroformerNet

    card = load_card("antoniades_2023_neuroformer")
    cfg = card["defaults"]["v1al_network"]
    tok = SpikeTokenizer(386, window=card["defaults"]["tokens"]["current_window_s"],
                         past=card["defaults"]["tokens"]["past_window_s"])
    assert tok.dt_vocab_size == card["defaults"]["tokens"]["dt_vocab"]
    for n_units, want in card["parameter_table"]["n_units_to_parameters"].items():
        net = NeuroformerNet(id_vocab=int(n_units) + 3, dt_vocab=19, block=cfg["block_id"],
                             past_block=cfg["block_prev_id"], n_embd=cfg["n_embd"], n_head=cfg["n_head"],
                             n_state=cfg["n_state"], n_past=cfg["n_past"], n_history=cfg["n_history"],
                             n_self=cfg["n_self"], n_stimulus_layers=cfg["n_stimulus_layers"],
                             frame_kernel=cfg["frame_kernel"], frame_stride=cfg["frame_stride"])
        assert sum(p.numel() for p in net.parameters()) == want
