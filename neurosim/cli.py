"""The neurosim command line: one subcommand per circuit or model; exit codes 0/1/2 as in neurodata."""
import sys

from neurodata.cli import build_parser, run

from .registry import cli_modules

# module paths whose ``configure(subparsers)`` adds subcommands, derived from neurosim.registry.COMPONENTS
SUBCOMMAND_MODULES = cli_modules()


def parser():
    """The full ``neurosim`` parser: every registered component's commands."""
    return build_parser(prog="neurosim", description=__doc__, modules=SUBCOMMAND_MODULES)


def main(argv=None):
    """Entry point of the ``neurosim`` console script; returns the exit code."""
    try:
        return run(parser(), argv)
    except SystemExit as exc:
        return int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
