"""``neurodata rsa …``: RDMs (static or time-resolved), topological transforms, and model-vs-data time courses.

    neurodata rsa rdm DATA --out results.nwb [--method euclidean] [--gt 0.4 0.6] [--geodesic]
    neurodata rsa compare DATA --model model.npy --out results.nwb [--compare spearman]

DATA is an MNE FIF file (``-ave.fif[.gz]`` evoked or ``-epo.fif`` epochs → one RDM per time point) or an NWB
file with spikes (or ``--data traces``) and a trials table holding a condition column (→ one RDM). Heavy
modules are imported inside the handlers.
"""
from pathlib import Path

__all__ = ["configure"]


def configure(subparsers):
    from ..cli import add_common_options

    p = subparsers.add_parser("rsa", help="representational similarity analysis and topological RSA")
    sub = p.add_subparsers(dest="rsa_command", metavar="STEP", required=True)

    def data_options(q):
        q.add_argument("data", help="MNE FIF (evoked/epochs) or NWB file")
        q.add_argument("--method", default="euclidean", help="euclidean, sqeuclidean or correlation")
        q.add_argument("--picks", default="meg", help="MNE channel selection (FIF input; default meg)")
        q.add_argument("--tmin", type=float, default=None, help="first time (s, FIF input)")
        q.add_argument("--tmax", type=float, default=None, help="last time (s, FIF input)")
        q.add_argument("--trials", default="trials", help="NWB intervals table with one row per trial")
        q.add_argument("--condition", default="condition", help="column of the trials table naming the condition")
        q.add_argument("--data-kind", dest="data_kind", default="spikes", choices=("spikes", "traces"),
                       help="NWB input: use the Units table (rates) or ophys traces")
        q.add_argument("--window", type=float, nargs=2, default=None, metavar=("START", "STOP"),
                       help="response window relative to trial start (s; default the whole trial)")

    q = sub.add_parser("rdm", help="RDMs of condition responses, optionally GT- and geodesic-transformed")
    data_options(q)
    q.add_argument("--gt", type=float, nargs=2, default=None, metavar=("LOWER", "UPPER"),
                   help="also store the geo-topological transform GT(lower, upper)")
    q.add_argument("--geodesic", action="store_true", help="also store the geodesic RDM (p-shortest, p=0.05)")
    add_common_options(q, seed=False, out_help="results NWB file (a PNG figure is written beside it)")
    q.set_defaults(func=_rdm)

    q = sub.add_parser("compare", help="similarity of data RDMs with a model RDM (a time course for MEG)")
    data_options(q)
    q.add_argument("--model", required=True,
                   help=".npy: model activations (conditions × features) or, with --model-is-rdm, a square RDM; "
                        "rows in the order of the sorted condition labels unless --model-order is given")
    q.add_argument("--model-is-rdm", action="store_true", help="the --model file is already an RDM")
    q.add_argument("--model-order", default=None,
                   help="comma-separated condition labels giving the order of the model's rows")
    q.add_argument("--compare", default="spearman", help="spearman, kendall_tau_a, pearson or cosine")
    q.add_argument("--smooth", type=float, default=0.0,
                   help="average the data RDMs over a sliding window of this many seconds first (default 0)")
    add_common_options(q, seed=False, out_help="results NWB file (a PNG figure is written beside it)")
    q.set_defaults(func=_compare)


def _load_responses(args):
    from ..errors import InvalidInputError
    from .responses import condition_responses, responses_from_mne

    path = Path(args.data)
    name = path.name.lower()
    if ".fif" in name:
        return responses_from_mne(path, picks=args.picks, tmin=args.tmin, tmax=args.tmax)
    if name.endswith(".nwb"):
        from ..io import read_intervals, read_spikes, read_traces

        tables = read_intervals(path)
        if args.trials not in tables:
            raise InvalidInputError(f"{path}: no intervals table {args.trials!r}; found {sorted(tables)}.")
        data = read_spikes(path) if args.data_kind == "spikes" else read_traces(path)
        return condition_responses(data, tables[args.trials], condition=args.condition, window=args.window)
    raise InvalidInputError(f"{path}: expected an MNE .fif(.gz) or an .nwb file.")


