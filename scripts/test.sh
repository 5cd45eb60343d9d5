#!/usr/bin/env bash
# The test command (README): sets up the environment, checks lint and
# format with ruff, then runs the default test set once per Keras backend
# (tensorflow, jax, torch) and the `large` set once. Fails if any part fails.
# Extra arguments are passed to every pytest run (e.g. `-k ccp`).
#
# The four parts run in two lanes side by side (tensorflow then large;
# jax then torch), the second lane's output shown when it ends: much of a
# test's time is single-threaded Python, so two lanes on a 2-core machine
# finish in about 60% of the sequential time. HADAMARD_ZOO_TEST_JOBS=1 runs
# the parts one after another.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup_env.sh || exit 1
python="${HADAMARD_ZOO_VENV:-.venv}/bin/python"
export HADAMARD_ZOO_DATA="${HADAMARD_ZOO_DATA:-$(cd .. && pwd)/shared/data}"
export TF_CPP_MIN_LOG_LEVEL=3
status=0
summary=()

log=$(mktemp)
trap 'rm -f "$log"' EXIT

step() {  # step NAME COMMAND...: runs, times and records one part
  local name=$1 start rc
  shift
  start=$(date +%s)
  echo "=== $name"
  "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  # pytest exits 5 when a selection holds no test; not a failure here.
  if [ "$rc" -eq 5 ]; then rc=0; fi
  summary+=("$name: exit $rc in $(( $(date +%s) - start ))s")
  if [ "$rc" -ne 0 ]; then status=1; fi
}

step "ruff check" "$python" -m ruff check .
step "ruff format --check" "$python" -m ruff format --check .

pytest_cmd=("$python" -m pytest -q -p no:cacheprovider)

# Eager JAX compiles every op for every new shape, and compiling is most of
# the JAX lane's time (24 of 46 s in test_poly_block.py; 609 of its 634
# compiles took under 0.1 s each). These flags make compiles cheaper and
# keep the arithmetic (no fast-math): optimisation level 0 (the lane: 1849
# s -> 1496 s), the older loop emitters and no expensive LLVM passes
# (test_poly_block.py with test_gla.py: 85 s -> 47 s; the lane: 2132 s ->
# 1377 s, the same tests passing). The large set keeps XLA's defaults: it
# runs long compiled evaluations, which these flags slowed (stylegan's
# FID: 106 s -> 118 s). TensorFlow's XLA is not helped by them.
fast_compile_xla_flags="--xla_backend_optimization_level=0"
fast_compile_xla_flags+=" --xla_cpu_use_fusion_emitters=false"
fast_compile_xla_flags+=" --xla_llvm_disable_expensive_passes=true"

# The guides (marker `guides`: each guide and the quickstart notebook run
# end to end in a fresh process) and the docstring examples (marker
# `docstrings`) run under torch alone: they check that the documentation
# still runs as written, and the layers and models it uses are tested under
# every backend. Under all three the guides took 416 s of lane time; the
# docstring examples took 257 s under JAX, 41 s under TensorFlow and 6 s
# under torch (one run beside a training job).
only_under_torch="not guides and not docstrings"
pytest_jax() {
  env KERAS_BACKEND=jax XLA_FLAGS="$fast_compile_xla_flags" \
    "${pytest_cmd[@]}" -m "not large and $only_under_torch" "$@"
}
pytest_tensorflow() {
  env KERAS_BACKEND=tensorflow \
    "${pytest_cmd[@]}" -m "not large and $only_under_torch" "$@"
}
# Beside another lane, torch's two OpenMP threads per op contend with it
# for two cores: one thread ran torch's tests about 1.8x faster there
# (tests/models/polysa_transformer: 40 s vs 22 s). TensorFlow and JAX
# showed no such difference.
pytest_torch() {
  env KERAS_BACKEND=torch OMP_NUM_THREADS=1 \
    "${pytest_cmd[@]}" -m "not large" "$@"
}
pytest_large() {
  env KERAS_BACKEND=jax "${pytest_cmd[@]}" -m large "$@"
}

if [ "${HADAMARD_ZOO_TEST_JOBS:-2}" -gt 1 ]; then
  # Two lanes of about equal length (measured beside each other, less the
  # guides: jax 1223 s + torch 371 s; tensorflow 786 s + large 835 s). The
  # second lane runs in the background with its own log and summary,
  # printed when it ends.
  lane_log=$(mktemp)
  lane_summary=$(mktemp)
  trap 'rm -f "$log" "$lane_log" "$lane_summary"' EXIT
  echo "=== lane 2 (pytest [jax], then pytest [torch]) started beside" \
    "lane 1; its output follows lane 1's"
  (
    log=/dev/null  # the lane's whole output goes to $lane_log
    summary=()
    status=0
    step "pytest [jax]" pytest_jax "$@"
    step "pytest [torch]" pytest_torch "$@"
    printf '%s\n' "${summary[@]}" > "$lane_summary"
    exit $status
  ) > "$lane_log" 2>&1 &
  lane_pid=$!
  step "pytest [tensorflow]" pytest_tensorflow "$@"
  step "pytest large [jax]" pytest_large "$@"
  wait "$lane_pid" || status=1
  echo "=== lane 2"
  cat "$lane_log"
  cat "$lane_log" >> "$log"
  mapfile -t -O "${#summary[@]}" summary < "$lane_summary"
else
  step "pytest [tensorflow]" pytest_tensorflow "$@"
  step "pytest [jax]" pytest_jax "$@"
  step "pytest [torch]" pytest_torch "$@"
  step "pytest large [jax]" pytest_large "$@"
fi

# pytest's closing lines ("12 passed, 1 failed in 3.2s"), added up.
count() {
  grep -E '^=*\s*[0-9]+ (passed|failed|error)' "$log" \
    | grep -oE "[0-9]+ $1" | awk '{n += $1} END {print n + 0}'
}
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "total: $(count passed) passed, $(( $(count failed) + $(count error) )) failed"
exit $status
