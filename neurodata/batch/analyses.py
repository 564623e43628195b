"""Per-file analyses for batches: each is ``f(nwb_path, out_path, params) -> metrics`` and writes one results
NWB file (through the spine, atomically) naming its source.

``params`` holds what the user set; the rest keeps each method's own defaults (its estimator's signature).
``parameters()`` on each function lists what may be set. The analysis packages load only inside the calls.
"""
import inspect

import numpy as np

from ..errors import InvalidInputError, NWBContentError

__all__ = ["bicluster", "bin_spikes", "connectome", "rsa", "spike_summary"]


def _merge(name, defaults, params):
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidInputError(f"{name} has no parameter {unknown}. Allowed values are {sorted(defaults)}.")
    return {**defaults, **params}


def _estimator_defaults(cls, exclude=("verbose",)):
    return {n: p.default for n, p in inspect.signature(cls.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty and n not in exclude}


# ------------------------------------------------------------------------------------------------- binning
def bin_spikes(nwb_path, out_path, params):
    """Spike counts (time bins × units) of the Units table, as ``neurodata bin`` writes them.

    Parameters: ``bin_size`` (s, required), ``start``, ``end`` (s; default first / last spike).
    Metrics: units, bins, spikes, mean count per bin.
    """
    from ..io import read_spikes, write_results

    p = _merge("bin", bin_spikes.parameters(), params)
    if p["bin_size"] is None:
        raise InvalidInputError("the 'bin' analysis needs bin_size (s), e.g. params={'bin_size': 0.01}.")
    counts = read_spikes(nwb_path).count(p["bin_size"], p["start"], p["end"])
    write_results(out_path, analysis="binning", sources=[nwb_path],
                  parameters={"bin_size": p["bin_size"], "start": counts.start, "end": counts.end},
                  traces={"counts": counts})
    return {"n_units": counts.n_channels, "n_bins": counts.n_times, "n_spikes": int(counts.data.sum()),
            "mean_count": float(counts.data.mean())}


bin_spikes.parameters = lambda: {"bin_size": None, "start": None, "end": None}


# -------------------------------------------------------------------------------------------- unit summary
def spike_summary(nwb_path, out_path, params):
    """Per-unit firing statistics: spikes, rate (Hz), CV of inter-spike intervals, Fano factor of counts in
    ``fano_bin`` windows (default 1 s). Metrics: units, spikes, duration, median rate, mean CV, mean Fano."""
    import pandas as pd

    from ..io import read_spikes, write_results

    p = _merge("summary", spike_summary.parameters(), params)
    spikes = read_spikes(nwb_path)
    if spikes.n_units == 0:
        raise NWBContentError(f"{nwb_path}: the Units table has no units.")
    duration = spikes.end - spikes.start
    rows = []
    counts = spikes.count(p["fano_bin"]).data if duration >= 2 * p["fano_bin"] else None
    for j, (uid, t) in enumerate(zip(spikes.unit_ids, spikes.times)):
        isi = np.diff(t)
        rows.append({"unit": str(uid), "n_spikes": int(len(t)), "rate_hz": len(t) / duration if duration > 0 else np.nan,
                     "cv_isi": float(isi.std() / isi.mean()) if len(isi) >= 2 and isi.mean() > 0 else np.nan,
                     "fano": (float(counts[:, j].var() / counts[:, j].mean())
                              if counts is not None and counts[:, j].mean() > 0 else np.nan)})
    table = pd.DataFrame(rows)
    write_results(out_path, analysis="spike_summary", sources=[nwb_path],
                  parameters={"fano_bin": p["fano_bin"], "start": spikes.start, "end": spikes.end},
                  tables={"units": table})
    return {"n_units": spikes.n_units, "n_spikes": spikes.n_spikes, "duration_s": float(duration),
            "median_rate_hz": float(table["rate_hz"].median()), "mean_cv_isi": float(table["cv_isi"].mean()),
            "mean_fano": float(table["fano"].mean())}


spike_summary.parameters = lambda: {"fano_bin": 1.0}


# -------------------------------------------------------------------------------------------- connectome
def _connectome_parameters():
    from ..connectome import DynamicConnectome
    return {**_estimator_defaults(DynamicConnectome), "series": None}


def connectome(nwb_path, out_path, params):
    """Dynamic functional connectome (Dyballa et al. 2024) of one calcium recording (its RoiResponseSeries):
    :class:`neurodata.connectome.DynamicConnectome` on that one animal. Metrics: rank, total SBM blocks,
    relative reconstruction error."""
    from pathlib import Path

    from ..connectome import DynamicConnectome
    from ..io import read_traces

    p = _merge("connectome", _connectome_parameters(), params)
    traces = read_traces(nwb_path, name=p.pop("series"))
    result = DynamicConnectome(**p, verbose=False).fit([traces], animal_names=[Path(nwb_path).stem]).result_
    result.to_nwb(out_path, sources=[nwb_path])
    return {"rank": result.rank, "n_blocks": int(np.sum(result.n_blocks)),
            "reconstruction_error": float(result.reconstruction_error)}


connectome.parameters = _connectome_parameters


# --------------------------------------------------------------------------------------------- bicluster
def _bicluster_parameters():
    from ..bicluster import BiclusterMCMC
    return {**_estimator_defaults(BiclusterMCMC, exclude=("verbose", "checkpoint", "resume", "checkpoint_every")),
            "bin_size": None, "start": None, "end": None}


def bicluster(nwb_path, out_path, params):
    """Bayesian bi-clustering (Wei 2023) of the Units table binned at ``bin_size`` (s, required):
    :class:`neurodata.bicluster.BiclusterMCMC`. Metrics: posterior mode of the number of neuron clusters,
    distinct states in the point estimate, units, bins."""
    from ..bicluster import BiclusterMCMC
    from ..io import read_spikes, write_results

    p = _merge("bicluster", _bicluster_parameters(), params)
    bin_size, start, end = p.pop("bin_size"), p.pop("start"), p.pop("end")
    if bin_size is None:
        raise InvalidInputError("the 'bicluster' analysis needs bin_size (s), e.g. params={'bin_size': 0.05}.")
    counts = read_spikes(nwb_path).count(bin_size, start, end)
    model = BiclusterMCMC(**p, verbose=False).fit(counts)
    write_results(out_path, analysis="bicluster", sources=[nwb_path],
                  parameters={**p, "bin_size": bin_size, "start": counts.start, "end": counts.end},
                  arrays={"labels": np.asarray(model.labels_), "states": np.asarray(model.states_),
                          "coclustering_neurons": model.coclustering_neurons_,
                          "n_clusters_trace": model.n_clusters_trace_})
    return {"n_clusters": model.n_clusters_mode_, "n_states": int(np.unique(model.states_).size),
            "n_units": counts.n_channels, "n_bins": counts.n_times}


bicluster.parameters = _bicluster_parameters


# --------------------------------------------------------------------------------------------------- rsa
def rsa(nwb_path, out_path, params):
    """Representational dissimilarity matrix of condition-mean responses (spike rates, or ophys traces with
    ``data="traces"``) from an intervals table (``trials``) with a ``condition`` column.
    Metrics: conditions, trials, mean and max dissimilarity."""
    import pandas as pd

    from ..io import read_intervals, read_spikes, read_traces, write_results
    from ..rsa import compute_rdm, condition_responses

    p = _merge("rsa", rsa.parameters(), params)
    tables = read_intervals(nwb_path)
    if p["trials"] not in tables:
        raise NWBContentError(f"{nwb_path}: no intervals table {p['trials']!r}; found {sorted(tables)}.")
    data = read_spikes(nwb_path) if p["data"] == "spikes" else read_traces(nwb_path)
    resp = condition_responses(data, tables[p["trials"]], condition=p["condition"], window=p["window"])
    rdm = compute_rdm(resp.means, method=p["method"])
    upper = rdm[np.triu_indices(len(rdm), k=1)]
    write_results(out_path, analysis="rsa", sources=[nwb_path],
                  parameters={**p, "conditions": [str(c) for c in resp.conditions]},
                  arrays={"rdm": rdm}, tables={"conditions": pd.DataFrame({"condition": [str(c) for c in
                                                                                          resp.conditions]})})
    return {"n_conditions": len(resp.conditions), "n_trials": len(tables[p["trials"]]),
            "mean_dissimilarity": float(upper.mean()), "max_dissimilarity": float(upper.max())}


rsa.parameters = lambda: {"trials": "trials", "condition": "condition", "data": "spikes", "window": None,
                          "method": "euclidean"}
