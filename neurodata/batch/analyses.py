"""One path per analysis: ``f(nwb_path, out_path, params) -> metrics`` reads the recording(s), runs the method
and writes ONE results NWB file (through the spine, atomically) naming its sources.

The same function serves ``neurodata <analysis>`` (the CLI turns its options into ``params``), ``neurodata
batch <analysis>`` and the demo, so a results file has the same structure whichever way it was made.
Keyword-only extras are what a batch never sets: ``figure`` (PNG path, opt-in), ``overwrite`` and per-run
options such as a checkpoint.

``params`` holds what the user set; the rest keeps each method's own defaults (its estimator's signature).
``parameters()`` on each function lists what may be set. The analysis packages load only inside the calls.
"""
from pathlib import Path

import numpy as np

from ..errors import InvalidInputError, NWBContentError

__all__ = ["bicluster", "bin_spikes", "connectome", "load_array", "rsa", "rsa_compare", "spike_summary"]


def _merge(name, defaults, params):
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidInputError(f"{name} has no parameter {unknown}. Allowed values are {sorted(defaults)}.")
    return {**defaults, **params}


def _estimator_defaults(cls, exclude=("verbose",)):
    # every suite estimator takes only defaulted keywords, so a bare instance holds its defaults
    return {n: v for n, v in cls().get_params().items() if n not in exclude}


def _check_out(out_path, overwrite, sources):
    """Refuse a taken or wrong output path before any work (the writer checks again when it writes)."""
    from ..utils import check_output_path

    check_output_path(out_path, overwrite=overwrite, inputs=_paths(sources), suffix=".nwb")


def _paths(nwb_path):
    """One path or a list of paths → list of str (multi-animal analyses take several files)."""
    return [str(p) for p in nwb_path] if isinstance(nwb_path, (list, tuple)) else [str(nwb_path)]


# ------------------------------------------------------------------------------------------------- binning
def bin_spikes(nwb_path, out_path, params, *, in_place=False, overwrite=False):
    """Spike counts (time bins × units) of the Units table.

    Parameters: ``bin_size`` (s, required), ``start``, ``end`` (s; default first / last spike). With
    ``in_place=True`` the counts are added to ``nwb_path`` itself (atomically) and ``out_path`` is unused.
    Metrics: units, bins, spikes, mean count per bin.
    """
    from ..io import add_results_in_place, read_spikes, write_results

    p = _merge("bin", bin_spikes.parameters(), params)
    if not in_place:
        _check_out(out_path, overwrite, nwb_path)
    if p["bin_size"] is None:
        raise InvalidInputError("the 'bin' analysis needs bin_size (s), e.g. params={'bin_size': 0.01}.")
    counts = read_spikes(nwb_path).count(p["bin_size"], p["start"], p["end"])
    parameters = {"bin_size": p["bin_size"], "start": counts.start, "end": counts.end}
    if in_place:
        add_results_in_place(nwb_path, analysis="binning", parameters=parameters, traces={"counts": counts})
    else:
        write_results(out_path, analysis="binning", sources=[nwb_path], parameters=parameters,
                      traces={"counts": counts}, overwrite=overwrite)
    return {"n_units": counts.n_channels, "n_bins": counts.n_times, "n_spikes": int(counts.data.sum()),
            "mean_count": float(counts.data.mean())}


bin_spikes.parameters = lambda: {"bin_size": None, "start": None, "end": None}


# -------------------------------------------------------------------------------------------- unit summary
def spike_summary(nwb_path, out_path, params, *, overwrite=False):
    """Per-unit firing statistics: spikes, rate (Hz), CV of inter-spike intervals, Fano factor of counts in
    ``fano_bin`` windows (default 1 s). Metrics: units, spikes, duration, median rate, mean CV, mean Fano."""
    import pandas as pd

    from ..io import read_spikes, write_results

    p = _merge("summary", spike_summary.parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
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
                  tables={"units": table}, overwrite=overwrite)
    return {"n_units": spikes.n_units, "n_spikes": spikes.n_spikes, "duration_s": float(duration),
            "median_rate_hz": float(table["rate_hz"].median()), "mean_cv_isi": float(table["cv_isi"].mean()),
            "mean_fano": float(table["fano"].mean())}