def _rdms(resp, method):
    from .rdm import compute_rdm, time_resolved_rdms

    if resp.means.ndim == 3:
        return time_resolved_rdms(resp.means, method=method)
    import numpy as np

    return compute_rdm(resp.means, method=method)[np.triu_indices(len(resp.conditions), k=1)][None, :]


def _tables(resp):
    import pandas as pd

    return {"conditions": pd.DataFrame({"condition": [str(c) for c in resp.conditions]})}


def _rdm(args):
    import numpy as np

    from ..io import write_results
    from .figures import plot_rdms
    from .topology import geodesic, geotopological

    resp = _load_responses(args)
    rdms = _rdms(resp, args.method)
    arrays = {"rdms": rdms}
    if resp.times is not None:
        arrays["times"] = resp.times
    if args.gt is not None:
        arrays["rgtm"] = np.stack([geotopological(r, *args.gt) for r in rdms])
    if args.geodesic:
        arrays["rgdm"] = np.stack([geodesic(r) for r in rdms])
    params = {"method": args.method, "gt": args.gt, "geodesic": args.geodesic, "picks": args.picks,
              "tmin": args.tmin, "tmax": args.tmax, "window": args.window, "conditions": [str(c) for c in resp.conditions]}
    write_results(args.out, analysis="rsa", sources=[args.data], parameters=params, arrays=arrays,
                  tables=_tables(resp))
    fig_path = Path(args.out).with_suffix(".png")
    plot_rdms(arrays, resp.conditions, resp.times, fig_path)
    if not args.quiet:
        print(f"{rdms.shape[0]} RDM(s) over {len(resp.conditions)} conditions → {args.out}, {fig_path}")
    return 0


def _model_rdm(args, conditions):
    import numpy as np

    from ..errors import DataFileError, InvalidInputError
    from .rdm import compute_rdm
    from .topology import as_condensed

    path = Path(args.model)
    if not path.exists():
        raise DataFileError(f"{path}: no such model file.")
    try:
        model = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise DataFileError(f"{path}: cannot be read as a .npy array ({exc}).") from None
    if args.model_order:
        order = [s.strip() for s in args.model_order.split(",")]
        labels = [str(c) for c in conditions]
        if sorted(order) != sorted(labels):
            raise InvalidInputError(f"--model-order names {order}, but the data's conditions are {labels}.")
        perm = [order.index(c) for c in labels]
        model = model[perm][:, perm] if args.model_is_rdm else model[perm]
    if model.shape[0] != len(conditions):
        raise InvalidInputError(f"the model has {model.shape[0]} rows but the data have {len(conditions)} "
                                f"conditions ({[str(c) for c in conditions]}).")
    if args.model_is_rdm:
        return as_condensed(model, name="model RDM")[0]
    return compute_rdm(model.reshape(model.shape[0], -1), method=args.method)[np.triu_indices(len(conditions), k=1)]


def _compare(args):
    import numpy as np

    from ..io import write_results
    from .figures import plot_timecourse
    from .rdm import compare_rdms

    resp = _load_responses(args)
    rdms = _rdms(resp, args.method)
    model = _model_rdm(args, resp.conditions)
    if args.smooth and resp.times is not None:
        from .rdm import smooth_rdms

        rdms = smooth_rdms(rdms, resp.times, args.smooth)
    similarity = np.atleast_1d(compare_rdms(rdms, model, method=args.compare))
    arrays = {"rdms": rdms, "model_rdm": model, "similarity": similarity}
    if resp.times is not None:
        arrays["times"] = resp.times
    params = {"method": args.method, "compare": args.compare, "smooth_s": args.smooth, "model": str(args.model),
              "model_is_rdm": args.model_is_rdm, "picks": args.picks, "tmin": args.tmin, "tmax": args.tmax,
              "window": args.window, "conditions": [str(c) for c in resp.conditions]}
    write_results(args.out, analysis="rsa", sources=[args.data], parameters=params, arrays=arrays,
                  tables=_tables(resp))
    fig_path = Path(args.out).with_suffix(".png")
    plot_timecourse(similarity, resp.times, args.compare, fig_path)
    if not args.quiet:
        peak = int(np.argmax(similarity))
        when = f" at {resp.times[peak]:.3f} s" if resp.times is not None else ""
        print(f"model vs data ({args.compare}): max {similarity[peak]:.3f}{when} → {args.out}, {fig_path}")
    return 0
