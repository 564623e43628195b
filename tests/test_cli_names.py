"""#25 item 4: CLI options and Python parameters share names, or README's "CLI options and Python names"
table maps them. For each command backed by an estimator, every option is a parameter of that estimator
(dashes as underscores), a file/output option of the command line only, or a row of the table; every row
names a real option of its command and a real parameter of the Python callable it names."""
import argparse
import importlib
import inspect
import re
from pathlib import Path

import pytest

import neurodata.cli
import neurosim.cli

ROOT = Path(__file__).resolve().parent.parent
# the Python side of each estimator-backed command, and the callables the table may name
TARGETS = {"neurodata bicluster": "neurodata.bicluster:BiclusterMCMC",
           "neurodata connectome": "neurodata.connectome:DynamicConnectome",
           "neurodata mmgpvae": "neurodata.mmgpvae:MMGPVAE",
           "neurodata neuroformer pretrain": "neurodata.neuroformer:Neuroformer",
           "neurosim elm train": "neurosim.elm:NeuronIOModel",
           "neurosim motion train": "neurosim.motion.model:HeterogeneousDelayClassifier"}
CALLABLES = {"BiclusterMCMC": "neurodata.bicluster:BiclusterMCMC",
             "BiclusterMCMC.fit": "neurodata.bicluster:BiclusterMCMC.fit",
             "DynamicConnectome": "neurodata.connectome:DynamicConnectome",
             "read_traces": "neurodata.io:read_traces",
             "MMGPVAE": "neurodata.mmgpvae:MMGPVAE",
             "read_modalities": "neurodata.mmgpvae.io:read_modalities",
             "Neuroformer": "neurodata.neuroformer:Neuroformer",
             "time_block_split": "neurodata.neuroformer:time_block_split",
             "NeuronIOModel": "neurosim.elm:NeuronIOModel",
             "HeterogeneousDelayClassifier": "neurosim.motion.model:HeterogeneousDelayClassifier",
             "make_dataset": "neurosim.motion:make_dataset"}
# options that only the command line has: what to read and where to write (Python takes paths and objects)
CLI_ONLY = {"file", "files", "out", "overwrite", "figure", "model_out", "events", "data", "resume_from"}
ROW = re.compile(r"^\| (?:`(?P<cmd>[^`]+)`|(?P<every>every (?:torch )?command)) \| `(?P<opt>--[\w-]+)` \| "
                 r"`(?:(?P<py>[\w.]+)\()?(?P<param>\w+)=\)?`")


def _load(path):
    module, _, attr = path.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _parameters(obj):
    return set(inspect.signature(obj).parameters) - {"self"}


def _table():
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## CLI options and Python names\n(.*?)(?=^## )", text, flags=re.S | re.M).group(1)
    rows = [ROW.match(line) for line in section.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| command")]
    assert rows and all(rows), "a row of the table does not read `command` | `--option` | `name(param=)`"
    return rows


def _parser(command):
    prog, *words = command.split()
    parser = {"neurodata": neurodata.cli.parser, "neurosim": neurosim.cli.parser}[prog]()
    for word in words:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[word]
    return parser


def _options(parser):
    return {s: a.dest for a in parser._actions for s in a.option_strings if s.startswith("--") and s != "--help"}


def test_every_row_names_a_real_option_and_parameter():
    for row in _table():
        if row["cmd"]:  # one command: its option, and the parameter of the callable the row names
            assert row["opt"] in _options(_parser(row["cmd"])), f"no {row['opt']} on {row['cmd']}"
            python = _load(CALLABLES.get(row["py"]) or pytest.fail(f"unknown Python name {row['py']!r}"))
            assert row["param"] in _parameters(python), f"{row['py']} has no parameter {row['param']!r}"
        else:  # every command that has the option: its estimator has the parameter
            having = [c for c in TARGETS if row["opt"] in _options(_parser(c))]
            assert having, f"no command has {row['opt']}"
            for command in having:
                assert row["param"] in _parameters(_load(TARGETS[command])), f"{command}: no {row['param']!r}"


@pytest.mark.parametrize("command", sorted(TARGETS))
def test_every_option_has_its_python_name(command):
    estimator = _load(TARGETS[command])
    params = set(estimator().get_params())
    mapped = {row["opt"] for row in _table() if row["cmd"] in (command, None)}
    unmapped = sorted(opt for opt, dest in _options(_parser(command)).items()
                      if dest not in params and dest not in CLI_ONLY and opt not in mapped)
    assert not unmapped, (f"{command}: {unmapped} match no parameter of {estimator.__name__}; rename them or add "
                          "rows to README's 'CLI options and Python names'")
