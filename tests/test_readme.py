"""#25 item 4: the README's Python snippets run as printed, and its "What to use for what" table names only
things that exist (importable Python names, real commands, example scripts)."""
import argparse
import importlib
import os
import re
from pathlib import Path

import pytest

import neurodata.cli
import neurosim.cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def _section(title):
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_readme_has_the_snippets():
    assert len(SNIPPETS) >= 2
    assert "```python" in _section("Quick start")


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index, tmp_path, testdata, monkeypatch):
    """Each snippet runs in a fresh folder beside a ``shared/testdata`` link, as it would beside the project
    (the paths it prints are ``../shared/testdata/...``), and writes what it says it writes."""
    (tmp_path / "shared").mkdir()
    os.symlink(testdata, tmp_path / "shared" / "testdata")
    work = tmp_path / "main"
    work.mkdir()
    monkeypatch.chdir(work)
    code = SNIPPETS[index]
    exec(compile(code, f"README.md snippet {index}", "exec"), {"__name__": "__readme__"})
    written = re.findall(r'(?:write_\w+|savefig)\("([\w.]+)"', code)
    assert written, f"snippet {index} writes nothing"
    for name in written:
        assert (work / name).stat().st_size > 0, f"snippet {index} did not write {name}"


def _commands():
    found = set()

    def walk(parser, path):
        found.add(" ".join(path))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, path + (name,))

    walk(neurodata.cli.parser(), ("neurodata",))
    walk(neurosim.cli.parser(), ("neurosim",))
    return found


def _resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_task_table_names_what_exists():
    rows = [line for line in _section("What to use for what").splitlines()
            if line.startswith("| ") and not line.startswith("| task") and not line.startswith("|---")]
    assert len(rows) >= 15
    commands = _commands()
    seen_examples = set()
    for row in rows:
        task, python, command, example = [cell.strip() for cell in row.strip("|").split("|")]
        for name in re.findall(r"`([A-Za-z_][\w.]*)`", python):
            assert callable(_resolve(name)), f"{task}: {name} is not a callable"
        for cmd in re.findall(r"`([^`]+)`", command):
            words = [w for w in cmd.split() if not w.startswith("-")]
            assert " ".join(words) in commands, f"{task}: no command {cmd!r}"
        for path in re.findall(r"`(examples/[\w/]+\.py)`", example):
            assert (ROOT / path).is_file(), f"{task}: no {path}"
            seen_examples.add(path)
    examples = {f"examples/{p.name}" for p in (ROOT / "examples").glob("*.py") if p.name != "demo.py"}
    assert examples <= seen_examples, f"examples the table does not point to: {sorted(examples - seen_examples)}"
