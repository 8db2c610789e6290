#!/usr/bin/env bash
# The GPU check in one call (< 10 minutes on one H100/H200): bf16 and compile parity, engine views/s and
# NFE/s of the paper-sized TRM, a training step's throughput and MFU. Writes bench/results/gpu.json.
# Without CUDA it runs a small CPU version and says so. Extra arguments go to bench/bench_gpu.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
exec timeout 570 "$PY" bench/bench_gpu.py "$@"
