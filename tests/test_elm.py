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


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


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
