"""ELM neuron benchmarks (#21): forward + backward seconds per batch of ``ELMNet`` (ours) against a plain eager
per-step transcription of the reference's forward (baseline), the same weights and inputs, one CPU thread.

The baseline does what the reference's ``ELM.forward`` does, eagerly: the routing as ``index_select`` on dim 2
of the 3-D (batch, time, inputs) tensor times the validity mask, then per step the 4500 synapse traces, the
sum over each branch's synapses, ``MLP(cat([β, κ_m m]))``, the memory update and the read-out. Its outputs
are checked against ELMNet's before anything is timed (they must agree to 1e-4).

bench_neuronio_step: B = 8, T = 500, the NeuronIO configuration (1278 inputs, 45 x 100 neuronio routing,
2 outputs, τ_m in [1, 150] ms, d_m = 20, Δt = 1 ms), inputs sparse Poisson counts (inhibitory half negative),
denormals flushed (the suite's torch_runtime). The issue's target: ratio ≥ 3.

bench_sparse_denormals: the same networks with Δt = 10 ms on sparse input (traces of silent synapses decay
by exp(-2) per step into float32 denormals), ours with denormal flushing against ours without it (ratio =
the slow-down flushing avoids); the baseline with and without flushing as extras.
"""
import contextlib
import time

#: per-bin spike probability of each input channel (about 10 Hz at 1 ms; 1 Hz in 10 ms bins for the sparse case)
DENSITY_1MS, DENSITY_10MS = 0.01, 0.01


def reference_forward(net, x):
    """The reference's forward (v1), written out eagerly per step on ``net``'s own weights: (batch, time, outputs)."""
    import torch

    if net.version != "v1":
        raise ValueError("the reference transcription is ELM v1")
    batch, steps, _ = x.shape
    inputs = x
    if net.routing is not None:
        inputs = torch.index_select(x, 2, net.synapse_input) * net.synapse_valid  # the reference's gather
    w_s = torch.relu(net.w_s_raw)
    kappa_s, kappa_m = net.kappa_s, net.kappa_m
    gain = net.lambda_value * (1 - kappa_m)
    s = torch.zeros(batch, net.n_synapses, dtype=x.dtype)
    m = torch.zeros(batch, net.memory, dtype=x.dtype)
    outputs = []
    for t in range(steps):
        s = kappa_s * s + w_s * inputs[:, t]
        beta = s.view(batch, net.n_branches, -1).sum(dim=-1)
        h = torch.cat([beta, kappa_m * m], dim=-1)
        for layer in net.hidden:
            h = torch.relu(layer(h))
        delta = 1.7159 * torch.tanh(net.out_mlp(h) * 2 / 3)
        m = kappa_m * m + gain * delta
        outputs.append(net.readout(m))
    return torch.stack(outputs, dim=-2)


