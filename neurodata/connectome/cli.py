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
    from ..cli import add_common_options, add_figure_option

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
    add_figure_option(p)
    add_common_options(p, out_help="results NWB file to write")
    p.set_defaults(func=_run)


def _run(args):
    from ..batch.analyses import connectome

    params = {k: v for k, v in (("smooth", args.smooth), ("window", args.window),
                                ("resolution", args.resolution)) if v is not None}
    if args.max_rank is not None:
        params["rank_range"] = (1, args.max_rank)
    m = connectome(args.files, args.out, {**params, "rank": args.rank, "series": args.series, "seed": args.seed},
                   figure=args.figure, overwrite=args.overwrite, verbose=not args.quiet)
    if not args.quiet:
        print(f"{m['rank']} components ({m['n_blocks']} SBM blocks in all), relative error "
              f"{m['reconstruction_error']:.3f} → {args.out}")
    return 0
