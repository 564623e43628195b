"""Write a reservoir run to NWB through the suite's spine (``neurodata.io.write_simulation``)."""
import numpy as np
import pandas as pd

from neurodata.io import Intervals, SpikeTrains, Traces, write_simulation

from .params import as_dict


def _trains(idx, times, n):
    order = np.lexsort((times, idx))
    idx, times = idx[order], times[order]
    bounds = np.searchsorted(idx, np.arange(n + 1))
    return [times[bounds[i]:bounds[i + 1]] for i in range(n)]


def result_to_nwb(result, path, *, description=None, overwrite=False):
    """Reservoir, cue and stimulus spikes (Units with a population column), readout predictions, teacher,
    gains and templates (TimeSeries), readout weights sampled once per trial (DynamicTable, long format),
    the trial table, and the full parameters (JSON)."""
    par = result.paradigm
    end = par.duration_ms / 1e3
    n, n_exc = result.n_neurons, result.n_exc
    pop = np.where(np.arange(n) < n_exc, "exc", "inh")
    spikes = {"reservoir": SpikeTrains(_trains(result.spike_i, result.spike_t, n), start=0.0, end=end,
                                       metadata=pd.DataFrame({"cell_type": pop, "identity": -1}),
                                       name="reservoir")}
    for name, (idx, t) in (("cue_input", result.cue_spikes), ("stimulus_input", result.stimulus_spikes)):
        n_in = par.n_identities * (result.params["inputs"].n_per_cue if name == "cue_input"
                                   else result.params["inputs"].n_per_stimulus)
        per = n_in // par.n_identities
        spikes[name] = SpikeTrains(_trains(np.asarray(idx, int), np.asarray(t, float), n_in), start=0.0, end=end,
                                   metadata=pd.DataFrame({"cell_type": name.split("_")[0],
                                                                "identity": np.arange(n_in) // per}), name=name)
    traces = {}
    channels = [f"outcome_{k}" for k in range(par.n_identities)]
    if result.readout_y is not None:
        for key, what in (("y", "prediction"), ("z", "when_template"), ("A", "what_gain")):
            traces[f"readout_{what}"] = Traces(getattr(result, f"readout_{key}"), times=result.readout_t,
                                               channels=channels, name=f"readout_{what}")
    stimuli = {}
    if result.readout_s is not None:
        stimuli["outcome_events"] = Traces(result.readout_s, times=result.readout_t, channels=channels,
                                           name="outcome_events")
    tables = {}
    if result.w_when is not None:
        s, k, j = np.meshgrid(np.arange(result.w_when.shape[0]), np.arange(par.n_identities),
                              np.arange(result.n_readout_inputs), indexing="ij")
        tables["readout_weights"] = pd.DataFrame(dict(
            time=result.weight_t[s.ravel()], readout=k.ravel(), presynaptic=j.ravel(),
            w_when_fast=result.w_when[:, :, 0].ravel(), w_when_mid=result.w_when[:, :, 1].ravel(),
            w_when_slow=result.w_when[:, :, 2].ravel(), w_what=result.w_what.ravel()))
    trials = par.trials.reset_index()
    table = trials.drop(columns=["start_time", "stop_time"]).copy()
    table["outcome_time"] = table["outcome_time"].fillna(-1.0)   # NWB columns cannot hold NaN-as-missing well
    intervals = {"trials": Intervals(trials.start_time.to_numpy(), trials.stop_time.to_numpy(), table=table,
                                     name="trials")}
    parameters = {key: (as_dict(v) if hasattr(v, "__dataclass_fields__") else v)
                  for key, v in result.params.items()}
    parameters["paradigm"] = dict(n_trials=par.n_trials, trial_ms=par.trial_ms, iti_ms=par.iti_ms,
                                  switches=[as_dict(sw) for sw in par.switches])
    parameters["model_card"] = "yamada_chao_2025_reservoir"
    return write_simulation(path, spikes=spikes, traces=traces, stimuli=stimuli, intervals=intervals,
                            tables=tables, parameters=parameters, resolution=result.params["reservoir"].dt_ms / 1e3,
                            description=description or "Izhikevich reservoir with three-factor what/when readouts "
                                                       "(Yamada & Chao 2025)",
                            overwrite=overwrite)
