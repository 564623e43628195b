"""The simulation layer's components, each listed once: its command, its sweepable simulation, its demo step.

The subcommand modules of the ``neurosim`` command line, :data:`neurosim.sweep.SIMULATIONS` and the
simulation steps of ``examples/demo.py`` are derived from :data:`COMPONENTS`; adding a simulator is adding
one row here (see CONTRIBUTING.md). Rows are :class:`neurodata.registry.Component`, import paths only.
"""
from neurodata.registry import Component
from neurodata.registry import cli_modules as _cli_modules

__all__ = ["COMPONENTS", "cli_modules", "simulations"]

COMPONENTS = (
    # the built-in E/I network (neurosim.circuits): no command of its own, sweepable by its card
    Component("circuits", "simulator", card="lif_network", simulation="neurosim.sweep.simulations:lif_network"),
    Component("dendrites", "simulator", cli="neurosim.dendrites.cli", commands=("dendrites",),
              card="ahmad_hawkins_2016", simulation="neurosim.sweep.simulations:ahmad_hawkins_2016",
              demo="demo_steps.dendrites:demo"),
    Component("motion", "simulator", cli="neurosim.motion.cli", commands=("motion",),
              demo="demo_steps.motion:demo"),
    Component("reservoir", "simulator", cli="neurosim.reservoir.cli", commands=("reservoir",),
              card="yamada_chao_2025_reservoir", simulation="neurosim.sweep.simulations:yamada_chao_2025_reservoir",
              demo="demo_steps.reservoir:demo"),
    Component("sweep", "driver", cli="neurosim.sweep_cli", commands=("sweep",), demo="demo_steps.sweep:demo",
              demo_dir="scale_out"),
    Component("elm", "simulator", cli="neurosim.elm.cli", commands=("elm",), demo="demo_steps.elm:demo"),
)


def cli_modules(components=COMPONENTS):
    """Subcommand modules of the ``neurosim`` command line, in table order."""
    return _cli_modules(components)


def simulations(components=COMPONENTS):
    """``{card name: "module:function"}`` of every component that can be swept."""
    return {c.card: c.simulation for c in components if c.simulation}
