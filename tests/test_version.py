"""`neurodata --version` and `neurosim --version` print the installed suite's version and exit 0."""
from importlib import metadata

import pytest

import neurodata
import neurosim


@pytest.mark.parametrize("prog", ["neurodata", "neurosim"])
def test_version(prog, capsys):
    import importlib

    main = importlib.import_module(f"{prog}.cli").main
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.strip()
    assert out == f"{prog} {neurodata.__version__}"
    assert neurodata.__version__ == neurosim.__version__ == metadata.version("neurosuite")
