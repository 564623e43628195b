"""ELM neuron (Spieler et al. 2023): parameter counts, routing, dynamics against float64 NumPy, training, data."""
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurodata.errors import InvalidInputError  # noqa: E402
from neurosim.elm.model import ELMNet, interleave_indices, neuronio_routing  # noqa: E402

# the paper's / reference's Branch-ELM NeuronIO counts, d_m -> trainable parameters
PARAMETER_TABLE = {1: 4601, 2: 4708, 3: 4823, 5: 5077, 7: 5363, 10: 5852, 15: 6827, 20: 8002, 25: 9377,
                   30: 10952, 40: 14702, 50: 19252, 75: 34127, 100: 54002}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread


def neuronio_net(memory, **kw):
    return ELMNet(1278, 2, memory=memory, n_branches=45, synapses_per_branch=100, routing="neuronio",
                  tau_m_max=0.15, generator=torch.Generator().manual_seed(0), **kw)


@pytest.mark.parametrize("memory", sorted(PARAMETER_TABLE))
def test_parameter_counts_match_the_paper(memory):
    assert neuronio_net(memory).n_parameters() == PARAMETER_TABLE[memory]


def test_neuronio_routing_valid_synapses_and_coverage():
    idx, valid = neuronio_routing(1278, 45, 100)
    assert idx.shape == valid.shape == (4500,)
    assert int(valid.sum()) == 4282
    assert set(idx[valid].tolist()) == set(range(1278))
    # interleaving: excitatory i and inhibitory 639 + i are neighbours
    assert interleave_indices(6).tolist() == [0, 3, 1, 4, 2, 5]
    with pytest.raises(InvalidInputError, match="synapses_per_branch"):
        neuronio_routing(1278, 45, 20)


def test_weight_routing_equals_the_gather():
    net = neuronio_net(5)
    with torch.no_grad():
        net.w_s_raw.uniform_(-0.2, 1.0, generator=torch.Generator().manual_seed(1))
    x = (torch.rand(2, 30, 1278, generator=torch.Generator().manual_seed(2)) < 0.05).float()
    torch.testing.assert_close(net.branch_input(x), net.branch_input_gather(x), rtol=1e-5, atol=1e-5)


def numpy_elm(net, x):
    """Per-step float64 transcription of the equations (per-synapse traces for v1, per-branch for v2)."""
    p = {k: v.detach().double().numpy() for k, v in net.named_parameters()}
    w_s = np.maximum(p["w_s_raw"], 0) * net.synapse_valid.double().numpy()
    idx = net.synapse_input.numpy()
    tau_m = net.tau_m_min + (net.tau_m_max - net.tau_m_min) / (1 + np.exp(-p["theta_m"]))
    k_m = np.exp(-net.dt / tau_m)
    k_s = float(net.kappa_s)
    lam = net.lambda_value
    hidden = [(p[f"hidden.{i}.weight"], p[f"hidden.{i}.bias"]) for i in range(len(net.hidden))]
    w_out, b_out = p["out_mlp.weight"], p["out_mlp.bias"]
    w_y, b_y = p["readout.weight"], p["readout.bias"]
    x = x.double().numpy()
    batch, steps, _ = x.shape
    ys, ms = np.zeros((batch, steps, net.n_outputs)), np.zeros((batch, steps, net.memory))
    for b in range(batch):
        s = np.zeros(net.n_synapses)
        tr = np.zeros(net.n_branches)
        m = np.zeros(net.memory)
        for t in range(steps):
            syn_in = w_s * x[b, t, idx]
            if net.version == "v1":
                s = k_s * s + syn_in
                beta = s.reshape(net.n_branches, -1).sum(1)
            else:
                tr = k_s * tr + syn_in.reshape(net.n_branches, -1).sum(1)
                beta = tr
            h = np.concatenate([beta, k_m * m])
            for w, bias in hidden:
                h = np.maximum(w @ h + bias, 0)
            dm = 1.7159 * np.tanh(2.0 / 3.0 * (w_out @ h + b_out))
            if net.version == "v1":
                m = k_m * m + lam * (1 - k_m) * dm
            else:
                m = k_m * m + (1 - np.exp(-net.dt * lam / tau_m)) * dm
            ms[b, t], ys[b, t] = m, w_y @ m + b_y
    return ys, ms


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("mlp_layers", [1, 2])
def test_forward_equals_float64_numpy(version, mlp_layers):
    net = neuronio_net(7, version=version, mlp_layers=mlp_layers, learn_tau_m=True).double()
    with torch.no_grad():  # move off the initial weights so every term matters
        net.w_s_raw.uniform_(-0.3, 2.0, generator=torch.Generator().manual_seed(3))
    x = (torch.rand(2, 40, 1278, generator=torch.Generator().manual_seed(4)) < 0.05).double()
    x[:, :, 639:] *= -1
    y, m = net(x, return_memory=True)
    y_ref, m_ref = numpy_elm(net, x)
    np.testing.assert_allclose(y.detach().numpy(), y_ref, rtol=0, atol=1e-6)
    np.testing.assert_allclose(m.detach().numpy(), m_ref, rtol=0, atol=1e-6)
    # float32 too, at float32 precision
    y32 = neuronio_net(7, version=version, mlp_layers=mlp_layers)
    y32.load_state_dict({k: v.float() for k, v in net.state_dict().items()})
    np.testing.assert_allclose(y32(x.float()).detach().numpy(), y_ref, rtol=0, atol=1e-4)


