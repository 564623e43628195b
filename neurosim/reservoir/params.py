"""Paper defaults for the reservoir, its task and its readouts, in one place.

Yamada & Chao (2025), "Joint encoding of 'what' and 'when' predictions through error-modulated plasticity in
reservoir spiking networks", arXiv:2510.14382 — only the abstract is public. Where it is silent the values
come from Izhikevich (2003, IEEE TNN 14:1569) for the reservoir, Izhikevich (2006, spnet) for the sparse
in-degree, Fremaux & Gerstner (2016) and Hoerzer, Legenstein & Maass (2014) for the three-factor readout.
Every such choice is listed with its reason in ``models/yamada_chao_2025_reservoir.json``.
"""
import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class ReservoirParams:
    """Heterogeneous Izhikevich-2003 reservoir with sparse random E/I connectivity (time in ms, v in mV)."""
    n_neurons: int = 1000
    frac_exc: float = 0.8                 # Izhikevich 2003: Ne=800, Ni=200
    p_connect: float = 0.1                # 100 inputs per neuron at N=1000 (spnet in-degree)
    fixed_in_degree: bool = True          # keep 100 inputs per neuron when N grows (spnet), so N=1e5 fits memory
    w_exc: float = 0.5                    # Izhikevich 2003: S_E = 0.5*rand ...
    w_inh: float = 1.0                    # ... S_I = -rand; both scaled by 1000/in_degree (same mean drive)
    noise_exc: float = 1.0                # thalamic noise sd (E); Izhikevich 2003 uses 5, see card
    noise_inh: float = 0.5                # (I; 2003: 2), redrawn every ms as in the 2003 code
    dt_ms: float = 0.5
    tau_traces_ms: tuple = (5.0, 20.0, 60.0)  # fast, mid, slow presynaptic traces read by the "when" weights
    tau_rate_ms: float = 2000.0           # running mean rate; traces are centred by it (whitens the common mode)
    tau_hold_ms: float = 20.0             # m_j follows the centred slow trace in the first early_ms after the cue
    early_ms: float = 100.0               # ... and holds it for the rest of the trial and the ITI ("what" input)
    # The readouts read the first readout_fan_in excitatory neurons (all 800 at N=1000): a fixed fan-in, like the
    # fixed recurrent in-degree, so the readouts' traces and plasticity cost the same at N=1e5 as at N=1000
    readout_fan_in: int = 800


@dataclass(frozen=True)
class InputParams:
    """Cue and outcome-stimulus input populations (frozen Poisson patterns, one population per identity)."""
    n_per_cue: int = 100
    cue_rate_hz: float = 40.0
    n_per_stimulus: int = 40
    p_input: float = 0.1
    w_input: float = 8.0                  # mV jump per input spike (like a strong thalamic volley)
    stimulus_jitter_ms: float = 2.0
    # Outcome stimuli drive the readouts' teacher only: if they also reached the reservoir, a readout could
    # detect a delivered outcome instead of predicting it, and omitted trials would no longer look alike.
    stimulus_to_reservoir: bool = False


@dataclass(frozen=True)
class ReadoutParams:
    """Three-factor readout: y_k = A_k * z_k, 'when' z_k learned online, 'what' A_k consolidated offline."""
    eta_when: float = 0.1                 # instar step per attended trial (1/n over the first 1/eta trials)
    attention_after_ms: float = 150.0     # the attention gate stays open until 150 ms after the delivered outcome
    eta_what: float = 1.0e-3              # per ms, offline NLMS rule during the inter-trial interval
    target_width_ms: float = 10.0         # sd of the Gaussian outcome event the readout is taught to predict


@dataclass(frozen=True)
class RLSParams:
    """FORCE/RLS baseline readout on the same reservoir traces (Sussillo & Abbott 2009)."""
    alpha: float = 1.0                    # P(0) = I / alpha
    step_ms: float = 10.0                 # one RLS update per 10 ms bin (the timing tolerance)


def as_dict(params):
    """A plain dict of a params dataclass (for NWB parameters and the model card)."""
    return dataclasses.asdict(params)
