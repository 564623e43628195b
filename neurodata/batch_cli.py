"""``neurodata batch ANALYSIS FILES… --out DIR``: one analysis over many NWB files, on this machine or Dask.

The analyses are those of neurodata.registry, the same functions their own commands run.
"""
from .cli import add_common_options
from .registry import analyses


def add_execution_options(parser):
    """--workers and --scheduler, shared by ``neurodata batch`` and ``neurosim sweep``."""
    parser.add_argument("--workers", type=int, default=1,
                        help="worker processes on this machine (joblib; with --scheduler local, a Dask "
                             "LocalCluster); default 1 = in this process")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address (e.g. tcp://10.0.0.5:8786, or a dask-jobqueue cluster's), "
                             "or 'local' for a LocalCluster of --workers processes")


def add_resumable_output(parser, driver, items, contents):
    """--workers/--scheduler and --out DIR for a resumable driver (batch, sweep): finished ``items`` in the
    folder are skipped on a rerun, and --overwrite only replaces files that no earlier run of ``driver`` wrote."""
    add_execution_options(parser)
    add_common_options(parser, out_help=f"output folder ({contents}); finished {items} in it are kept and skipped",
                       overwrite_help=f"replace files in the output folder that no earlier {driver} wrote "
                                      f"(default: keep them and report their {items} as failed)")
    parser.set_defaults(out_is_folder=True)


def report(summary, what, quiet, name_column="file"):
    """One line on stdout; each failure on stderr; exit code 1 if anything failed."""
    import sys

    n = len(summary.table)
    if not quiet:
        print(f"{n - summary.n_failed} of {n} {what} ok ({summary.n_skipped} already done) → {summary.csv_path}, "
              f"{summary.nwb_path}")
    if summary.n_failed:
        failed = summary.table[summary.table["status"] == "failed"]
        for name, error in zip(failed[name_column], failed["error"]):
            print(f"failed: {name}: {error}", file=sys.stderr)
        return 1
    return 0


def configure(subparsers):
    """Add ``batch``."""
    p = subparsers.add_parser(
        "batch", help="run one analysis over many NWB files: a results file each, a summary table (CSV + NWB)",
        description="A bad file is reported in the summary and never stops the others; files already analysed "
                    "in DIR (same input, same parameters) are skipped, so an interrupted batch resumes. Exit "
                    "code 1 if any file failed.")
    p.add_argument("analysis", help=f"{', '.join(analyses())} (or one registered with "
                                    "neurodata.batch.register_analysis)")
    p.add_argument("files", nargs="+", help="input NWB files")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="an analysis parameter (e.g. bin_size=0.01); repeat for more")
    add_resumable_output(p, "batch", "inputs", "a results NWB per input, summary.csv, summary.nwb")
    p.set_defaults(func=_batch)


def _batch(args):
    from .batch import run_batch
    from .execution import parse_assignments

    summary = run_batch(args.analysis, args.files, out=args.out, params=parse_assignments(args.param, "--param"),
                        seed=args.seed, n_jobs=args.workers, scheduler=args.scheduler, verbose=not args.quiet,
                        overwrite=args.overwrite)
    return report(summary, "files", args.quiet, name_column="source")