def test_zero_input_and_zero_state_stay_at_rest():
    net = ELMNet(10, 1, memory=6, tau_m_max=0.1, generator=torch.Generator().manual_seed(0)).double()
    x = torch.zeros(1, 30, 10, dtype=torch.float64)
    with torch.no_grad():
        net.out_mlp.weight.zero_()
        net.out_mlp.bias.zero_()  # Δm = 0: the update is pure decay of the zero state
        y, m = net(x, return_memory=True)
    assert torch.count_nonzero(m) == 0
    torch.testing.assert_close(y, net.readout.bias.detach().expand_as(y))


def test_memory_decay_from_a_driven_state():
    """Drive, then silence with Δm forced to zero from then on: m decays exactly as κ_m^t (module output)."""
    net = ELMNet(4, 1, memory=5, mlp_layers=0, tau_m_max=0.05, generator=torch.Generator().manual_seed(1)).double()
    with torch.no_grad():
        net.w_s_raw.fill_(1.0)
        net.out_mlp.weight.zero_()
        net.out_mlp.weight[:, :4] = 1.0  # Δm depends on the input only
        net.out_mlp.bias.zero_()
    x = torch.zeros(1, 60, 4, dtype=torch.float64)
    x[0, 0] = 1.0
    kappa_s = float(net.kappa_s)
    _, m = net(x, return_memory=True)
    # after the synapse trace has died out (κ_s^t · 4 < 1e-18), Δm ≈ 0 and the decay is κ_m per step
    t0 = int(math.ceil(math.log(1e-20) / math.log(kappa_s)))
    ratio = (m[0, t0 + 1:] / m[0, t0:-1]).detach()
    torch.testing.assert_close(ratio, net.kappa_m.detach().expand_as(ratio), rtol=1e-9, atol=0)


