"""``neurodata rsa …``: RDMs (static or time-resolved), topological transforms, and model-vs-data time courses.

    neurodata rsa rdm DATA --out results.nwb [--method euclidean] [--gt 0.4 0.6] [--geodesic]
        [--geodesic-method p_shortest] [--p 0.05] [--n-neighbours 1] [--no-connect] [--figure rdm.png]
    neurodata rsa compare DATA --model model.npy --out results.nwb [--compare spearman] [--figure tc.png]
    neurodata rsa grid RDMS.npz --out results.nwb [--resolution 0.05] [--transform linear] [--n-samples 10]
        [--figure grid.png]

``grid`` runs the tRSA paper's (l, u) grid search and category sampler on RDMS.npz, an .npz holding ``rdms``
(one condensed or square RDM per subject and region), ``regions`` and ``subjects`` (one label each).
DATA is an MNE FIF file (``-ave.fif[.gz]`` evoked or ``-epo.fif`` epochs → one RDM per time point) or an NWB
file with spikes (or ``--data-kind traces``) and a trials table holding a condition column (→ one RDM). Both steps
run neurodata.batch.analyses.rsa / rsa_compare, the functions ``neurodata batch rsa`` runs too.
"""

__all__ = ["configure"]

# the same tuples as neurodata.rsa.rdm.RDM_METHODS / COMPARE_METHODS (a test checks), kept here because
# importing the RSA package (scipy) would make every --help slow
RDM_METHODS = ("euclidean", "sqeuclidean", "correlation")
COMPARE_METHODS = ("spearman", "kendall_tau_a", "pearson", "cosine")
GEODESIC_METHODS = ("p_shortest", "p_nearest", "k_nearest")  # neurodata.rsa.topology's, less the two-step "gt"
GT_TRANSFORMS = ("linear", "sigmoid")  # neurodata.rsa.gridsearch.TRANSFORMS


def configure(subparsers):
    from ..cli import add_common_options, add_figure_option

    p = subparsers.add_parser("rsa", help="representational similarity analysis and topological RSA")
    sub = p.add_subparsers(dest="rsa_command", metavar="STEP", required=True)

    def data_options(q):
        q.add_argument("data", help="MNE FIF (evoked/epochs) or NWB file")
        q.add_argument("--method", default="euclidean", choices=RDM_METHODS, help="RDM distance (default euclidean)")
        q.add_argument("--picks", default="meg",
                       help="FIF input: channels to keep, a channel type or comma-separated names (default meg: "
                            "magnetometers and gradiometers; see io.read_mne)")
        q.add_argument("--tmin", type=float, default=None, help="first time (s, FIF input)")
        q.add_argument("--tmax", type=float, default=None, help="last time (s, FIF input)")
        q.add_argument("--trials-table", default="trials", help="NWB intervals table with one row per trial")
        q.add_argument("--condition", default="condition", help="column of the trials table naming the condition")
        q.add_argument("--data-kind", default="spikes", choices=("spikes", "traces"),
                       help="NWB input: use the Units table (rates) or ophys traces")
        q.add_argument("--window", type=float, nargs=2, default=None, metavar=("START", "STOP"),
                       help="response window relative to trial start (s; default the whole trial)")

    q = sub.add_parser("rdm", help="RDMs of condition responses, optionally GT- and geodesic-transformed")
    data_options(q)
    q.add_argument("--gt", type=float, nargs=2, default=None, metavar=("LOWER", "UPPER"),
                   help="also store the geo-topological transform GT(lower, upper)")
    q.add_argument("--geodesic", action="store_true",
                   help="also store the geodesic RDM (default p-shortest graph, p = 0.05, rank edge lengths)")
    q.add_argument("--geodesic-method", default="p_shortest", choices=GEODESIC_METHODS,
                   help="graph of the geodesic RDM (default p_shortest: the fraction p of shortest edges)")
    q.add_argument("--p", type=float, default=0.05,
                   help="fraction of edges kept (p_shortest) or of nodes as neighbours (p_nearest); default 0.05")
    q.add_argument("--n-neighbours", type=int, default=1,
                   help="neighbours per condition for --geodesic-method k_nearest (the paper's k; default 1)")
    q.add_argument("--no-connect", action="store_true",
                   help="keep a disconnected graph as it is (unreachable pairs get the top rank and a warning) "
                        "instead of adding the shortest edges that join its parts")
    add_figure_option(q, "the RDM panels")
    add_common_options(q, seed=False, out_help="results NWB file to write")
    q.set_defaults(func=_rdm)

    q = sub.add_parser("compare", help="similarity of data RDMs with a model RDM (a time course for MEG)")
    data_options(q)
    q.add_argument("--model", required=True,
                   help=".npy: model activations (conditions × features) or, with --model-is-rdm, a square RDM; "
                        "rows in the data's condition order (a FIF file's order; first appearance in the "
                        "trials table) unless --model-order is given")
    q.add_argument("--model-is-rdm", action="store_true", help="the --model file is already an RDM")
    q.add_argument("--model-order", default=None,
                   help="comma-separated condition labels giving the order of the model's rows")
    q.add_argument("--compare", default="spearman", choices=COMPARE_METHODS,
                   help="RDM comparison (default spearman)")
    q.add_argument("--smooth", type=float, default=0.0,
                   help="average the data RDMs over a sliding window of this many seconds first (default 0)")
    add_figure_option(q, "the similarity time course")
    add_common_options(q, seed=False, out_help="results NWB file to write")
    q.set_defaults(func=_compare)

    q = sub.add_parser("grid", help="identification accuracy over the (l, u) plane of GT transforms (tRSA)")
    q.add_argument("rdms", help=".npz with arrays rdms (one RDM per subject and region), regions and subjects")
    q.add_argument("--resolution", type=float, default=0.05,
                   help="grid step of lower and upper bounds (default 0.05, as the paper)")
    q.add_argument("--transform", default="linear", choices=GT_TRANSFORMS,
                   help="piecewise-linear GT or its sigmoid variant (default linear)")
    q.add_argument("--n-samples", type=int, default=10,
                   help="(l, u) draws per category for the category comparison (default 10)")
    add_figure_option(q, "the accuracy heatmap")
    add_common_options(q, out_help="results NWB file to write")
    q.set_defaults(func=_grid)


