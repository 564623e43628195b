"""Sweepable simulations: each is ``f(params, seed, out_path) -> metrics`` and writes one NWB file.

``params`` holds only what the sweep sets; everything else keeps the model's own defaults (read from the
model's function signature or parameter dataclasses — defaults live there, not here). Each function has a
``parameters()`` attribute listing what can be set, so a typo fails before any run starts. Heavy modules
(Brian2, the models) are imported inside the functions, on the worker that runs them.
"""
import shutil
from pathlib import Path

import numpy as np

from neurodata.errors import InvalidInputError

from .core import signature_defaults

__all__ = ["ahmad_hawkins_2016", "lif_network", "yamada_chao_2025_reservoir"]


def _merge(name, defaults, params):
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidInputError(f"{name} has no parameter {unknown}. Allowed values are {sorted(defaults)}.")
    return {**defaults, **params}


# ------------------------------------------------------------------------------------- built-in LIF network
def _lif_parameters():
    from neurosim.circuits import simulate_lif_network
    return signature_defaults(simulate_lif_network)


def lif_network(params, seed, out_path):
    """The built-in Brunel E/I LIF network (:mod:`neurosim.circuits`).

    With ``device="cpp_standalone"`` the network is compiled once per worker process
    (:func:`neurosim.circuits.compiled_lif_network`) and each run only executes the binary with its
    parameters and seed as ``run_args``, in a results directory of its own (removed once read into NWB).
    Metrics: mean rate and ISI CV per population, spike count.
    """
    from neurodata.io import write_simulation
    from neurosim.circuits import (CompiledLIFNetwork, compiled_lif_network, lif_metrics,
                                   simulate_lif_network)

    p = _merge("lif_network", _lif_parameters(), params)
    if p["device"] == "cpp_standalone":
        if p["target"] is not None:
            raise InvalidInputError("target= applies to the runtime device only; drop it for cpp_standalone.")
        net = compiled_lif_network(**{k: p[k] for k in ("n_neurons", "duration", "p", "delay", "refractory",
                                                        "record_v")})
        results = f"results/{Path(out_path).stem}"
        try:
            populations, v, used = net.run({k: p[k] for k in CompiledLIFNetwork.RUN_PARAMETERS}, seed=seed,
                                           results_directory=results)
        finally:
            shutil.rmtree(Path(net.directory) / results, ignore_errors=True)
    else:
        populations, v, used = simulate_lif_network(seed=seed, **{k: v for k, v in p.items()})
    write_simulation(out_path, spikes=populations, traces={"v": v}, parameters=used, resolution=used["dt"],
                     description="Brunel-style E/I LIF network (neurosuite built-in circuit), one sweep point")
    return lif_metrics(populations)


lif_network.parameters = _lif_parameters


# ----------------------------------------------------------------------- active dendrites (Ahmad & Hawkins)
def _dendrite_parameters():
    from neurosim.dendrites.experiment import run_experiment
    return signature_defaults(run_experiment, exclude=("seed", "verbose", "params"))


def ahmad_hawkins_2016(params, seed, out_path):
    """Recognition experiment of active-dendrite neurons on SDRs (:func:`neurosim.dendrites.experiment.run_experiment`).

    Metrics: for every measured rate its ``_measured``, ``_theory`` and ``_z`` (z-score against the exact
    theory), plus simulated and wall seconds.
    """
    from neurosim.dendrites.experiment import run_experiment, write_run

    p = _merge("ahmad_hawkins_2016", _dendrite_parameters(), params)
    model, run, summary = run_experiment(**p, seed=seed, verbose=False)
    write_run(out_path, model, run, summary)
    metrics = {}
    for name, value in summary.items():
        if isinstance(value, dict):
            for part in ("measured", "theory", "z"):
                if part in value:
                    metrics[f"{name}_{part}"] = value[part]
        else:
            metrics[name] = value
    return metrics


ahmad_hawkins_2016.parameters = _dendrite_parameters


