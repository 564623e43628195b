# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Both create .venv with the interpreter below and install the suite with every extra, pinned for this
# machine by constraints.txt.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.neurosuite-installed
PYTEST_ARGS ?=

.PHONY: demo test test-all bench install clean

$(STAMP): setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(PY) -m pip install --quiet -c constraints.txt -e ".[all]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	MPLBACKEND=Agg $(PY) examples/demo.py --out out

test: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest -m "not slow and not gpu" $(PYTEST_ARGS)

test-all: $(STAMP)
	MPLBACKEND=Agg $(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	MPLBACKEND=Agg $(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) out build *.egg-info
