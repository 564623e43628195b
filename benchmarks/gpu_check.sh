#!/usr/bin/env bash
# One command for a machine with a CUDA GPU (README, "GPU paths"), about 5 minutes:
#   1. Brian2CUDA: brian2 2.10.1 + brian2cuda beside the machine's own python3 when it holds a CUDA build of
#      torch (from PyPI, or offline from .wheels-cuda, made beforehand by `make wheels-cuda` where PyPI is
#      reachable), else .venv-cuda (make env-cuda);
#   2. the `gpu` tests of tests/test_backends.py (cuda_standalone spike counts against cpp_standalone);
#   3. benchmarks/gpu_compare.py: LIF network, reservoir and motion twin on cuda_standalone against
#      cpp_standalone, and torch on CUDA against CPU; one JSON line per check.
# Exit status: 0 when every check matched. Results also go to $RESULTS (default benchmarks/results/gpu_check).
set -uo pipefail
cd "$(dirname "$0")/.."
RESULTS=${RESULTS:-${OUT:-benchmarks/results}/gpu_check}
mkdir -p "$RESULTS"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
export NEUROSUITE_BUILD_DIR=${NEUROSUITE_BUILD_DIR:-/tmp/neurosuite-builds}

nvidia-smi -L || { echo "gpu_check: missing a CUDA GPU (nvidia-smi -L lists none)" >&2; exit 1; }
command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || {
    echo "gpu_check: missing CUDA's nvcc: install the CUDA toolkit or set CUDA_PATH" >&2; exit 1; }

# The gpu tests skip without torch.cuda (tests/conftest.py), so prefer a python3 >= 3.12 that holds a CUDA build
# of torch (a GPU image's own) and add brian2 2.10.1 + brian2cuda beside it; else build .venv-cuda (no torch:
# the Brian2 checks still run, the torch ones report an error).
PY=${PYTHON_CUDA:-python3}
if "$PY" -c 'import sys, torch; sys.exit(sys.version_info < (3, 12) or not torch.cuda.is_available())' 2>/dev/null; then
    SITE=/tmp/neurosuite-cuda-site
    if [ -d .wheels-cuda ]; then   # offline: the wheels made by `make wheels-cuda`
        "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" .wheels-cuda/*.whl || exit 1
    else
        "$PY" -m pip install -q --no-deps --no-compile --upgrade --target "$SITE" -c constraints-cuda.txt \
            brian2==2.10.1 brian2cuda==1.0b1 "numpy>=2,<2.4" || exit 1
    fi
    export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    make env-cuda || true   # its last step is the check below; the cuRAND fallback may still fix it
    PY=.venv-cuda/bin/python
fi
if ! "$PY" -m neurosim.backends check cuda_standalone 2>/dev/null; then
    # A toolkit without cuRAND (seen: CUDA 13's nvcc alone): borrow the headers and library of the nvidia-curand
    # wheel that a CUDA build of torch brings, in a merged toolkit folder named by CUDA_PATH.
    CURAND=$(for p in "$PY" python3; do "$p" -c 'import nvidia, os, glob; print(next(iter(sorted(h for d in nvidia.__path__ for h in glob.glob(os.path.join(d, "cu*", "include", "curand.h")))), ""))' 2>/dev/null; done | head -1)
    TOOLKIT=$(dirname "$(dirname "$(realpath "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")")
    if [ -n "$CURAND" ]; then
        M=/tmp/neurosuite-cuda-toolkit; rm -rf "$M"; mkdir -p "$M/include" "$M/lib64"
        for e in "$TOOLKIT"/*; do case $(basename "$e") in include|lib64) ;; *) ln -s "$(realpath "$e")" "$M/";; esac; done
        for e in "$TOOLKIT"/include/* "$(dirname "$CURAND")"/*; do ln -sf "$(realpath "$e")" "$M/include/"; done
        for e in "$TOOLKIT"/lib64/* "$(dirname "$(dirname "$CURAND")")"/lib/*; do ln -sf "$(realpath "$e")" "$M/lib64/"; done
        [ -e "$M/lib64/libcurand.so" ] || ln -s libcurand.so.10 "$M/lib64/libcurand.so"
        export CUDA_PATH=$M NVCC_APPEND_FLAGS="-I$M/include -L$M/lib64" LD_LIBRARY_PATH="$M/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
        echo "gpu_check: cuRAND from $(dirname "$CURAND") (toolkit merged in $M)"
    fi
fi
"$PY" -m neurosim.backends check cuda_standalone || exit 1
status=0
timeout 240 "$PY" -m pytest -p no:cacheprovider -q -rs tests/test_backends.py 2>&1 | tee "$RESULTS/pytest.log" || status=1
timeout 240 "$PY" benchmarks/gpu_compare.py --torch --json "$RESULTS/gpu_compare.json" || status=1
echo "gpu_check: $([ $status = 0 ] && echo all checks matched || echo SOME CHECKS FAILED) (results in $RESULTS)"
exit $status