spike_summary.parameters = lambda: {"fano_bin": 1.0}


# -------------------------------------------------------------------------------------------- connectome
def _connectome_parameters():
    from ..connectome import DynamicConnectome
    return {**_estimator_defaults(DynamicConnectome), "series": None}


def connectome(nwb_path, out_path, params, *, figure=None, overwrite=False, verbose=False):
    """Dynamic functional connectome (Dyballa et al. 2024) of calcium recordings (their RoiResponseSeries):
    DynamicConnectome over one file (a batch) or several, one animal each (ROIs matched by id). Metrics:
    rank, total SBM blocks, relative reconstruction error."""
    from ..connectome import DynamicConnectome
    from ..io import read_traces

    p = _merge("connectome", _connectome_parameters(), params)
    files = _paths(nwb_path)
    _check_out(out_path, overwrite, files)
    series = p.pop("series")
    traces = [read_traces(path, name=series) for path in files]
    names = [Path(f).stem for f in files]
    if len(set(names)) != len(names):
        names = [f"animal{a}" for a in range(len(names))]
    result = DynamicConnectome(**p, verbose=verbose).fit(traces, animal_names=names).result_
    result.to_nwb(out_path, sources=files, overwrite=overwrite)
    if figure:
        result.plot(figure, overwrite=overwrite)
    return {"rank": result.rank, "n_blocks": int(np.sum(result.n_blocks)),
            "reconstruction_error": float(result.reconstruction_error)}


connectome.parameters = _connectome_parameters


# --------------------------------------------------------------------------------------------- bicluster
def _bicluster_parameters():
    from ..bicluster import BiclusterMCMC
    return {**_estimator_defaults(BiclusterMCMC, exclude=("verbose", "checkpoint", "resume", "checkpoint_every")),
            "bin_size": None, "start": None, "end": None}


