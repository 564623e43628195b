"""Write a bi-clustering fit to a results NWB file through the spine."""
import numpy as np


def write_bicluster_results(path, model, counts, sources=(), extra=None, *, overwrite=False):
    """Arrays: maxPEAR labels/states, co-clustering matrices, traces of cluster/state numbers, posterior means;
    a per-neuron table; the states as a TimeSeries on the bins' times."""
    import pandas as pd

    from ..io import Traces, write_results

    params = {k: v for k, v in model.get_params().items() if k != "verbose"}  # progress display is no setting
    params.update(extra or {})
    params["seed"] = model.seed if isinstance(model.seed, (int, type(None))) else "Generator"
    units = list(getattr(counts, "channels", range(model.n_neurons_)))
    table = pd.DataFrame({"unit": [str(u) for u in units], "label": model.labels_,
                          "d_mean": model.d_, "r_mean": model.r_ if model.likelihood == "negbin"
                          else np.full(model.n_neurons_, np.nan)})
    arrays = {"labels": model.labels_, "states": model.states_,
              "coclustering_neurons": model.coclustering_neurons_,
              "coclustering_states": model.coclustering_states_,
              "n_clusters_trace": model.n_clusters_trace_, "n_states_trace": model.n_states_trace_}
    traces = {}
    times = getattr(counts, "times", None)
    if times is not None:
        traces["state_raster"] = Traces(model.states_[:, None].astype(float), times=np.asarray(times), name="state_raster",
                                  unit="state index")
        if hasattr(model, "log_rate_"):
            traces["log_rate_mean"] = Traces(model.log_rate_, times=np.asarray(times), name="log_rate_mean",
                                             unit="log(count per bin)")
    return write_results(path, analysis="bicluster", sources=list(sources), parameters=params, arrays=arrays,
                         tables={"neurons": table}, traces=traces,
                         description="Bayesian bi-clustering (Wei 2023): neuron clusters and time states",
                         overwrite=overwrite)
