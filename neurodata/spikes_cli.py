"""``neurodata bin`` and ``neurodata summary``: a recording's Units table → counts or per-unit statistics.

Both run the same functions as ``neurodata batch bin|summary`` (neurodata.batch.analyses).
"""
from .cli import add_common_options


def configure(subparsers):
    """Add ``bin`` and ``summary``."""
    p = subparsers.add_parser("bin", help="bin a Units table into spike counts (time × units) in a results NWB file")
    p.add_argument("file", help="NWB file with a Units table")
    p.add_argument("--bin-size", type=float, required=True, help="bin width in seconds")
    p.add_argument("--start", type=float, default=None, help="window start (s; default first spike)")
    p.add_argument("--end", type=float, default=None, help="window end (s; default last spike)")
    p.add_argument("--in-place", action="store_true",
                   help="add the counts to FILE itself (atomically) instead of writing --out")
    add_common_options(p, seed=False, out_help="results NWB file to write", out_required=False)
    p.set_defaults(func=_bin)

    p = subparsers.add_parser("summary", help="per-unit spikes, rate, ISI CV and Fano factor in a results NWB file")
    p.add_argument("file", help="NWB file with a Units table")
    p.add_argument("--fano-bin", type=float, default=1.0, help="window of the Fano factor's counts (s; default 1)")
    add_common_options(p, seed=False, out_help="results NWB file to write")
    p.set_defaults(func=_summary)


def _bin(args):
    from .batch.analyses import bin_spikes
    from .errors import InvalidInputError

    if (args.out is None) == (not args.in_place):
        raise InvalidInputError("give exactly one of --out FILE (a new results file) or --in-place.")
    m = bin_spikes(args.file, args.out, {"bin_size": args.bin_size, "start": args.start, "end": args.end},
                   in_place=args.in_place, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{m['n_bins']} bins × {m['n_units']} units → {args.out or args.file}")
    return 0


def _summary(args):
    from .batch.analyses import spike_summary

    m = spike_summary(args.file, args.out, {"fano_bin": args.fano_bin}, overwrite=args.overwrite)
    if not args.quiet:
        print(f"{m['n_units']} units, {m['n_spikes']} spikes over {m['duration_s']:.1f} s; median rate "
              f"{m['median_rate_hz']:.2f} Hz → {args.out}")
    return 0
