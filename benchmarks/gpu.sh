#!/usr/bin/env bash
# GPU checks for plumecast: run on a machine with an NVIDIA GPU and CuPy.
# Installs nothing over the network: the Python wheels plumecast needs beyond the
# machine's image are carried in .whl/ (see benchmarks/README.md, "GPU").
# Usage: bash benchmarks/gpu.sh [OUTDIR]
set -uo pipefail
OUTDIR=${1:-${OUT:-gpu-results}}
mkdir -p "$OUTDIR"
export PYTHONUNBUFFERED=1
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD/src
else
  export PYTHONPATH=$PWD/src
fi
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv | tee "$OUTDIR/nvidia-smi.txt"
echo "== GPU tests"
python3 -m pytest -p no:cacheprovider -q tests/test_gpu.py tests/test_transport.py -k "cuda" -o addopts="" 2>&1 | tee "$OUTDIR/gpu-tests.txt" | tail -15
if [ -z "${SKIP_BENCH:-}" ]; then
  echo "== GPU benchmark"
  python3 benchmarks/bench_gpu.py --json "$OUTDIR/bench_gpu.json" 2>&1 | tee "$OUTDIR/bench_gpu.txt"
fi
export COLUMNS=200
python3 -c "import time; t = time.time(); import plumecast.cli, plumecast.runner, cupy, numba, xarray, matplotlib; print(f'import time of the demo modules: {time.time() - t:.2f} s')"
echo "== demo end to end, 1e7 particles, cuda backend (twice: the first run compiles the kernel)"
TIMEFORMAT="demo wall %R s"
for i in 1 2; do
  time (python3 -m plumecast demo --backend cuda --particles 10000000 -o "$OUTDIR/demo" -q 2>&1 | grep -E "particle-steps|wall time|demo finished|written|error|Error" )
done
TIMEFORMAT="demo (cuda-mixed) wall %R s"
time (python3 -m plumecast demo --backend cuda-mixed --particles 10000000 -o "$OUTDIR/demo-mixed" -q 2>&1 | grep -E "particle-steps|wall time|demo finished|written|error|Error" )
rm -rf "$OUTDIR/demo" "$OUTDIR/demo-mixed"
