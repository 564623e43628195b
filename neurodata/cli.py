"""The neurodata command line: one subcommand per analysis, shared options, exit codes 0/1/2.

Exit codes: 0 success; 1 input or data error (one line on stderr, no traceback); 2 usage error (argparse).
Subcommands come from the component table (neurodata.registry); their modules are imported here only to
declare their arguments, their heavy imports happen when run. The grammar every parser follows is written
down in CONTRIBUTING.md and checked by tests/test_cli_grammar.py.
"""
import argparse
import importlib
import json
import logging
import sys

from .errors import NeurosuiteError
from .registry import cli_modules

# module paths whose ``configure(subparsers)`` adds subcommands, derived from neurodata.registry.COMPONENTS
SUBCOMMAND_MODULES = cli_modules()


_OVERWRITE_HELP = ("replace --out (and --figure) if it exists (default: refuse, exit 1); an input file is never "
                   "replaced")


def add_common_options(parser, out=True, seed=True, out_help="output file", out_required=True,
                       overwrite_help=_OVERWRITE_HELP):
    """The options every subcommand shares: --out with --overwrite, --seed, --quiet.

    A command whose --out is a resumable folder (batch, sweep) words --overwrite for what it does there. A
    command with --figure but no --out (call add_figure_option first) gets --overwrite for the figure.
    """
    if out:
        parser.add_argument("--out", required=out_required, default=None, help=out_help)
        parser.add_argument("--overwrite", action="store_true", help=overwrite_help)
    elif any("--figure" in action.option_strings for action in parser._actions):
        parser.add_argument("--overwrite", action="store_true", help="replace --figure if it exists")
    if seed:
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or info messages")


def add_figure_option(parser, what="the summary figure"):
    """--figure PATH: figures are opt-in, written only where the user asks."""
    parser.add_argument("--figure", default=None, metavar="PATH", help=f"also write {what} (PNG) here")


def _info(args):
    from .io import info

    for path in args.files:
        summary = info(path)
        if args.json:
            print(json.dumps(summary, indent=2, default=str))
        else:
            print(format_info(summary))
    return 0


def format_info(summary):
    """Human-readable lines for ``neurodata info``."""
    lines = [f"{summary['file']}  [{summary['format']}]"]
    if "identifier" in summary:
        lines.append(f"  identifier: {summary['identifier']}")
    if "units" in summary:
        u = summary["units"]
        lines.append(f"  units: {u['count']} units, {u['spikes']} spikes over {u['duration_s']:.1f} s "
                     f"(from {u['start_s']:.3f} s); columns: {', '.join(u['columns']) or '-'}")
    for name, t in summary.get("traces", {}).items():
        n_ch = t.get("rois", t.get("channels"))
        extra = f", conditions: {', '.join(t['conditions'])}" if t.get("conditions") else ""
        lines.append(f"  traces {name}: {t['samples']} samples × {n_ch} channels over {t['duration_s']:.3f} s"
                     f"{extra}")
    for name, b in summary.get("behavior", {}).items():
        lines.append(f"  behaviour {name}: {b['samples']} samples × {b['channels']} over {b['duration_s']:.1f} s")
    for name, iv in summary.get("intervals", {}).items():
        lines.append(f"  intervals {name}: {iv['count']} intervals, {iv['total_s']:.1f} s in total")
    if "neurosuite" in summary:
        lines.append(f"  written by neurosuite: {summary['neurosuite']['kind']} {summary['neurosuite']['analysis']}")
    if not any(key in summary for key in ("units", "traces", "behavior", "intervals")):
        lines.append("  (no units, traces, behaviour or intervals found)")
    return "\n".join(lines)


def build_parser(prog="neurodata", description=__doc__, modules=None, builtins=None):
    parser = argparse.ArgumentParser(prog=prog, description=description.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for configure in builtins or []:
        configure(sub)
    for module in modules if modules is not None else SUBCOMMAND_MODULES:
        importlib.import_module(module).configure(sub)
    return parser


def _configure_builtins(sub):
    p = sub.add_parser("info", help="what is inside NWB (or MNE FIF) files")
    p.add_argument("files", nargs="+", help="NWB or FIF files")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_info, quiet=False)


def _version():
    from . import __version__
    return __version__


def run(parser, argv):
    """Parse, run and map errors to exit codes; shared by both console scripts."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "out", None) is not None and not getattr(args, "out_is_folder", False):
            from .utils import check_output_path
            check_output_path(args.out, overwrite=args.overwrite)  # refuse before the work, not after it
        return int(args.func(args) or 0)
    except NeurosuiteError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{parser.prog} {args.command}: interrupted", file=sys.stderr)
        return 1


def parser():
    """The full ``neurodata`` parser: the built-in ``info`` and every registered component's commands."""
    return build_parser(builtins=[_configure_builtins])


def main(argv=None):
    """Entry point of the ``neurodata`` console script; returns the exit code."""
    try:
        return run(parser(), argv)
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
