"""Write a bi-clustering fit to a results NWB file through the spine."""
import numpy as np


def write_bicluster_results(path, model, counts, sources=(), extra=None, *, overwrite=False):
    """Arrays: maxPEAR labels, co-clustering matrices, traces of cluster/state numbers over the draws; a
    per-neuron table; the time states and posterior mean log rates as TimeSeries on the bins' times."""
    import pandas as pd

    from ..io import Traces, write_results

    params = {k: v for k, v in model.get_params().items() if k != "verbose"}  # progress display is no setting
    params.update(extra or {})
    params["seed"] = model.seed if isinstance(model.seed, (int, type(None))) else "Generator"
    units = list(getattr(counts, "channels", range(model.n_neurons_)))
    table = pd.DataFrame({"unit": [str(u) for u in units], "label": model.labels_,
                          "d_mean": model.d_, "r_mean": model.r_ if model.likelihood == "negbin"
                          else np.full(model.n_neurons_, np.nan)})
    arrays = {"labels": model.labels_,
              "coclustering_neurons": model.coclustering_neurons_,
              "coclustering_states": model.coclustering_states_,
              "n_clusters_trace": model.n_clusters_trace_, "n_states_trace": model.n_states_trace_}
    descriptions = {
        "labels": "maxPEAR neuron cluster labels, one per neuron (see the neurons table)",
        "coclustering_neurons": "posterior probability that two neurons share a cluster (neurons x neurons)",
        "coclustering_states": "posterior probability that two time bins share a state (bins x bins)",
        "n_clusters_trace": "number of occupied neuron clusters at each kept MCMC draw",
        "n_states_trace": "number of occupied time states at each kept MCMC draw",
        "neurons": "per neuron: label and posterior means of the baseline d and dispersion r",
        "states": "maxPEAR time-state label of each bin (on the bins' start times)",
        "log_rate_mean": "posterior mean log firing rate per bin and neuron (bins x neurons)"}
    traces = {}
    times = getattr(counts, "times", None)
    if times is None:  # a bare count array: its bins have no times, so the states stay an array
        arrays["states"] = model.states_
    else:
        # results with a time axis are TimeSeries on the bins (pynapple loads them); the spine keeps a short
        # run's (bins x neurons) log rate as a time-first table, not a TimeSeries that looks transposed
        timing = {"rate": counts.rate, "start": counts.start} if getattr(counts, "rate", None) \
            else {"times": np.asarray(times)}
        traces["states"] = Traces(model.states_, name="states", unit="state index", **timing)
        if hasattr(model, "log_rate_"):
            traces["log_rate_mean"] = Traces(model.log_rate_, name="log_rate_mean", unit="log(count per bin)",
                                             channels=units, **timing)
    return write_results(path, analysis="bicluster", sources=list(sources), parameters=params, arrays=arrays,
                         tables={"neurons": table}, traces=traces, descriptions=descriptions,
                         description="Bayesian bi-clustering (Wei 2023): neuron clusters and time states",
                         overwrite=overwrite)