# ---------------------------------------------------------------------- reservoir (Yamada & Chao 2025)
# The task a sweep runs when none is given: two cue identities with different outcome latency and
# probability, so both "when" and "what" are learned. Reservoir, input and readout values come from the
# reservoir's own parameter dataclasses.
RESERVOIR_TASK = dict(latencies_ms=(150.0, 300.0), probabilities=(1.0, 0.5), n_trials=20, trial_ms=500.0,
                      iti_ms=300.0)
_RESERVOIR_RUN = dict(device="runtime", target=None, noise=True, plasticity=True)


def _reservoir_parameters():
    import dataclasses

    from neurosim.reservoir.params import InputParams, ReadoutParams, ReservoirParams

    names = {}
    for cls in (ReservoirParams, InputParams, ReadoutParams):
        names.update({f.name: f.default for f in dataclasses.fields(cls)})
    return {**names, **RESERVOIR_TASK, **_RESERVOIR_RUN}


def yamada_chao_2025_reservoir(params, seed, out_path):
    """Izhikevich reservoir with three-factor "what"/"when" readouts on a cue → outcome task
    (:func:`neurosim.reservoir.network.simulate`); parameters are the fields of its ReservoirParams,
    InputParams and ReadoutParams plus the task (latencies, probabilities, trials) and the device.

    Metrics: mean reservoir rate, readout prediction error (RMS against p·Gaussian(latency)) over the first
    and the last quarter of trials, and wall seconds.
    """
    import dataclasses

    import pandas as pd

    from neurodata.io import SpikeTrains, Traces, write_simulation
    from neurosim.reservoir.analysis import prediction_error
    from neurosim.reservoir.network import simulate
    from neurosim.reservoir.params import InputParams, ReadoutParams, ReservoirParams
    from neurosim.reservoir.task import Paradigm

    p = _merge("yamada_chao_2025_reservoir", _reservoir_parameters(), params)
    parts = {cls: cls(**{f.name: p[f.name] for f in dataclasses.fields(cls)})
             for cls in (ReservoirParams, InputParams, ReadoutParams)}
    rng = np.random.default_rng(seed)
    paradigm = Paradigm(p["latencies_ms"], p["probabilities"], p["n_trials"], trial_ms=p["trial_ms"],
                        iti_ms=p["iti_ms"], seed=rng)
    result = simulate(paradigm, reservoir=parts[ReservoirParams], inputs=parts[InputParams],
                      readout=parts[ReadoutParams], noise=p["noise"], plasticity=p["plasticity"],
                      record_weights=False, seed=rng, device=p["device"], target=p["target"])
    n, end = result.n_neurons, paradigm.duration_ms / 1e3
    order = np.argsort(result.spike_i, kind="stable")
    cuts = np.searchsorted(result.spike_i[order], np.arange(n + 1))
    times = result.spike_t[order]
    spikes = SpikeTrains([times[cuts[i]:cuts[i + 1]] for i in range(n)], unit_ids=range(n), start=0.0, end=end,
                         name="reservoir")
    identities = [f"identity {k}" for k in range(paradigm.n_identities)]
    traces = {name: Traces(getattr(result, f"readout_{name}"), times=result.readout_t, channels=identities,
                           unit="a.u.", name=f"readout_{name}") for name in ("y", "z", "A", "s")}
    error = prediction_error(result, parts[ReadoutParams].target_width_ms)
    quarter = max(1, len(error) // 4)
    trials = paradigm.trials.reset_index(drop=True)
    write_simulation(out_path, spikes={"reservoir": spikes}, traces=traces,
                     tables={"trials": pd.DataFrame({c: trials[c].to_numpy() for c in trials.columns})},
                     parameters={**{k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()},
                                 "seed": seed, "citation": "Yamada & Chao (2025) arXiv:2510.14382"},
                     description="Izhikevich reservoir with what/when readouts (Yamada & Chao 2025), one sweep point",
                     resolution=parts[ReservoirParams].dt_ms / 1e3)
    return {"rate_hz": float(len(result.spike_t) / (n * end)), "error_first": float(np.mean(error[:quarter])),
            "error_last": float(np.mean(error[-quarter:])), "wall_seconds": result.wall_time_s}


yamada_chao_2025_reservoir.parameters = _reservoir_parameters
