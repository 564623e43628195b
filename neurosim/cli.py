"""The ``neurosim`` command line: one subcommand per circuit or model; exit codes 0/1/2 as in ``neurodata``."""
import sys

from neurodata.cli import build_parser, run

# module paths whose ``configure(subparsers)`` adds subcommands; each stays light to import
SUBCOMMAND_MODULES = ["neurosim.dendrites.cli", "neurosim.motion.cli", "neurosim.reservoir.cli",
                      "neurosim.sweep_cli"]


def main(argv=None):
    """Entry point of the ``neurosim`` console script; returns the exit code."""
    try:
        return run(build_parser(prog="neurosim", description=__doc__, modules=SUBCOMMAND_MODULES), argv)
    except SystemExit as exc:
        return int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