def test_memory_bounded_by_lambda_times_gain():
    torch.manual_seed(0)
    net = ELMNet(50, 2, memory=16, lambda_value=5.0, tau_m_max=1.0, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(20.0)  # saturate the tanh
    x = torch.randn(4, 300, 50, generator=torch.Generator().manual_seed(6)) * 50
    _, m = net(x, return_memory=True)
    assert m.abs().max().item() <= 5.0 * 1.7159 + 1e-5
    assert m.abs().max().item() > 0.5 * 5.0 * 1.7159  # the bound is approached, so it is a real test


def test_bad_input_width_is_named():
    net = neuronio_net(2)
    with pytest.raises(InvalidInputError, match="1278"):
        net(torch.zeros(1, 5, 100))
    with pytest.raises(InvalidInputError, match="routing"):
        ELMNet(10, 1, n_branches=3, synapses_per_branch=2)
    with pytest.raises(InvalidInputError, match="version"):
        ELMNet(10, 1, version="v3")


# ---------------------------------------------------------------------------------------------------------
# data: the NeuronIO-like set from our Brian2 neuron (CI size), and training on it
pytest.importorskip("brian2")


@pytest.fixture(scope="module")
def neuron_file(tmp_path_factory):
    """16 s of training and 4 s of test data from the default neuron, written to NWB (CI size)."""
    from neurosim.elm.neuron import generate_neuron_data, write_neuron_data

    data, split = generate_neuron_data(16.0, 4.0, seed=3)
    path = tmp_path_factory.mktemp("elm") / "neuron.nwb"
    write_neuron_data(path, data, split, seed=3)
    return path, data, split


def test_neuron_data_written_and_read_back(neuron_file):
    from neurosim.elm.neuron import N_INPUTS, read_neuron_data

    path, data, split = neuron_file
    back, split_back = read_neuron_data(path)
    assert back.inputs.shape == (20000, N_INPUTS) and back.inputs.dtype == np.uint8
    np.testing.assert_array_equal(back.inputs, data.inputs)
    np.testing.assert_array_equal(back.spikes, data.spikes)
    np.testing.assert_allclose(back.soma_v, data.soma_v, atol=1e-12)
    assert split_back == split == {"train": (0.0, 16.0), "test": (16.0, 20.0)}
    assert back.params == data.params
    # a working neuron: it fires (default calibration ~5-8 Hz) and its dendrites do plateau
    assert 1.0 < data.rate < 30.0
    assert data.plateau_fraction > 0.005
    # inputs are ~1.5-2 Hz Poisson with slow rate fluctuations
    assert 0.5 < data.inputs.mean() * 1e3 < 5.0


def test_neuron_rejects_bad_inputs():
    from neurosim.elm.neuron import simulate_neuron

    with pytest.raises(InvalidInputError, match="1278"):
        simulate_neuron(np.zeros((10, 100), np.uint8))
    with pytest.raises(InvalidInputError, match="empty"):
        simulate_neuron(np.zeros((0, 1278), np.uint8))


def _train_split(data, split):
    n = int(round(split["train"][1] / data.bin_size))
    return (data.inputs[:n], data.spikes[:n], data.soma_v[:n]), (data.inputs[n:], data.spikes[n:], data.soma_v[n:])


def test_signed_inputs_negate_the_inhibitory_half_and_stay_compact_for_counts():
    from neurosim.elm.training import signed_inputs

    counts = np.array([[0, 1, 2, 3], [4, 0, 127, 1]], dtype=np.uint8)
    compact = signed_inputs(counts, compact=True)
    assert compact.dtype == np.int8  # a quarter of float32's memory for hours of 1 ms data
    np.testing.assert_array_equal(compact, [[0, 1, -2, -3], [4, 0, -127, -1]])
    np.testing.assert_array_equal(signed_inputs(counts), compact.astype(np.float32))
    assert signed_inputs(counts, compact=False).dtype == np.float32
    # counts beyond int8 and real-valued inputs stay float32, values unchanged
    assert signed_inputs(np.array([[0, 200]], np.uint8), compact=True).tolist() == [[0.0, -200.0]]
    assert signed_inputs(np.array([[0.5, 2.0]]), compact=True).dtype == np.float32
    assert signed_inputs(np.array([[-300, 1]]), compact=True).tolist() == [[-300.0, -1.0]]
    assert counts.tolist() == [[0, 1, 2, 3], [4, 0, 127, 1]]  # input untouched


def test_training_keeps_a_real_copy_of_the_best_epoch_and_resumes(neuron_file, tmp_path):
    from neurosim.elm.training import NeuronIOModel

    _, data, split = neuron_file
    (x, s, v), (xt, st, vt) = _train_split(data, split)
    kw = dict(memory=5, n_epochs=3, batches_per_epoch=3, lr=2e-2, batch_size=4, validation_fraction=0.2, seed=0,
              device="cpu", n_threads=1)
    model = NeuronIOModel(**kw).fit(x, s, v)
    losses = [h["valid_loss"] for h in model.history_]
    assert model.best_epoch_ == int(np.argmin(losses)) + 1
    # the model holds the best epoch's weights, not the last ones (a shallow state_dict copy would follow them)
    assert model.validation_loss(x, s, v) == pytest.approx(min(losses), rel=1e-5)
    # checkpoint + resume: a run killed in its third epoch, rerun, equals the uninterrupted run
    ck = tmp_path / "ck.pt"
    calls = {"n": 0}
    original = NeuronIOModel._window_loss

    def dies_in_epoch_3(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    NeuronIOModel._window_loss = dies_in_epoch_3
    try:
        with pytest.raises(KeyboardInterrupt):
            NeuronIOModel(**kw, checkpoint=str(ck)).fit(x, s, v)
    finally:
        NeuronIOModel._window_loss = original
    torch.set_num_threads(1)  # the interrupted fit's runtime restored the threads already; keep the guard happy
    resumed = NeuronIOModel(**kw, checkpoint=str(ck)).fit(x, s, v)
    assert resumed.history_[0]["epoch"] == 1 and len(resumed.history_) == 3
    assert [h["valid_loss"] for h in resumed.history_] == losses
    # save / load gives the same predictions
    path = model.save(tmp_path / "m.pt")
    again = NeuronIOModel.load(path)
    np.testing.assert_array_equal(again.predict(xt)[0], model.predict(xt)[0])
    scores = model.score(xt, st, vt)
    assert set(scores) == {"auc", "soma_rmse_mv", "n_spikes"} and 0 <= scores["auc"] <= 1


def test_training_rejects_bad_data(neuron_file):
    from neurodata.errors import BackendUnavailableError
    from neurosim.elm.training import NeuronIOModel

    _, data, split = neuron_file
    (x, s, v), _ = _train_split(data, split)
    model = NeuronIOModel(n_epochs=1, batches_per_epoch=1, device="cpu")
    bad = x.astype(np.float32)
    bad[3, 5] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        model.fit(bad, s, v)
    with pytest.raises(InvalidInputError, match="one value per time bin"):
        model.fit(x, s[:-1], v)
    with pytest.raises(InvalidInputError, match="at least one bin"):
        model.fit(x[:0], s[:0], v[:0])
    with pytest.raises(InvalidInputError, match="window"):
        model.fit(x[:300], s[:300], v[:300])
    with pytest.raises(InvalidInputError, match="architecture"):
        NeuronIOModel(architecture="gru").fit(x, s, v)
    with pytest.raises(InvalidInputError, match="not fitted"):
        model.predict(x)
    if not torch.cuda.is_available():
        with pytest.raises(BackendUnavailableError, match="CUDA"):
            NeuronIOModel(device="cuda").fit(x, s, v)
    fitted = NeuronIOModel(n_epochs=1, batches_per_epoch=1, device="cpu", memory=2, seed=0).fit(x, s, v)
    with pytest.raises(InvalidInputError, match="1278"):
        fitted.predict(x[:, :100])


def test_cli_architectures_copy_matches():
    from neurosim.elm import cli, training
    from neurosim.backends import DEVICES

    assert cli.ARCHITECTURES == training.ARCHITECTURES
    assert cli.DEVICES == DEVICES


def test_model_card_holds_the_tested_parameter_table():
    from neurodata.cards import load_card
    from neurosim.elm.neuron import NeuronIOParams

    card = load_card("spieler_2023_elm")
    assert {int(k): v for k, v in card["parameter_table"]["memory_to_parameters"].items()} == PARAMETER_TABLE
    assert card["defaults"]["neuron"] == NeuronIOParams().to_dict()


# ---------------------------------------------------------------------------------------------------------
# #21 item 3 at CI size: the ELM learns the neuron's spikes and beats the linear (LIF-like) baseline at the
# same budget. Measured (80 s train / 20 s test, 2 x 200 batches, lr 3e-3, data and training seed s):
#   s = 0: ELM d_m=20 AUC 0.917, linear 0.522;  s = 1: 0.928, 0.728;  s = 2: 0.933, 0.857.
# The full budget (300 s / 60 s, 3000 batches: ELM 0.950, LSTM 83k parameters 0.936, linear 0.836) is in the
# model card; more data flattens near 0.96 (1200 s: 0.959, an hour: 0.960; card: longer_data).
@pytest.fixture(scope="module")
def ci_neuron_data():
    from neurosim.elm.neuron import generate_neuron_data

    data, split = generate_neuron_data(80.0, 20.0, seed=1)
    return _train_split(data, split)


def test_elm_predicts_spikes_and_beats_the_linear_baseline(ci_neuron_data):
    from neurosim.elm.training import NeuronIOModel

    (x, s, v), (xt, st, vt) = ci_neuron_data
    scores = {}
    for arch in ("elm", "linear"):
        model = NeuronIOModel(architecture=arch, memory=20, n_epochs=2, batches_per_epoch=200, lr=3e-3, seed=1,
                              device="cpu", n_threads=1, verbose=False).fit(x, s, v)
        scores[arch] = model.score(xt, st, vt)
    assert scores["elm"]["auc"] >= 0.90, scores
    assert scores["elm"]["auc"] >= scores["linear"]["auc"] + 0.02, scores
    assert scores["elm"]["soma_rmse_mv"] < scores["linear"]["soma_rmse_mv"], scores


# ---------------------------------------------------------------------------------------------------------
# #21 item 3 at the issue's data size (slow: ~25 min on 2 idle cores). 300 s train / 60 s test from seed 0,
# 10 x 300 batches, lr 3e-3, training seed 0; measured 2026-12-07 (load ~4):
#   ELM d_m=20 AUC 0.950 / soma RMSE 1.16 mV;  d_m=20 without the hidden MLP 0.950 / 1.29;  d_m=5 see the card;
#   d_m=1 0.908 / 3.54;  LSTM (hidden 16, 82,978 parameters) 0.936 / 1.55;  linear 0.836 / 3.31.
FULL_BUDGET = dict(n_epochs=10, batches_per_epoch=300, lr=3e-3, seed=0, device="cpu", n_threads=1, verbose=False)


@pytest.fixture(scope="module")
def full_neuron_data():
    from neurosim.elm.neuron import generate_neuron_data

    data, split = generate_neuron_data(300.0, 60.0, seed=0)
    return _train_split(data, split)


@pytest.fixture(scope="module")
def full_scores(full_neuron_data):
    from neurosim.elm.training import NeuronIOModel

    (x, s, v), (xt, st, vt) = full_neuron_data
    runs = {"elm20": dict(memory=20), "elm20_no_mlp": dict(memory=20, mlp_layers=0), "elm1": dict(memory=1),
            "lstm": dict(architecture="lstm", lstm_hidden=16), "linear": dict(architecture="linear")}
    return {name: NeuronIOModel(**kw, **FULL_BUDGET).fit(x, s, v).score(xt, st, vt) for name, kw in runs.items()}


@pytest.mark.slow
def test_full_size_elm_against_baselines_and_ablations(full_scores):
    sc = full_scores
    assert sc["elm20"]["auc"] >= 0.94, sc
    assert sc["elm20"]["auc"] >= sc["linear"]["auc"] + 0.02, sc
    # an LSTM with >= 10x the parameters, same budget: the ELM wins on both measures
    assert sc["elm20"]["auc"] > sc["lstm"]["auc"] and sc["elm20"]["soma_rmse_mv"] < sc["lstm"]["soma_rmse_mv"], sc
    assert sc["elm20"]["auc"] > sc["elm1"]["auc"], sc  # AUC grows with d_m
    # the MLP ablation: at this budget it shows in the soma (RMSE), not yet in the spike AUC
    assert sc["elm20_no_mlp"]["soma_rmse_mv"] > sc["elm20"]["soma_rmse_mv"], sc


@pytest.mark.slow
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="#21: AUC >= 0.97 (paper 0.9922, NeuronIO, 350,000 batches) is not reached: 0.950 on 300 s "
                          "(0.949 at 4x the batches: it overfits), 0.959 on 1200 s, 0.960 on an hour (card: longer_data)")
def test_full_size_elm_reaches_the_issue_auc(full_scores):
    assert full_scores["elm20"]["auc"] >= 0.97, full_scores
