"""``neurosim sweep CARD --grid 'param=v1,v2,…' … --out DIR``: one simulation per grid point, on this machine
or a Dask cluster. The sweepable cards come from neurosim.registry.
"""
from neurodata.batch_cli import add_resumable_output, report

from .registry import simulations


def configure(subparsers):
    """Add ``sweep``."""
    p = subparsers.add_parser(
        "sweep", help="parameter sweep: one NWB file per grid point plus a summary table (CSV + NWB)",
        description="Run a registered simulation at every point of a Cartesian grid. Each run gets its own seed "
                    "derived from --seed and its parameters, so results do not depend on --workers. Runs already "
                    "finished in DIR are skipped, so an interrupted sweep resumes.")
    p.add_argument("card", help="simulation (model card name): "
                                f"{', '.join(simulations())}, or one registered with register_simulation")
    p.add_argument("--grid", action="append", default=[], metavar="PARAM=V1,V2,…",
                   help="one grid axis; repeat for more axes")
    p.add_argument("--set", dest="fixed", action="append", default=[], metavar="PARAM=VALUE",
                   help="a parameter held fixed (e.g. device=cpp_standalone); repeat for more")
    p.add_argument("--n-repeats", type=int, default=1,
                   help="runs per grid point with different seeds (default 1)")
    add_resumable_output(p, "sweep", "runs", "NWB per run, summary.csv, summary.nwb")
    p.set_defaults(func=_sweep)


def _sweep(args):
    from neurodata.execution import parse_assignments
    from neurosim.sweep import parse_grid, run_sweep

    summary = run_sweep(args.card, parse_grid(args.grid), fixed=parse_assignments(args.fixed, "--set"), out=args.out,
                        seed=args.seed, repeats=args.n_repeats, n_jobs=args.workers, scheduler=args.scheduler,
                        verbose=not args.quiet, overwrite=args.overwrite)
    return report(summary, "runs", args.quiet)
