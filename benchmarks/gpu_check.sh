#!/usr/bin/env bash
# Accelerator readiness: the default tests and one training step of every
# preset, on a GPU, under KERAS_BACKEND=jax and KERAS_BACKEND=torch.
#
# Per backend it runs
#   1. pytest -m "not large"     -> RESULTS/junit_<backend>.xml
#   2. benchmarks/step_times.py  -> RESULTS/step_times_<backend>.{json,md}
#      (float32 and mixed_bfloat16, jit_compile=True; "auto" on torch)
# then writes RESULTS/gpu_check_<date>.md: pass/fail/error/skip counts per
# backend, the tests that did not pass, links to the step-time files.
# RESULTS is benchmarks/results; each step's output is also kept in
# RESULTS/gpu_check_<backend>.log. Failing tests do not stop the run.
#
# Carrying it to an offline GPU machine:
#   1. Here, download keras and keras-hub with their dependencies as wheels
#      for the machine's Python (tensorflow-text and tensorflow among them,
#      several hundred MB):
#        .venv/bin/python -m pip download -d wheels --only-binary=:all: \
#            --python-version 3.11 --platform manylinux2014_x86_64 \
#            keras==3.15.1 keras-hub==0.32.0
#      (--no-deps for the two alone, if the machine has the rest). The GPU
#      builds of jax and torch are expected there already; their wheels
#      (jax[cuda12], torch for CUDA) may go in wheels/ too. Without
#      TensorFlow, keras-hub's preprocessing in fit/predict needs grain
#      (and array-record): on the H200 image of 2026-11 the wheels were
#      keras, keras-hub, namex, optree, kagglehub, kagglesdk, grain,
#      array-record, portpicker and jupytext with its dependencies,
#      installed with --no-deps.
#   2. Copy the repository (presets/ included) and wheels/ to the machine;
#      the dataset tests also need the data (set HADAMARD_ZOO_DATA).
#   3. There:  bash benchmarks/gpu_check.sh --wheels wheels
#      (--python PATH picks the interpreter). hadamard_zoo is imported from
#      the checkout (PYTHONPATH), not installed.
#   4. Bring back benchmarks/results/.
#
# Options:
#   --wheels DIR        pip install --no-index --find-links DIR every wheel
#                       in DIR (keras and keras-hub among them) first
#   --no-deps           install those wheels without their dependencies
#                       (the machine has the rest; keras-hub's
#                       tensorflow-text, for one, is then not needed)
#   --python PATH       interpreter (default .venv/bin/python, else python3)
#   --results DIR       where the reports go (default benchmarks/results)
#   --pytest-args ARGS  extra pytest arguments, one string (e.g. "-x")
#   --step-args ARGS    extra step_times.py arguments (e.g. "--repeats 10")
#   --backends LIST     the Keras backends, one string (default "jax torch")
#   --stages LIST       what to run per backend, one string (default
#                       "tests steps")
#   --workers N         pytest-xdist workers per backend (default: none)
#   --time-limit S      stop each backend's pytest after S seconds with an
#                       interrupt; the tests that ran are still reported
#   --concurrent        run the backends at the same time (one GPU is big
#                       enough for both; step times then share it)
#   --force-cpu         run everything on the CPU, GPU or not (a rehearsal)
set -uo pipefail

repo=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
python="" wheels="" results="$repo/benchmarks/results"
pytest_args="" step_args="" force_cpu=0 backends="jax torch"
no_deps="" stages="tests steps" workers="" time_limit="" concurrent=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheels) wheels=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --pytest-args) pytest_args=$2; shift 2 ;;
    --step-args) step_args=$2; shift 2 ;;
    --backends) backends=$2; shift 2 ;;
    --force-cpu) force_cpu=1; shift ;;
    --no-deps) no_deps=--no-deps; shift ;;
    --stages) stages=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --concurrent) concurrent=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ "$force_cpu" -eq 1 ]; then
  device="CPU (--force-cpu rehearsal)"
  export CUDA_VISIBLE_DEVICES="" JAX_PLATFORMS=cpu
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1
then
  device=$(nvidia-smi -L | head -n 1)
else
  echo "gpu_check.sh: no GPU found (nvidia-smi is missing or lists none)."
  echo "Nothing was run. Run it on a GPU machine, or pass --force-cpu to"
  echo "rehearse every step on this CPU."
  exit 0
fi

# Paths given relative to the caller's directory, before moving to the repo.
mkdir -p "$results" && results=$(cd "$results" && pwd) || exit 1
if [ -n "$wheels" ]; then wheels=$(cd "$wheels" && pwd) || exit 1; fi
case "$python" in */*) python=$(cd "${python%/*}" && pwd)/${python##*/} ;; esac
cd "$repo" || exit 1
if [ -z "$python" ]; then
  python=python3
  if [ -x .venv/bin/python ]; then python=.venv/bin/python; fi
fi
# hadamard_zoo from this checkout, for step_times.py as well as pytest.
export PYTHONPATH="$repo${PYTHONPATH:+:$PYTHONPATH}"
export HADAMARD_ZOO_DATA="${HADAMARD_ZOO_DATA:-$(cd .. && pwd)/shared/data}"
export TF_CPP_MIN_LOG_LEVEL=3
# keras-hub imports TensorFlow in every process: keep it (and JAX) from
# reserving the whole GPU at start.
export TF_FORCE_GPU_ALLOW_GROWTH=true XLA_PYTHON_CLIENT_PREALLOCATE=false
echo "gpu_check.sh: device $device; python $python"

