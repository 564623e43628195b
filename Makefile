# The two commands of the README: `make demo` (main job) and `make test` (the test suite).
# Both create .venv with the interpreter below and install the suite with every extra, pinned for this
# machine by constraints.txt.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.neurosuite-installed
PYTEST_ARGS ?=

.PHONY: demo test test-all bench install clean env-cuda env-genn test-cuda test-genn gpu-check wheels-cuda

# pip --quiet prints nothing for a minute: a heartbeat line every 15 s says the install is still going
$(STAMP): setup.cfg pyproject.toml constraints.txt
	@echo "neurosuite: installing the suite with every extra into $(VENV) (once; about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel
	@(while sleep 15; do echo "neurosuite: still installing into $(VENV)..."; done) & trap "kill $$!" EXIT; \
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

# ---------------------------------------------------------------------------------------------- GPU paths
# The Brian2 GPU devices cannot share .venv (README, "GPU paths"): each gets its own environment, built from
# PyPI with its own constraints file and the suite installed unchanged (.[sim,test,dist]; no torch). Each target
# ends with `python -m neurosim.backends check DEVICE`, which exits 1 with one line naming what is missing
# (nvcc, GeNN) and how to get it; the environment itself stays usable for the CPU tests.
# On a machine without PyPI, WHEELS=DIR installs from a folder of wheels instead (pip --no-index), and
# SITE=--system-site-packages lets the environment see the machine's own packages (a CUDA build of torch).
PYTHON_CUDA ?= $(shell for p in python3.13 python3.12 $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
PYTHON_GENN ?= python3.11
VENV_CUDA := .venv-cuda
VENV_GENN := .venv-genn
CUDA_STAMP := $(VENV_CUDA)/.neurosuite-installed
GENN_STAMP := $(VENV_GENN)/.neurosuite-installed
SITE ?=
WHEELS ?=
PIP_SOURCE = $(if $(WHEELS),--no-index --find-links $(WHEELS),)
# the Brian2 tests that need no GPU: every Brian2 model on runtime/cpp_standalone, plus the device tests
BRIAN2_TESTS ?= tests/test_backends.py tests/test_dendrites_neurons.py tests/test_sweep.py tests/test_reservoir.py

$(CUDA_STAMP): setup.cfg pyproject.toml constraints-cuda.txt
	@test -n "$(PYTHON_CUDA)" || { echo "make env-cuda: missing Python >= 3.12 (brian2cuda pins brian2 == 2.10.1, which needs it): install python3.12 (apt-get install python3.12-venv, or pyenv install 3.12) or pass PYTHON_CUDA=/path/to/python3.12" >&2; exit 1; }
	$(PYTHON_CUDA) -m venv $(SITE) $(VENV_CUDA)
	$(VENV_CUDA)/bin/python -m pip install --quiet $(PIP_SOURCE) -c constraints-cuda.txt --upgrade pip setuptools wheel
	$(VENV_CUDA)/bin/python -m pip install --quiet $(PIP_SOURCE) -c constraints-cuda.txt brian2cuda -e ".[sim,test,dist]"
	touch $(CUDA_STAMP)

env-cuda: $(CUDA_STAMP)
	@$(VENV_CUDA)/bin/python -m neurosim.backends check cuda_standalone

$(GENN_STAMP): setup.cfg pyproject.toml constraints-genn.txt
	@command -v $(PYTHON_GENN) >/dev/null || { echo "make env-genn: missing $(PYTHON_GENN) (brian2 < 2.6 has wheels up to Python 3.11): install it or pass PYTHON_GENN=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON_GENN) -m venv $(SITE) $(VENV_GENN)
	$(VENV_GENN)/bin/python -m pip install --quiet $(PIP_SOURCE) -c constraints-genn.txt --upgrade pip setuptools wheel
	$(VENV_GENN)/bin/python -m pip install --quiet $(PIP_SOURCE) -c constraints-genn.txt brian2genn -e ".[sim,test,dist]"
	touch $(GENN_STAMP)

env-genn: $(GENN_STAMP)
	@$(VENV_GENN)/bin/python -m neurosim.backends check genn

# the suite's Brian2 tests in each environment (no GPU needed; `gpu` tests skip without one)
test-cuda: $(CUDA_STAMP)
	MPLBACKEND=Agg $(VENV_CUDA)/bin/python -m pytest -p no:cacheprovider -q $(BRIAN2_TESTS) $(PYTEST_ARGS)

test-genn: $(GENN_STAMP)
	MPLBACKEND=Agg $(VENV_GENN)/bin/python -m pytest -p no:cacheprovider -q $(BRIAN2_TESTS) $(PYTEST_ARGS)

# wheels for a GPU machine without PyPI (Python 3.12, x86-64): what its image lacks for the Brian2CUDA checks
wheels-cuda:
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
	  -d .wheels-cuda brian2==2.10.1 brian2cuda==1.0b1 numpy==2.3.5

# one command for a machine with a GPU (README, "GPU paths")
gpu-check:
	bash benchmarks/gpu_check.sh
