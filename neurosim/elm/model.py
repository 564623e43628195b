"""The Expressive Leaky Memory (ELM) neuron as a torch module (Spieler et al. 2023, ICLR 2024).

Per time step (Δt the bin, κ = exp(-Δt / τ)):

    synapse traces   s_t = κ_s s_{t-1} + w_s ⊙ x_t,             w_s = ReLU(ŵ_s) ≥ 0
    branches         β_t[k] = Σ_{j ∈ branch k} s_t[j]           (identity without branches)
    memory update    Δm_t = 1.7159 tanh(⅔ MLP([β_t, κ_m ⊙ m_{t-1}]))
    v1               m_t = κ_m ⊙ m_{t-1} + λ (1 - κ_m) ⊙ Δm_t
    v2               m_t = κ_m ⊙ m_{t-1} + (1 - κ_λ) ⊙ Δm_t,  κ_λ = exp(-Δt λ / τ_m)
    output           y_t = W_y m_t + b_y

τ_m = τ_min + (τ_max - τ_min) sigmoid(θ), θ initialised so that τ_m is log-spaced over [τ_min, τ_max].

v2 of the reference keeps one trace per branch, b_t = κ_b b_{t-1} + Σ_branch (w_s ⊙ x_t), instead of one per
synapse. With one synaptic time constant the two are the same numbers (the sum of equally decaying traces
is the decaying trace of the sum), so both versions here filter per branch, after one gather of the inputs
onto the synapses on a (batch·time, inputs) view; tests compare each version against a per-synapse
float64 NumPy transcription of the equations above. The linear part of the first MLP layer acting on β is
applied to all time steps at once; only the memory recurrence runs step by step.

Time is in seconds at this module's boundary (``dt``, ``tau_s``, ``tau_m_min``, ``tau_m_max``).
"""
import math

import numpy as np

from neurodata.deep import import_torch
from neurodata.errors import InvalidInputError
from neurodata.utils import check_option

torch = import_torch("neurosim.elm.model")
nn = torch.nn

__all__ = ["ELMNet", "ROUTINGS", "VERSIONS", "interleave_indices", "neuronio_routing", "random_routing",
           "scaled_tanh", "count_parameters"]

ROUTINGS = (None, "neuronio", "random")
VERSIONS = ("v1", "v2")
TANH_GAIN, TANH_SLOPE = 1.7159, 2.0 / 3.0  # LeCun's scaled tanh, bounded by ±1.7159
_TAU_MARGIN = 1e-6  # relative margin keeping the initial τ_m strictly inside (τ_min, τ_max)


def scaled_tanh(x):
    """1.7159 tanh(2x/3)."""
    return TANH_GAIN * torch.tanh(TANH_SLOPE * x)


def interleave_indices(n_inputs):
    """Order that alternates the first and second halves of the inputs: 0, h, 1, h+1, ... (h = n // 2).

    NeuronIO lists the excitatory inputs first and the inhibitory ones after; interleaving puts the
    excitatory and inhibitory synapses of one dendritic location next to each other.
    """
    k = np.arange(n_inputs)
    return (k % 2) * (n_inputs // 2) + k // 2


def neuronio_routing(n_inputs, n_branches, synapses_per_branch):
    """Input index and validity of every synapse for NeuronIO routing; both of length n_branches·per_branch.

    Branch k takes ``synapses_per_branch`` consecutive interleaved inputs starting at k·⌈n_inputs/n_branches⌉
    (overlapping windows); window positions beyond the last input are invalid (mask 0, index clamped).
    """
    stride = math.ceil(n_inputs / n_branches)
    if stride > synapses_per_branch:
        raise InvalidInputError(f"neuronio routing needs synapses_per_branch >= ceil(n_inputs / n_branches) = "
                                f"{stride} so that every input reaches a branch; got {synapses_per_branch}.")
    window = np.arange(n_branches)[:, None] * stride + np.arange(synapses_per_branch)[None, :]
    valid = (window < n_inputs).ravel()
    window = np.minimum(window, n_inputs - 1).ravel()
    return interleave_indices(n_inputs)[window], valid


def random_routing(n_inputs, n_synapses, generator):
    """Every synapse draws its input uniformly (with replacement); all valid."""
    idx = torch.randint(n_inputs, (n_synapses,), generator=generator).numpy()
    return idx, np.ones(n_synapses, dtype=bool)


def count_parameters(module):
    """Number of trainable parameters (the paper's count)."""
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad))


