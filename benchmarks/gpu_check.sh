#!/usr/bin/env bash
# One command for a machine with a CUDA GPU (README, "GPU paths"), about 5 minutes:
#   1. the Brian2CUDA environment: .venv-cuda from PyPI (make env-cuda), or, on a machine without PyPI, the
#      wheels in .wheels-cuda (made beforehand by `make wheels-cuda` where PyPI is reachable) installed into
#      /tmp/neurosuite-cuda-site for the machine's own python3 (which holds a CUDA build of torch);
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

if [ -d .wheels-cuda ] && ! .venv-cuda/bin/python -c "import brian2cuda" 2>/dev/null; then
    # offline: the machine's python3 (with its CUDA torch) plus the carried wheels
    PY=${PYTHON_CUDA:-python3}
    SITE=/tmp/neurosuite-cuda-site
    "$PY" -m pip install -q --no-index --no-deps --no-compile --upgrade --target "$SITE" .wheels-cuda/*.whl || exit 1
    export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    make env-cuda || exit 1
    PY=.venv-cuda/bin/python
fi
if ! "$PY" -m neurosim.backends check cuda_standalone 2>/dev/null; then
    # A toolkit without cuRAND (seen: CUDA 13's nvcc alone): borrow the headers and library of the nvidia-curand
    # wheel that a CUDA build of torch brings, in a merged toolkit folder named by CUDA_PATH.
    CURAND=$(for p in "$PY" python3; do "$p" -c 'import nvidia, os, glob; print(next(iter(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "cu*", "include", "curand.h")))), ""))' 2>/dev/null; done | head -1)
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
