"""The data layer's components, each listed once: its command, its batch analysis, its demo step.

Everything that used to be a hand-kept list is derived from :data:`COMPONENTS`: the subcommand modules of
the ``neurodata`` command line, :data:`neurodata.batch.ANALYSES` and the data-layer steps of
``examples/demo.py``. Adding an analysis is adding one row here (see CONTRIBUTING.md). The simulation layer
keeps its own table, :mod:`neurosim.registry`, with the same :class:`Component` rows.

Only import paths are stored, so reading the table imports nothing heavy.
"""
from dataclasses import dataclass

__all__ = ["COMPONENTS", "Component", "analyses", "cli_modules", "demo_steps"]


@dataclass(frozen=True)
class Component:
    """One component of the suite, by import paths ("package.module" or "package.module:function").

    name        the component's name (its folder, usually its command)
    kind        "analysis", "simulator", "driver" or "tool"; the demo runs simulators, then analyses, then drivers
    cli         module whose ``configure(subparsers)`` adds ``commands`` to the command line
    commands    the top-level commands that module adds
    analysis    ``f(nwb_path, out_path, params) -> metrics`` run by ``neurodata batch <name>`` and by the CLI
    card        model-card name under which ``simulation`` is sweepable (``neurosim sweep <card>``)
    simulation  ``f(params, seed, out_path) -> metrics`` run by the sweep
    demo        ``demo(out_dir, testdata=None, quick=True)``: the component's step of ``make demo``
    demo_dir    folder of that step under the demo's output (default: ``name``)
    """

    name: str
    kind: str
    cli: str = None
    commands: tuple = ()
    analysis: str = None
    card: str = None
    simulation: str = None
    demo: str = None
    demo_dir: str = None

    @property
    def demo_title(self):
        return self.demo_dir or self.name


COMPONENTS = (
    Component("bin", "analysis", cli="neurodata.spikes_cli", commands=("bin",),
              analysis="neurodata.batch.analyses:bin_spikes"),
    Component("summary", "analysis", cli="neurodata.spikes_cli", commands=("summary",),
              analysis="neurodata.batch.analyses:spike_summary"),
    Component("connectome", "analysis", cli="neurodata.connectome.cli", commands=("connectome",),
              analysis="neurodata.batch.analyses:connectome", demo="demo_steps.connectome:demo"),
    Component("rsa", "analysis", cli="neurodata.rsa.cli", commands=("rsa",),
              analysis="neurodata.batch.analyses:rsa", demo="demo_steps.rsa:demo"),
    # alignment reads arrays (.npy/.npz), not NWB recordings, so it has no per-file batch analysis
    Component("alignment", "analysis", cli="neurodata.alignment.cli", commands=("align",)),
    Component("bicluster", "analysis", cli="neurodata.bicluster.cli", commands=("bicluster",),
              analysis="neurodata.batch.analyses:bicluster", demo="demo_steps.bicluster:demo"),
    # no demo step until it reaches the numbers (#22; models/gondur_2023_mmgpvae.json)
    Component("mmgpvae", "analysis", cli="neurodata.mmgpvae.cli", commands=("mmgpvae",)),
    Component("neuroformer", "analysis", cli="neurodata.neuroformer.cli", commands=("neuroformer",),
              analysis="neurodata.neuroformer.analysis:pretrain", demo="demo_steps.neuroformer:demo"),
    Component("batch", "driver", cli="neurodata.batch_cli", commands=("batch",)),
)

_DEMO_ORDER = ("simulator", "analysis", "tool", "driver")


def cli_modules(components=COMPONENTS):
    """Subcommand modules in table order, each once (one module may add several commands)."""
    return list(dict.fromkeys(c.cli for c in components if c.cli))


def analyses(components=COMPONENTS):
    """``{batch name: "module:function"}`` of every component that has a batch analysis."""
    return {c.name: c.analysis for c in components if c.analysis}


def demo_steps(*tables):
    """``[(title, "module:function")]`` over one or more component tables: simulators, analyses, drivers."""
    rows = [c for table in tables for c in table if c.demo]
    rows.sort(key=lambda c: _DEMO_ORDER.index(c.kind))  # stable: table order within a kind
    return [(c.demo_title, c.demo) for c in rows]
