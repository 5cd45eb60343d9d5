#!/usr/bin/env bash
# The timings half of a GPU lease, one benchmark at a time on a quiet GPU,
# each under a time limit so that a short lease still brings back what ran
# (step_times.py saves every row as it is measured; the other two print a
# line per size to their logs):
#   1. benchmarks/step_times.py, jax then torch, --no-weights;
#   2. benchmarks/attention_scaling.py at batch 8, N = 1k, 4k, 16k;
#   3. benchmarks/recurrent.py's parallel paths at T = 1024 and 4096.
# The other half, the test suite, is benchmarks/gpu_check.sh.
#
# usage: bash benchmarks/gpu_timings.sh RESULTS_DIR [PYTHON]
#   limits (seconds): STEPS_JAX=120 STEPS_TORCH=60 ATTENTION=85 RECURRENT=30
# Wheels for keras and keras-hub (and grain, which keras-hub needs without
# TensorFlow) are installed first from $WHEELS when it is set.
set -u
cd "$(dirname "$0")/.." || exit 1
R=${1:?usage: gpu_timings.sh RESULTS_DIR [PYTHON]}
P=${2:-python3}
mkdir -p "$R"
export PYTHONPATH=$PWD XLA_PYTHON_CLIENT_PREALLOCATE=false
export TF_CPP_MIN_LOG_LEVEL=3
{
  date; nvidia-smi -L; nproc; $P -V
  if [ -n "${WHEELS:-}" ]; then
    $P -m pip install -q --no-index --no-deps "$WHEELS"/*.whl
  fi
  $P -m pip list 2>/dev/null |
    grep -iE "^(jax|jaxlib|torch|keras|keras-hub|numpy) "
} > "$R/setup.log" 2>&1
run() {  # run NAME SECONDS COMMAND...: output to $R/NAME.log
  local name=$1 limit=$2 t0=$SECONDS
  shift 2
  timeout -s INT "$limit" "$@" > "$R/$name.log" 2>&1
  echo "$name: exit $? after $((SECONDS - t0)) s" >> "$R/timeline.log"
}
for b in jax torch; do
  limit=${STEPS_JAX:-120}
  [ $b = torch ] && limit=${STEPS_TORCH:-60}
  run "steps_$b" "$limit" env KERAS_BACKEND=$b "$P" \
    benchmarks/step_times.py --no-weights --output-dir "$R"
done
for b in jax torch; do
  run "attention_$b" "${ATTENTION:-85}" env KERAS_BACKEND=$b "$P" \
    benchmarks/attention_scaling.py --batch-sizes 8 \
    --lengths 1024 4096 16384 --output-dir "$R"
done
for b in jax torch; do
  run "recurrent_$b" "${RECURRENT:-30}" env KERAS_BACKEND=$b "$P" \
    benchmarks/recurrent.py --parts paths --lengths 1024 4096 \
    --repeats 3 --no-plot --output-dir "$R"
done