if [ -n "$wheels" ]; then
  for name in keras keras_hub; do
    ls "$wheels"/"$name"-*.whl >/dev/null 2>&1 ||
      echo "gpu_check.sh: warning: no $name wheel in $wheels"
  done
  if ! "$python" -m pip install --no-index --find-links "$wheels" \
    $no_deps "$wheels"/*.whl; then
    echo "gpu_check.sh: installing the wheels in $wheels failed" >&2
    exit 1
  fi
fi

# One backend's stages; exit codes go to RESULTS/.codes_<backend>, so that
# backends run concurrently can report them.
run_backend() {
  local backend=$1 log="$results/gpu_check_$1.log" codes=""
  local limit=() xdist=()
  if [ -n "$time_limit" ]; then limit=(timeout -s INT "$time_limit"); fi
  if [ -n "$workers" ]; then xdist=(-n "$workers"); fi
  : > "$log"
  if [[ " $stages " == *" tests "* ]]; then
    echo "=== $backend: pytest -m 'not large'" | tee -a "$log"
    # shellcheck disable=SC2086  # the extra arguments are split on purpose
    KERAS_BACKEND=$backend "${limit[@]}" "$python" -m pytest \
      -p no:cacheprovider -m "not large" "${xdist[@]}" \
      --junitxml "$results/junit_$backend.xml" $pytest_args \
      2>&1 | tee -a "$log"
    codes+=" $backend-pytest=${PIPESTATUS[0]}"
  fi
  if [[ " $stages " == *" steps "* ]]; then
    echo "=== $backend: benchmarks/step_times.py" | tee -a "$log"
    # shellcheck disable=SC2086
    KERAS_BACKEND=$backend "$python" benchmarks/step_times.py \
      --output-dir "$results" $step_args 2>&1 | tee -a "$log"
    codes+=" $backend-steps=${PIPESTATUS[0]}"
  fi
  echo "$codes" > "$results/.codes_$backend"
}

for backend in $backends; do
  rm -f "$results/.codes_$backend"
  if [ "$concurrent" -eq 1 ]; then
    run_backend "$backend" > /dev/null &
  else
    run_backend "$backend"
  fi
done
wait
codes=""  # "jax-pytest=0 jax-steps=0 ...": exit codes
for backend in $backends; do
  codes+=" $(cat "$results/.codes_$backend" 2>/dev/null)"
  rm -f "$results/.codes_$backend"
done

report="$results/gpu_check_$(date +%Y-%m-%d).md"
"$python" - "$report" "$results" "$device" "$codes" $backends <<'EOF'
import os, pathlib, re, sys, time, xml.etree.ElementTree as ET

report, results, device, codes, *backends = sys.argv[1:]
results = pathlib.Path(results)
codes = dict(item.split("=") for item in codes.split())
lines = [
    f"# GPU check, {time.strftime('%Y-%m-%d %H:%M %Z')}", "",
    f"Device: {device}.", "",
    "| backend | collected | passed | failed | errors | skipped "
    "| pytest exit | step times |",
    "|---|---:|---:|---:|---:|---:|---:|---|",
]
not_passed = []
for backend in backends:
    counts = dict.fromkeys(("passed", "failed", "error", "skipped"), 0)
    junit = results / f"junit_{backend}.xml"
    for case in ET.parse(junit).iter("testcase") if junit.is_file() else []:
        if case.get("name") is None:  # the test an interrupt stopped
            continue
        tags = {child.tag for child in case}
        outcome = next((o for t, o in (("error", "error"), ("failure",
            "failed"), ("skipped", "skipped")) if t in tags), "passed")
        counts[outcome] += 1
        if outcome in ("failed", "error"):
            not_passed.append(f"- {backend}, {outcome}: "
                              f"{case.get('classname')}::{case.get('name')}")
    log = results / f"gpu_check_{backend}.log"
    found = re.findall(r"(?:collected |workers? \[)(\d+) items?",
                       log.read_text() if log.is_file() else "")
    collected = found[-1] if found else "-"
    stem, code = f"step_times_{backend}", codes.get(f"{backend}-steps")
    steps = f"missing (exit {code})" if code else "not run"
    if (results / f"{stem}.json").is_file():
        steps = f"[{stem}.md]({stem}.md), [json]({stem}.json) (exit {code})"
    lines.append(
        f"| {backend} | {collected} | {counts['passed']} | "
        f"{counts['failed']} | "
        f"{counts['error']} | {counts['skipped']} | "
        f"{codes.get(f'{backend}-pytest')} | {steps} |")
lines += ["", "pytest exit 124 means stopped by `--time-limit`: the "
          "counts are of the tests that ran before it.",
          "", "Tests that did not pass:" if not_passed else
          "No test failed.", *not_passed, "",
          "Per test: " + ", ".join(f"junit_{b}.xml" for b in backends)
          + ". Logs: " + ", ".join(f"gpu_check_{b}.log" for b in backends)
          + "."]
text = "\n".join(lines) + "\n"
pathlib.Path(report + ".tmp").write_text(text)
os.replace(report + ".tmp", report)
print(text + f"wrote {report}")
EOF