def neuronio_net(*, memory=20, dt=1e-3, seed=0):
    import torch

    from neurosim.elm.model import ELMNet

    net = ELMNet(1278, 2, memory=memory, n_branches=45, synapses_per_branch=100, routing="neuronio",
                 tau_m_min=1e-3, tau_m_max=0.15, dt=dt, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # weights away from their common init, so that every synapse is distinguishable
        net.w_s_raw.uniform_(0.0, 1.0, generator=torch.Generator().manual_seed(seed + 1))
    return net


def sparse_inputs(batch, steps, density, *, n_inputs=1278, seed=0):
    """Poisson counts with the inhibitory (second) half negated, as the NeuronIO training feeds them."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.poisson(torch.full((batch, steps, n_inputs), density), generator=g)
    x[..., n_inputs // 2:] *= -1
    return x


def check_equivalence(net, x, *, atol=1e-4):
    """Raise AssertionError unless ELMNet and the transcription give the same outputs; returns the max gap."""
    import torch

    with torch.no_grad():
        gap = float((net(x) - reference_forward(net, x)).abs().max())
    if not gap <= atol:
        raise AssertionError(f"ELMNet and the reference transcription differ by {gap:g} (> {atol:g})")
    return gap


@contextlib.contextmanager
def denormals(flush):
    """One CPU thread with denormal flushing on or off (torch_runtime only ever turns it on), restored after."""
    import torch

    from neurodata.deep import torch_runtime

    before = (torch.tensor([1e-30]) * 1e-10).item() == 0.0  # a denormal reads 0 while flushing
    with torch_runtime("cpu", 1, flush_denormal=flush):
        torch.set_flush_denormal(flush)
        try:
            yield
        finally:
            torch.set_flush_denormal(before)


def denormal_fraction(net, x):
    """Fraction of the reference's per-synapse trace values (all steps) that are float32 denormals when
    nothing is flushed: the numbers whose arithmetic flushing avoids."""
    import torch

    tiny = torch.finfo(torch.float32).tiny
    with denormals(False), torch.no_grad():
        inputs = torch.index_select(x, 2, net.synapse_input) * net.synapse_valid
        w_s, s, count = torch.relu(net.w_s_raw), torch.zeros(x.shape[0], net.n_synapses), 0
        for t in range(x.shape[1]):
            s = net.kappa_s * s + w_s * inputs[:, t]
            count += int(((s != 0) & (s.abs() < tiny)).sum())
    return count / (x.shape[0] * x.shape[1] * net.n_synapses)


def _seconds_per_batch(forward, net, x, repeats):
    times = []
    for _ in range(repeats + 1):  # the first call warms up
        net.zero_grad(set_to_none=True)
        tic = time.perf_counter()
        forward(x).square().mean().backward()
        times.append(time.perf_counter() - tic)
    return min(times[1:])


def _ours(net):
    return net


def _baseline(net):
    return lambda x: reference_forward(net, x)


def bench_neuronio_step(quick=True):
    """B = 8, T = 500, NeuronIO configuration, d_m = 20, 1 thread, Δt = 1 ms: ELMNet forward+backward (ours) vs
    the eager per-step transcription with the reference's index_select gather on dim 2 (baseline)."""
    from neurodata.deep import torch_runtime

    repeats = 2 if quick else 5
    with torch_runtime("cpu", 1):
        net = neuronio_net()
        x = sparse_inputs(8, 500, DENSITY_1MS)
        gap = check_equivalence(net, x)
        ours = _seconds_per_batch(_ours(net), net, x, repeats)
        baseline = _seconds_per_batch(_baseline(net), net, x, repeats)
    return {"name": "elm_neuronio_fwd_bwd", "ours": ours, "baseline": baseline, "max_output_gap": gap,
            "batch": 8, "steps": 500, "memory": 20}


def bench_sparse_denormals(quick=True):
    """Δt = 10 ms, sparse input (1 Hz per channel), same sizes: ELMNet forward+backward with denormal flushing
    (ours) vs without (baseline); the reference transcription with and without flushing as extras."""
    repeats = 2 if quick else 5
    net = neuronio_net(dt=1e-2)
    x = sparse_inputs(8, 500, DENSITY_10MS, seed=1)
    out = {}
    for flush in (True, False):
        with denormals(flush):
            if flush:
                out["max_output_gap"] = check_equivalence(net, x)
            out[f"ours_flush_{flush}"] = _seconds_per_batch(_ours(net), net, x, repeats)
            out[f"reference_flush_{flush}"] = _seconds_per_batch(_baseline(net), net, x, repeats)
    out["reference_denormal_trace_fraction"] = denormal_fraction(net, x)
    return {"name": "elm_sparse_dt10ms_flush_vs_no_flush", "ours": out["ours_flush_True"],
            "baseline": out["ours_flush_False"],
            "reference_slowdown_without_flush": out["reference_flush_False"] / out["reference_flush_True"],
            "ours_vs_reference_flushed": out["reference_flush_True"] / out["ours_flush_True"], **out}