def _init_linear(layer, generator):
    # PyTorch's default Linear init (bound 1/sqrt(fan_in) for weight and bias), drawn from our generator
    bound = 1.0 / math.sqrt(layer.in_features)
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)


class ELMNet(nn.Module):
    """ELM / Branch-ELM neuron. Input (batch, time, n_inputs) → output (batch, time, n_outputs).

    Parameters (paper defaults)
    ---------------------------
    n_inputs, n_outputs : int
    memory : int             number of memory units d_m (100)
    lambda_value : float     λ, memory-update scale (5)
    mlp_layers : int         hidden layers l_mlp of the MLP (1); 0 is the ablation without a hidden layer
    mlp_hidden : int         hidden width (2·d_m)
    tau_s : float            synapse (v1) / branch (v2) time constant, s (5 ms)
    tau_m_min, tau_m_max     memory time-constant range, s (1 ms, 1 s)
    learn_tau_m : bool       θ of τ_m trainable (False)
    w_s_init : float         initial ŵ_s (0.5)
    n_branches : int         None: no branches (one synapse per input)
    synapses_per_branch : int
    routing : {None, "neuronio", "random"}
    version : {"v1", "v2"}
    dt : float               bin, s (1 ms)
    generator : torch.Generator for the initial weights and random routing
    """

    def __init__(self, n_inputs, n_outputs, *, memory=100, lambda_value=5.0, mlp_layers=1, mlp_hidden=None,
                 tau_s=5e-3, tau_m_min=1e-3, tau_m_max=1.0, learn_tau_m=False, w_s_init=0.5, n_branches=None,
                 synapses_per_branch=1, routing=None, version="v1", dt=1e-3, generator=None):
        super().__init__()
        check_option(routing, "routing", ROUTINGS)
        check_option(version, "version", VERSIONS)
        if not 0 < tau_m_min < tau_m_max:
            raise InvalidInputError(f"tau_m_min and tau_m_max must satisfy 0 < tau_m_min < tau_m_max; got "
                                    f"{tau_m_min!r}, {tau_m_max!r}.")
        self.n_inputs, self.n_outputs, self.memory = int(n_inputs), int(n_outputs), int(memory)
        self.lambda_value, self.version, self.dt = float(lambda_value), version, float(dt)
        self.tau_m_min, self.tau_m_max = float(tau_m_min), float(tau_m_max)
        self.n_branches = self.n_inputs if n_branches is None else int(n_branches)
        self.synapses_per_branch = int(synapses_per_branch)
        self.n_synapses = self.n_branches * self.synapses_per_branch
        self.routing = routing
        if routing is None and self.n_synapses != self.n_inputs:
            raise InvalidInputError(f"Without routing every input is one synapse, so n_branches · "
                                    f"synapses_per_branch must equal n_inputs = {self.n_inputs}; got "
                                    f"{self.n_synapses}. Pass routing='neuronio' or 'random'.")
        hidden = 2 * self.memory if mlp_hidden is None else int(mlp_hidden)
        widths = [self.n_branches + self.memory] + [hidden] * int(mlp_layers)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.out_mlp = nn.Linear(widths[-1], self.memory)
        self.readout = nn.Linear(self.memory, self.n_outputs)
        for layer in [*self.hidden, self.out_mlp, self.readout]:
            _init_linear(layer, generator)
        self.w_s_raw = nn.Parameter(torch.full((self.n_synapses,), float(w_s_init)))
        self.register_buffer("kappa_s", torch.tensor(math.exp(-self.dt / tau_s)))
        tau0 = np.logspace(math.log10(tau_m_min), math.log10(tau_m_max), self.memory)
        margin = _TAU_MARGIN * (tau_m_max - tau_m_min)
        frac = (np.clip(tau0, tau_m_min + margin, tau_m_max - margin) - tau_m_min) / (tau_m_max - tau_m_min)
        self.theta_m = nn.Parameter(torch.tensor(np.log(frac / (1 - frac)), dtype=torch.float32),
                                    requires_grad=bool(learn_tau_m))
        if routing == "neuronio":
            idx, valid = neuronio_routing(self.n_inputs, self.n_branches, self.synapses_per_branch)
        elif routing == "random":
            idx, valid = random_routing(self.n_inputs, self.n_synapses, generator)
        else:
            idx, valid = np.arange(self.n_inputs), np.ones(self.n_inputs, dtype=bool)
        self.register_buffer("synapse_input", torch.as_tensor(idx, dtype=torch.long))
        self.register_buffer("synapse_valid", torch.as_tensor(valid, dtype=torch.float32))
        self.register_buffer("branch_of_synapse", torch.arange(self.n_synapses) // self.synapses_per_branch)

    # ---- derived quantities ------------------------------------------------------------------------------
    @property
    def tau_m(self):
        return self.tau_m_min + (self.tau_m_max - self.tau_m_min) * torch.sigmoid(self.theta_m)

    @property
    def kappa_m(self):
        return torch.exp(-self.dt / self.tau_m)

    @property
    def w_s(self):
        """Effective synaptic weights ReLU(ŵ_s), zero on invalid (padding) synapses."""
        return torch.relu(self.w_s_raw) * self.synapse_valid

    def memory_gain(self):
        """Factor of Δm in the memory update: λ(1 - κ_m) for v1, 1 - κ_λ for v2."""
        if self.version == "v1":
            return self.lambda_value * (1 - self.kappa_m)
        return 1 - torch.exp(-self.dt * self.lambda_value / self.tau_m)

    # ---- forward -----------------------------------------------------------------------------------------
    def branch_input_gather(self, x):
        """Σ_branch w_s ⊙ x_t for all steps, (batch, time, n_branches): one gather of the inputs onto the
        synapses on a (batch·time, inputs) view, weighting, and a sum over each branch's synapses."""
        batch, steps, width = x.shape
        flat = x.reshape(batch * steps, width)
        if self.routing is not None:
            flat = flat.index_select(1, self.synapse_input)
        flat = flat * self.w_s
        return flat.view(batch, steps, self.n_branches, self.synapses_per_branch).sum(-1)

    def routing_matrix(self):
        """(n_inputs, n_branches) matrix R with R[i, k] = Σ w_s over the synapses of branch k fed by input i."""
        branch = self.branch_of_synapse
        r = torch.zeros(self.n_inputs, self.n_branches, dtype=self.w_s_raw.dtype, device=self.w_s_raw.device)
        return r.index_put((self.synapse_input, branch), self.w_s, accumulate=True)

    def branch_input(self, x):
        """Σ_branch w_s ⊙ x_t for all steps, (batch, time, n_branches).

        The same numbers as :meth:`branch_input_gather`, computed by routing the 4500 weights instead of the
        inputs: the weights are scattered once into R (inputs x branches), then one matmul of the
        (batch·time, inputs) view with R. This avoids materialising the (batch·time, synapses) tensor, which
        is what the gather costs (forward and backward) on sparse NeuronIO input.
        """
        batch, steps, width = x.shape
        return (x.reshape(batch * steps, width) @ self.routing_matrix()).view(batch, steps, self.n_branches)

    def forward(self, x, *, return_memory=False):
        if x.ndim != 3 or x.shape[-1] != self.n_inputs:
            raise InvalidInputError(f"ELM input must be (batch, time, {self.n_inputs}); got {tuple(x.shape)}.")
        batch, steps, _ = x.shape
        u = self.branch_input(x)
        kappa_s = self.kappa_s
        beta, trace = [], torch.zeros(batch, self.n_branches, dtype=x.dtype, device=x.device)
        for u_t in u.unbind(1):  # unbind: one backward for all steps (indexing u[:, t] costs O(T^2))
            trace = kappa_s * trace + u_t
            beta.append(trace)
        beta = torch.stack(beta, 1)
        first = self.hidden[0] if len(self.hidden) else self.out_mlp
        w_beta, w_mem = first.weight[:, :self.n_branches], first.weight[:, self.n_branches:]
        drive = torch.nn.functional.linear(beta, w_beta, first.bias)  # all steps at once
        kappa_m, gain = self.kappa_m, self.memory_gain()
        m = torch.zeros(batch, self.memory, dtype=x.dtype, device=x.device)
        memory = []
        w_mem_t = w_mem.T
        for drive_t in drive.unbind(1):
            decayed = kappa_m * m
            h = drive_t + decayed @ w_mem_t
            if len(self.hidden):
                h = torch.relu(h)
                for layer in self.hidden[1:]:
                    h = torch.relu(layer(h))
                h = self.out_mlp(h)
            m = decayed + gain * scaled_tanh(h)
            memory.append(m)
        memory = torch.stack(memory, 1)
        y = self.readout(memory)
        return (y, memory) if return_memory else y

    def n_parameters(self):
        return count_parameters(self)
