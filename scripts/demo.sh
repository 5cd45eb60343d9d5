#!/usr/bin/env bash
# The demo command (README): sets up the environment if needed, then runs
# `hadamard-zoo demo` (JAX backend unless KERAS_BACKEND is set). Generator
# presets write their image grids to demo_output/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" TF_CPP_MIN_LOG_LEVEL=3
exec "${HADAMARD_ZOO_VENV:-.venv}/bin/hadamard-zoo" demo --grid-dir demo_output "$@"