def bicluster(nwb_path, out_path, params, *, figure=None, overwrite=False, verbose=False, checkpoint=None,
              resume=False):
    """Bayesian bi-clustering (Wei 2023) of the Units table binned at ``bin_size`` (s, required):
    BiclusterMCMC, every table of its fit written (labels, states, co-clustering, traces, neurons).
    Metrics: posterior mode of the number of neuron clusters, distinct states in the point estimate, units,
    bins."""
    from ..bicluster import BiclusterMCMC
    from ..bicluster.io import write_bicluster_results

    from ..io import read_spikes

    p = _merge("bicluster", _bicluster_parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
    bin_size, start, end = p.pop("bin_size"), p.pop("start"), p.pop("end")
    if bin_size is None:
        raise InvalidInputError("the 'bicluster' analysis needs bin_size (s), e.g. params={'bin_size': 0.05}.")
    counts = read_spikes(nwb_path).count(bin_size, start, end)
    model = BiclusterMCMC(**p, checkpoint=checkpoint, resume=resume, verbose=verbose).fit(counts)
    write_bicluster_results(out_path, model, counts, sources=[nwb_path],
                            extra={"bin_size": bin_size, "start": counts.start, "end": counts.end},
                            overwrite=overwrite)
    if figure:
        from ..bicluster.plotting import plot_bicluster
        plot_bicluster(model, figure, times=counts.times, overwrite=overwrite)
    return {"n_clusters": model.n_clusters_mode_, "n_states": int(np.unique(model.states_).size),
            "n_units": counts.n_channels, "n_bins": counts.n_times}


bicluster.parameters = _bicluster_parameters


# --------------------------------------------------------------------------------------------------- rsa
def _rsa_parameters():
    return {"trials": "trials", "condition": "condition", "data": "spikes", "window": None, "method": "euclidean",
            "picks": "meg", "tmin": None, "tmax": None, "gt": None, "geodesic": False,
            "geodesic_method": "p_shortest", "geodesic_p": 0.05, "geodesic_k": 1, "geodesic_connect": True}


def condition_data(path, p):
    """Condition responses of an MNE FIF file (evoked/epochs: one set per time point) or of an NWB file's
    spikes (``data="spikes"``) or ophys traces (``data="traces"``) per row of its trials table."""
    from ..rsa.responses import condition_responses, responses_from_mne

    name = Path(path).name.lower()
    if ".fif" in name:
        return responses_from_mne(path, picks=p["picks"], tmin=p["tmin"], tmax=p["tmax"]), None
    if not name.endswith(".nwb"):
        raise InvalidInputError(f"{path}: expected an MNE .fif(.gz) or an .nwb file.")
    from ..io import read_intervals, read_spikes, read_traces
    from ..utils import check_option

    check_option(p["data"], "data", ("spikes", "traces"))
    tables = read_intervals(path)
    if p["trials"] not in tables:
        raise NWBContentError(f"{path}: no intervals table {p['trials']!r}; found {sorted(tables)}.")
    data = read_spikes(path) if p["data"] == "spikes" else read_traces(path)
    window = None if p["window"] is None else tuple(p["window"])
    return condition_responses(data, tables[p["trials"]], condition=p["condition"], window=window), \
        len(tables[p["trials"]])


def _condensed_rdms(resp, method):
    """(times × condition pairs) for time-resolved responses, (1 × pairs) for static ones."""
    from ..rsa.rdm import compute_rdm, time_resolved_rdms

    # the ConditionResponses itself, not its means: it declares its orientation (conditions × channels), so
    # 5 conditions on 4 units are not taken for a transposed array
    if resp.means.ndim == 3:
        return time_resolved_rdms(resp, method=method)
    return compute_rdm(resp, method=method)[np.triu_indices(len(resp.conditions), k=1)][None, :]


_RSA_DESCRIPTIONS = {
    "rdms": "condensed RDM (upper triangle, row by row, of the conditions in the order of the conditions table)",
    "rgtm": "geo-topological transform GT(lower, upper) of each condensed RDM",
    "rgdm": "geodesic RDM (shortest paths over the graph named by geodesic_method, geodesic_p / geodesic_k; rank "
            "edge lengths) of each condensed RDM",
    "similarity": "similarity of the data RDM with the model RDM",
    "model_rdm": "condensed model RDM (same condition pairs as rdms)",
    "conditions": "condition labels, in the order of the RDM rows and columns"}


def _rsa_outputs(arrays, times):
    """MEG results have one row per time point: those go to the file as TimeSeries on the MEG time axis (so
    pynapple loads them); static results (one RDM of NWB trials, the model RDM) stay arrays."""
    from ..io import Traces

    if times is None:
        return arrays, {}
    timed = ("rdms", "rgtm", "rgdm", "similarity")
    traces = {k: Traces(v, times=times, name=k, unit="a.u.") for k, v in arrays.items() if k in timed}
    return {k: v for k, v in arrays.items() if k not in timed}, traces


def _conditions_table(resp):
    import pandas as pd

    return {"conditions": pd.DataFrame({"condition": [str(c) for c in resp.conditions]})}


def rsa(nwb_path, out_path, params, *, figure=None, overwrite=False):
    """Representational dissimilarity matrices of condition-mean responses, stored condensed as ``rdms``
    (one row per time point, a TimeSeries on the MEG times; one row for NWB trials) and, when asked, the
    geo-topological (``gt=(lower, upper)``) and geodesic (``geodesic=True``) transforms ``rgtm``/``rgdm``.
    Metrics: conditions, trials (NWB), mean and max dissimilarity."""
    from ..io import write_results
    from ..rsa.topology import geodesic, geotopological

    p = _merge("rsa", _rsa_parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
    resp, n_trials = condition_data(nwb_path, p)
    rdms = _condensed_rdms(resp, p["method"])
    arrays = {"rdms": rdms}
    if p["gt"] is not None:
        arrays["rgtm"] = np.stack([geotopological(r, *p["gt"]) for r in rdms])
    if p["geodesic"]:
        arrays["rgdm"] = np.stack([geodesic(r, p["geodesic_method"], p=p["geodesic_p"], k=p["geodesic_k"],
                                            connect=p["geodesic_connect"]) for r in rdms])
    static, traces = _rsa_outputs(arrays, resp.times)
    write_results(out_path, analysis="rsa", sources=[nwb_path],
                  parameters={**p, "conditions": [str(c) for c in resp.conditions]}, arrays=static, traces=traces,
                  tables=_conditions_table(resp), overwrite=overwrite,
                  descriptions={k: _RSA_DESCRIPTIONS[k] for k in [*arrays, "conditions"]})
    if figure:
        from ..rsa.figures import plot_rdms
        plot_rdms(arrays, resp.conditions, resp.times, figure, overwrite=overwrite)
    return {"n_conditions": len(resp.conditions), "n_trials": n_trials, "n_rdms": int(rdms.shape[0]),
            "mean_dissimilarity": float(rdms.mean()), "max_dissimilarity": float(rdms.max())}


rsa.parameters = _rsa_parameters


def _rsa_compare_parameters():
    return {**_rsa_parameters(), "model": None, "model_is_rdm": False, "model_order": None,
            "compare": "spearman", "smooth": 0.0}


def load_array(path, what):
    """A .npy array, or {name: array} of a .npz file; a missing or unreadable file is a DataFileError."""
    from ..errors import DataFileError

    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such {what} file.")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be read as .npy/.npz ({exc}).") from None
    if hasattr(data, "files"):
        return {k: data[k] for k in data.files}
    return data


def _model_rdm(p, conditions):
    from ..rsa.rdm import compute_rdm
    from ..rsa.topology import as_condensed

    if p["model"] is None:
        raise InvalidInputError("rsa_compare needs model= (a .npy of activations or, with model_is_rdm, an RDM).")
    model = load_array(p["model"], "model")
    if isinstance(model, dict):
        raise InvalidInputError(f"{p['model']}: the model is one array (.npy), not an .npz of several.")
    if p["model_order"]:
        order = [s.strip() for s in p["model_order"].split(",")] if isinstance(p["model_order"], str) \
            else [str(s) for s in p["model_order"]]
        labels = [str(c) for c in conditions]
        if sorted(order) != sorted(labels):
            raise InvalidInputError(f"the model order names {order}, but the data's conditions are {labels}.")
        perm = [order.index(c) for c in labels]
        model = model[perm][:, perm] if p["model_is_rdm"] else model[perm]
    if model.shape[0] != len(conditions):
        raise InvalidInputError(f"the model has {model.shape[0]} rows but the data have {len(conditions)} "
                                f"conditions ({[str(c) for c in conditions]}).")
    if p["model_is_rdm"]:
        return as_condensed(model, name="model RDM")[0]
    return compute_rdm(model.reshape(model.shape[0], -1), method=p["method"])[np.triu_indices(len(conditions), k=1)]


def rsa_compare(nwb_path, out_path, params, *, figure=None, overwrite=False):
    """Similarity (``compare``: spearman, kendall_tau_a, pearson, cosine) of the data RDMs with a model RDM
    from ``model`` (.npy activations, rows in the data's condition order — the file's order, as in the
    conditions table — unless ``model_order``; or an RDM with
    ``model_is_rdm``): a time course for MEG. Metrics: peak similarity and its time."""
    from ..io import write_results
    from ..rsa.rdm import compare_rdms, smooth_rdms

    p = _merge("rsa_compare", _rsa_compare_parameters(), params)
    _check_out(out_path, overwrite, nwb_path)
    resp, _ = condition_data(nwb_path, p)
    rdms = _condensed_rdms(resp, p["method"])
    model = _model_rdm(p, resp.conditions)
    if p["smooth"] and resp.times is not None:
        rdms = smooth_rdms(rdms, resp.times, p["smooth"])
    similarity = np.atleast_1d(compare_rdms(rdms, model, method=p["compare"]))
    arrays = {"rdms": rdms, "model_rdm": model, "similarity": similarity}
    static, traces = _rsa_outputs(arrays, resp.times)
    write_results(out_path, analysis="rsa", sources=[nwb_path],
                  parameters={**p, "model": str(p["model"]), "conditions": [str(c) for c in resp.conditions]},
                  arrays=static, traces=traces, tables=_conditions_table(resp), overwrite=overwrite,
                  descriptions={k: _RSA_DESCRIPTIONS[k] for k in [*arrays, "conditions"]})
    if figure:
        from ..rsa.figures import plot_timecourse
        plot_timecourse(similarity, resp.times, p["compare"], figure, overwrite=overwrite)
    peak = int(np.argmax(similarity))
    return {"n_conditions": len(resp.conditions), "max_similarity": float(similarity[peak]),
            "peak_time_s": float(resp.times[peak]) if resp.times is not None else None}


rsa_compare.parameters = _rsa_compare_parameters
