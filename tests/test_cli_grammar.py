"""The command-line grammar of CONTRIBUTING.md, checked on every parser of ``neurodata`` and ``neurosim``.

Each rule walks all subcommands, so a new command that drifts from the grammar fails here, naming itself.
"""
import argparse
import re

import pytest

import neurodata.cli
import neurosim.cli
from neurosim.backends import DEVICES

# integer options that are not counts of things: seeds, strides, thresholds, dimensions, bounds, resources
NOT_COUNTS = {"--seed", "--thin", "--burn-in", "--theta", "--latent-dim", "--max-rank", "--workers",
              "--openmp-threads", "--torch-threads"}
# spellings retired by the grammar (each had a --n-… or resource-named replacement)
RETIRED = {"--n", "--a", "--s", "--v", "--m", "--trials", "--neurons", "--iterations", "--chains", "--repeats",
           "--epochs", "--segments", "--synapses", "--random", "--learned", "--noise", "--threads", "--cv",
           "--inner-cv", "--target-device", "--fig", "--png", "--plot"}
# options naming a closed set must offer it as argparse choices
CLOSED_SETS = {"--method", "--compare", "--likelihood", "--readout", "--config", "--target", "--data-kind",
               "--device", "--torch-device"}
# commands that can draw a figure; each takes --figure PATH and draws only when given one
FIGURE_COMMANDS = {"connectome", "rsa rdm", "rsa compare", "align encode", "align temporal", "bicluster",
                   "dendrites theory", "dendrites simulate", "motion prune"}
MARKUP = re.compile(r"``|:(func|class|mod|meth|data|attr|ref):`")
LISTED_VALUES = re.compile(r"\b[a-z_0-9]+(, [a-z_0-9]+)+,? or [a-z_0-9]+\b")  # "a, b or c" in a help text


def _walk(parser, path=()):
    """(command path, parser, help line) for the top parser and every subcommand, depth first."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))


def _commands():
    out = []
    for program, build in (("neurodata", neurodata.cli.parser), ("neurosim", neurosim.cli.parser)):
        for path, parser in _walk(build()):
            out.append((program, " ".join(path), parser))
    return out


COMMANDS = _commands()
LEAVES = [(prog, cmd, p) for prog, cmd, p in COMMANDS
          if not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)]


def _options(parser):
    return {s: a for a in parser._actions for s in a.option_strings if s.startswith("--")}


def _ids(items):
    return [f"{prog} {cmd}".strip() for prog, cmd, _ in items]


def test_walk_sees_every_command():
    names = {f"{prog} {cmd}" for prog, cmd, _ in LEAVES}
    assert {"neurodata bin", "neurodata rsa rdm", "neurodata align similarity", "neurodata batch",
            "neurosim dendrites theory", "neurosim motion train", "neurosim reservoir", "neurosim sweep"} <= names
    assert len(LEAVES) >= 19


@pytest.mark.parametrize("prog, cmd, parser", LEAVES, ids=_ids(LEAVES))
def test_option_spelling(prog, cmd, parser):
    for name, action in _options(parser).items():
        assert re.fullmatch(r"--[a-z0-9]+(-[a-z0-9]+)*", name), f"{prog} {cmd}: {name} is not --lower-case-words"
        assert name not in RETIRED, f"{prog} {cmd}: {name} is retired; see CONTRIBUTING.md (command line)"
        if action.type is int or (action.type is not None and getattr(action.type, "__name__", "") == "_positive_int"):
            assert name.startswith("--n-") or name in NOT_COUNTS, \
                f"{prog} {cmd}: the count {name} is spelled --n-<things>"


@pytest.mark.parametrize("prog, cmd, parser", LEAVES, ids=_ids(LEAVES))
def test_devices_and_threads(prog, cmd, parser):
    options = _options(parser)
    for name in options:
        if "device" in name:
            assert name in ("--device", "--torch-device"), f"{prog} {cmd}: {name}"
        if "thread" in name:
            assert name in ("--openmp-threads", "--torch-threads"), f"{prog} {cmd}: {name}"
    if "--device" in options:  # the Brian2 device, from the one tuple that knows them
        assert prog == "neurosim", f"{prog} {cmd}: the data layer has no Brian2 device"
        assert tuple(options["--device"].choices) == DEVICES, f"{prog} {cmd}: --device choices"
    if "--torch-device" in options:
        from neurodata.deep.arguments import DEVICES as TORCH_DEVICES
        assert tuple(options["--torch-device"].choices) == tuple(TORCH_DEVICES)
        assert "--torch-threads" in options, f"{prog} {cmd}: --torch-device without --torch-threads"
    if "--openmp-threads" in options:
        assert "--device" in options, f"{prog} {cmd}: --openmp-threads needs --device cpp_standalone"


@pytest.mark.parametrize("prog, cmd, parser", LEAVES, ids=_ids(LEAVES))
def test_figures_are_opt_in(prog, cmd, parser):
    options = _options(parser)
    for name in options:
        assert not re.search(r"(^--|-)(fig|png|plot)", name) or name == "--figure", f"{prog} {cmd}: {name}"
    if cmd in FIGURE_COMMANDS:
        assert "--figure" in options, f"{prog} {cmd} draws a figure but has no --figure PATH"
    if "--figure" in options:
        assert options["--figure"].default is None, f"{prog} {cmd}: --figure must default to no figure"


@pytest.mark.parametrize("prog, cmd, parser", LEAVES, ids=_ids(LEAVES))
def test_closed_sets_are_choices(prog, cmd, parser):
    for name, action in _options(parser).items():
        if name in CLOSED_SETS:
            assert action.choices, f"{prog} {cmd}: {name} names a closed set; give it choices"
        if not action.choices and action.help and LISTED_VALUES.search(action.help):
            pytest.fail(f"{prog} {cmd}: {name} lists its values in the help ({action.help!r}); use choices")


@pytest.mark.parametrize("prog, cmd, parser", COMMANDS, ids=_ids(COMMANDS))
def test_no_markup_in_help(prog, cmd, parser):
    texts = [parser.description or "", parser.epilog or "", parser.format_help()]
    for action in parser._actions:
        texts.append(action.help or "")
        for choice in getattr(action, "_choices_actions", []):  # the one-line help of each subcommand
            texts.append(choice.help or "")
    for text in texts:
        assert not MARKUP.search(text), f"{prog} {cmd}: reStructuredText in help: {text[:120]!r}"


@pytest.mark.parametrize("prog, cmd, parser", LEAVES, ids=_ids(LEAVES))
def test_out_overwrite_seed_quiet(prog, cmd, parser):
    options = _options(parser)
    if "--out" in options:
        assert "--overwrite" in options, f"{prog} {cmd}: --out without --overwrite"
        assert isinstance(options["--overwrite"], argparse._StoreTrueAction)
        assert "--quiet" in options, f"{prog} {cmd}: --out without --quiet"
    if "--seed" in options:
        assert options["--seed"].type is int and options["--seed"].default == 0


def test_rsa_choices_match_the_library():
    from neurodata.rsa import cli
    from neurodata.rsa.rdm import COMPARE_METHODS, RDM_METHODS

    assert cli.RDM_METHODS == RDM_METHODS and cli.COMPARE_METHODS == COMPARE_METHODS
