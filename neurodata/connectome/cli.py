"""``neurodata connectome``: dynamic functional connectome of one or many calcium recordings (NWB)."""


def _rank(value):
    if value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        import argparse
        raise argparse.ArgumentTypeError(f"--rank must be 'auto' or a positive int; got {value!r}.") from None


def configure(subparsers):
    from ..cli import add_common_options

    p = subparsers.add_parser(
        "connectome", help="dynamic functional connectome (Dyballa et al. 2024): affinities → NTF → SBM",
        description="Time-resolved derivative affinities between ROIs, non-negative tensor factorisation across "
                    "animals, and weighted-SBM communities of each component. One NWB file per animal; ROIs "
                    "are matched across files by their ids.")
    p.add_argument("files", nargs="+", help="NWB files with an ophys RoiResponseSeries (one per animal)")
    p.add_argument("--rank", type=_rank, default="auto", help="number of components or 'auto' (default)")
    p.add_argument("--max-rank", type=int, default=None, help="largest rank tried by --rank auto (default 8)")
    p.add_argument("--series", default=None, help="RoiResponseSeries to read (name or path suffix)")
    p.add_argument("--smooth", type=float, default=None, help="smoothing SD before the derivative (s)")
    p.add_argument("--window", type=float, default=None, help="SD of the affinity window (s)")
    p.add_argument("--resolution", type=float, default=None, help="spacing of affinity samples (s)")
    p.add_argument("--figure", default=None, help="also save the summary figure (PNG) here")
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_run)


def _run(args):
    from pathlib import Path

    from ..io import read_traces
    from .pipeline import DynamicConnectome

    params = {k: v for k, v in (("smooth", args.smooth), ("window", args.window),
                                ("resolution", args.resolution)) if v is not None}
    if args.max_rank is not None:
        params["rank_range"] = (1, args.max_rank)
    traces = [read_traces(path, name=args.series) for path in args.files]
    names = [Path(p).stem for p in args.files]
    if len(set(names)) != len(names):
        names = [f"animal{a}" for a in range(len(names))]
    model = DynamicConnectome(rank=args.rank, seed=args.seed, verbose=not args.quiet, **params)
    result = model.fit(traces, animal_names=names).result_
    result.to_nwb(args.out, sources=args.files)
    if args.figure:
        result.plot(args.figure)
    if not args.quiet:
        print(f"{result.rank} components (blocks per component: {', '.join(map(str, result.n_blocks))}), "
              f"relative error {result.reconstruction_error:.3f} → {args.out}")
    return 0
