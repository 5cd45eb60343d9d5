#!/usr/bin/env bash
# The test command (README): sets up the environment, checks lint and
# format with ruff, then runs the default test set once per Keras backend
# (tensorflow, jax, torch) and the `large` set once. Fails if any part fails.
# Extra arguments are passed to every pytest run (e.g. `-k ccp`).
#
# The JAX run (the longest: eager JAX dispatches and compiles op by op)
# runs beside the others, its output shown when it ends: much of a test's
# time is single-threaded Python, so two lanes on a 2-core machine finish
# in about 60% of the sequential time. HADAMARD_ZOO_TEST_JOBS=1 runs the
# parts one after another.
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
if [ "${HADAMARD_ZOO_TEST_JOBS:-2}" -gt 1 ]; then
  jax_log=$(mktemp)
  trap 'rm -f "$log" "$jax_log"' EXIT
  jax_start=$(date +%s)
  echo "=== pytest [jax] started beside the others (output below when done)"
  # Eager JAX compiles every op for every new shape: XLA's optimisation
  # level 0 compiles faster and ran this lane in 1496 s instead of 1849 s,
  # the same tests passing. The large lane keeps the default (it runs
  # long compiled evaluations).
  env KERAS_BACKEND=jax XLA_FLAGS=--xla_backend_optimization_level=0 \
    "${pytest_cmd[@]}" -m "not large" "$@" \
    > "$jax_log" 2>&1 &
  jax_pid=$!
  # Beside the JAX lane, torch's two OpenMP threads per op contend with it
  # for two cores: one thread ran torch's tests about 1.8x faster there
  # (tests/models/polysa_transformer: 40 s vs 22 s). TensorFlow and JAX
  # showed no such difference.
  step "pytest [tensorflow]" env KERAS_BACKEND=tensorflow \
    "${pytest_cmd[@]}" -m "not large" "$@"
  step "pytest [torch]" env KERAS_BACKEND=torch OMP_NUM_THREADS=1 \
    "${pytest_cmd[@]}" -m "not large" "$@"
  step "pytest large [jax]" env KERAS_BACKEND=jax \
    "${pytest_cmd[@]}" -m large "$@"
  wait "$jax_pid"
  rc=$?
  if [ "$rc" -eq 5 ]; then rc=0; fi
  echo "=== pytest [jax]"
  tee -a "$log" < "$jax_log"
  summary+=("pytest [jax]: exit $rc in $(( $(date +%s) - jax_start ))s")
  if [ "$rc" -ne 0 ]; then status=1; fi
else
  for backend in tensorflow jax torch; do
    step "pytest [$backend]" env KERAS_BACKEND="$backend" \
      "${pytest_cmd[@]}" -m "not large" "$@"
  done
  step "pytest large [jax]" env KERAS_BACKEND=jax \
    "${pytest_cmd[@]}" -m large "$@"
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
