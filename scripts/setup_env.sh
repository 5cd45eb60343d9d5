#!/usr/bin/env bash
# Creates the project's virtual environment (.venv, or $HADAMARD_ZOO_VENV)
# and installs hadamard_zoo with all three backends and the test tools.
# Re-running is cheap: it reinstalls only when pyproject.toml, the
# constraints or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${HADAMARD_ZOO_VENV:-.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.hadamard_zoo_installed"
wanted=$(cat pyproject.toml requirements/constraints.txt scripts/setup_env.sh \
  | sha256sum | cut -c1-16)

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv with $($python --version)"
  "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing hadamard_zoo and its backends into $venv"
  pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
  "${pip[@]}" --upgrade pip
  # torch first and pinned: the 2.13.0 CPU wheel is what this project is
  # tested with, while an unpinned torch pulls a multi-GB CUDA build.
  "${pip[@]}" "torch==2.13.0"
  "${pip[@]}" -c requirements/constraints.txt -e ".[tensorflow,jax,torch,test]"
  echo "$wanted" > "$stamp"
fi
