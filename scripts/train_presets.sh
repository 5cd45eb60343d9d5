#!/usr/bin/env bash
# Trains (or resumes) the given recipes one after another, JAX backend,
# logging to $HADAMARD_ZOO_LOGS (default /tmp/hadamard_zoo_runs). With no
# arguments: every recipe. Each run checkpoints after every epoch, so
# re-running this script after an interruption continues where it stopped.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh || exit 1
export KERAS_BACKEND="${KERAS_BACKEND:-jax}" TF_CPP_MIN_LOG_LEVEL=3
export HADAMARD_ZOO_DATA="${HADAMARD_ZOO_DATA:-$(cd .. && pwd)/shared/data}"
logs="${HADAMARD_ZOO_LOGS:-/tmp/hadamard_zoo_runs}"
mkdir -p "$logs"
python=".venv/bin/python"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <("$python" -c \
    "from hadamard_zoo.training import RECIPES; print(*RECIPES, sep='\n')")
fi
for name in "${names[@]}"; do
  echo "$(date -u +%FT%TZ) training $name (log: $logs/$name.log)"
  .venv/bin/hadamard-zoo train "$name" > "$logs/$name.log" 2>&1 \
    || echo "$name failed: see $logs/$name.log"
done