def _data_params(args):
    return {"method": args.method, "picks": args.picks, "tmin": args.tmin, "tmax": args.tmax,
            "trials": args.trials_table, "condition": args.condition, "data": args.data_kind, "window": args.window}


def _rdm(args):
    from ..batch.analyses import rsa

    geo = {"geodesic": args.geodesic, "geodesic_method": args.geodesic_method, "geodesic_p": args.p,
           "geodesic_k": args.n_neighbours, "geodesic_connect": not args.no_connect}
    m = rsa(args.data, args.out, {**_data_params(args), "gt": args.gt, **geo},
            figure=args.figure, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{m['n_rdms']} RDM(s) over {m['n_conditions']} conditions → {args.out}")
    return 0


def _compare(args):
    from ..batch.analyses import rsa_compare

    m = rsa_compare(args.data, args.out, {**_data_params(args), "model": args.model,
                                          "model_is_rdm": args.model_is_rdm, "model_order": args.model_order,
                                          "compare": args.compare, "smooth": args.smooth},
                    figure=args.figure, overwrite=args.overwrite)
    if not args.quiet:
        when = f" at {m['peak_time_s']:.3f} s" if m["peak_time_s"] is not None else ""
        print(f"model vs data ({args.compare}): max {m['max_similarity']:.3f}{when} → {args.out}")
    return 0


def _load_identification_data(path):
    from ..batch.analyses import load_array
    from ..errors import InvalidInputError

    data = load_array(path, "RDM")
    if not isinstance(data, dict):
        raise InvalidInputError(f"{path}: expected an .npz with arrays rdms, regions and subjects; got one array.")
    missing = [k for k in ("rdms", "regions", "subjects") if k not in data]
    if missing:
        raise InvalidInputError(f"{path}: missing array(s) {missing}; found {sorted(data)}.")
    return data["rdms"], data["regions"], data["subjects"]


def _grid(args):
    import numpy as np

    from ..io import write_results
    from ..utils import check_output_path
    from .gridsearch import CATEGORIES, category_identification, grid_identification

    check_output_path(args.out, overwrite=args.overwrite, inputs=[args.rdms], suffix=".nwb")
    rdms, regions, subjects = _load_identification_data(args.rdms)
    res = grid_identification(rdms, regions, subjects, resolution=args.resolution, transform=args.transform,
                              verbose=not args.quiet)
    cats = category_identification(rdms, regions, subjects, n_samples=args.n_samples, transform=args.transform,
                                   seed=args.seed)
    names = ["rdm", *CATEGORIES]
    write_results(args.out, analysis="rsa", sources=[args.rdms], overwrite=args.overwrite,
                  parameters={"resolution": args.resolution, "transform": args.transform,
                              "n_samples": args.n_samples, "seed": args.seed, "categories": names},
                  arrays={"grid_bounds": res.bounds, "grid_accuracy": res.accuracy,
                          "category_accuracy": np.array([cats[n].mean for n in names])},
                  descriptions={"grid_bounds": "grid values of the lower and upper quantile bounds",
                                "grid_accuracy": "LOSO identification accuracy, rows lower, columns upper "
                                                 "(NaN where upper < lower and at the degenerate corners)",
                                "category_accuracy": "mean accuracy per category, in the order of the "
                                                     "'categories' parameter"})
    if args.figure:
        from .figures import plot_grid_search
        plot_grid_search(res, args.figure, overwrite=args.overwrite)
    if not args.quiet:
        lo, up, acc = res.best
        print(f"RDM {res.rdm_accuracy:.3f}, GT(0, 1) {res.ranked_rdm_accuracy:.3f}, topology-sensitive "
              f"{res.category_mean('topology_sensitive'):.3f}, best GT({lo:.2f}, {up:.2f}) {acc:.3f} → {args.out}")
    return 0
