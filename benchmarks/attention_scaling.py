"""Times PolySA's forward + backward pass against attention as N grows.

Poly-SA (survey Eq. 9) claims self-attention's global mixing in `O(N C²)`
time and `O(N C)` memory. This script measures that claim on tokens of
shape `(batch, N, width)` (width 256 by default) for five operators:

- `PolySA`: `hadamard_zoo`'s Poly-SA, default arguments;
- `GatedAttentionUnit`: `expansion_factor=2`, `key_dim=128`, non-causal
  (its `N × N` attention makes it quadratic in `N`);
- `CausalLinearAttention`: 4 heads of `width / 4`, `mode="chunked"`
  (the linear form that parallelises; causal, as the layer always is);
- `MultiHeadAttention`: `keras.layers.MultiHeadAttention`, 4 heads of
  `width / 4`, self-attention (the quadratic baseline);
- `Dense`: `keras.layers.Dense(width)`, the floor of any token mixer.

One step is the loss `mean(output²)` and its gradient with respect to the
layer's trainable weights and the input, written per backend: JAX
`jax.jit(jax.value_and_grad(...))` over `layer.stateless_call`,
TensorFlow `tf.function(jit_compile=True)` around a `GradientTape`, torch
eager autograd. For each length the first call (compilation included) is
reported as `first_call_s`; then the median of `--repeats` timed calls,
each blocking until the results are ready.

Each (operator, batch size) runs in a fresh subprocess that goes through
the lengths in increasing order, so that its peak memory can be read from
`getrusage(RUSAGE_SELF).ru_maxrss`: the process's resident-set high-water
mark on the host (CPU RAM, not accelerator memory). The baseline is read
after building the layer and one gradient step on 8 tokens, so it holds
the interpreter, the backend and its compiler, the weights and the
small-step buffers. `peak_extra_mib` of a length is the high-water mark
after that length minus the baseline: since lengths ascend and a larger
input needs more memory, that is the length's own peak (inputs,
activations kept for the backward pass, gradients, compiled code), plus
whatever earlier lengths left allocated (allocator caches, compiled
functions). On a GPU the accelerator's own peak is read the same way
(`peak_device_mib`, `peak_device_extra_mib`, fitted as
`device_memory_exponent`; `hadamard_zoo.utils.benchmarking.
accelerator_peak_bytes`), since that is where the activations live.

A length is skipped (recorded with the reason, not run) when its single
call is predicted to exceed `--max-seconds`, or its peak extra memory to
exceed `--max-memory-gib`. The prediction scales the previous length's
measurement by `(N / N_prev)^g`, `g = 2` for the quadratic operators
(`MultiHeadAttention`, `GatedAttentionUnit`) and 1 for the others; the
memory of a quadratic operator is also predicted to be at least two
float32 `N × N` matrices per head and example (scores and their
gradient), so that a first length that is already too large is caught.
Once a length is skipped, the longer ones are too.

The fitted scaling exponent is the least-squares slope of log(time)
against log(N) over the measured lengths (and likewise for memory,
ignoring lengths with no extra memory). The derived ratios and their
targets (from the project's issue) are printed as a Markdown table and
stored under `derived` and `targets`; a PNG plots time and memory against
N, log-log, one panel per batch size.

Usage (writes benchmarks/results/attention_scaling_<backend>.json and
.png):

    KERAS_BACKEND=jax .venv/bin/python benchmarks/attention_scaling.py

A quick check:

    KERAS_BACKEND=torch .venv/bin/python benchmarks/attention_scaling.py \\
        --lengths 256 1024 --batch-sizes 1 --repeats 2 --output-dir /tmp/a
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import time

import keras
import numpy as np

from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.atomic import write_json
from hadamard_zoo.utils.benchmarking import accelerator_peak_bytes
from hadamard_zoo.utils.benchmarking import available_cpus
from hadamard_zoo.utils.benchmarking import backend_version
from hadamard_zoo.utils.benchmarking import device_name
from hadamard_zoo.utils.benchmarking import fit_exponent
from hadamard_zoo.utils.benchmarking import fmt

OPERATORS = (
    "PolySA",
    "GatedAttentionUnit",
    "CausalLinearAttention",
    "MultiHeadAttention",
    "Dense",
)
# How time and memory grow with N, for predicting the next length.
GROWTH = {"MultiHeadAttention": 2, "GatedAttentionUnit": 2}
# N × N matrices per example (one per head) of the quadratic operators.
ATTENTION_MATRICES = {"MultiHeadAttention": 4, "GatedAttentionUnit": 1}
NUM_HEADS = 4
GAU_KEY_DIM = 128
WARMUP_LENGTH = 8
TARGETS = {
    "source": "the project's issue on PolySA's linear scaling",
    "polysa_over_dense_time": {"length": 16384, "max": 3.0},
    "mha_over_polysa_time": {"length": 4096, "min": 25.0},
    "polysa_time_exponent": {"max": 1.15},
}
RESULTS = pathlib.Path(__file__).parent / "results"
MIB = 2.0**20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--operators", nargs="+", choices=OPERATORS, default=list(OPERATORS)
    )
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[256, 1024, 4096, 16384]
    )
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--max-memory-gib", type=float, default=12.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="pin each worker to the first THREADS CPUs, so that every "
        "backend sizes its thread pools to THREADS (default: all CPUs; "
        "on a machine shared with other work, 1 avoids threads waiting "
        "for each other, which makes torch's timings erratic)",
    )
    parser.add_argument(
        "--output-dir",
        type=pathlib.Path,
        default=RESULTS,
        help="where attention_scaling_<backend>.json and .png go "
        "(default: benchmarks/results)",
    )
    parser.add_argument(
        "--no-plot", action="store_true", help="skip the PNG plot"
    )
    # The parent process runs each (operator, batch size) as a worker.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.width % NUM_HEADS:
        parser.error(f"--width must be a multiple of {NUM_HEADS}")
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    if args.threads is not None and not 1 <= args.threads <= os.cpu_count():
        parser.error(f"--threads must be in [1, {os.cpu_count()}]")
    return args


# ------------------------------------------------------------- operators


def make_layer(operator, width, chunk_size):
    if operator == "PolySA":
        from hadamard_zoo.layers.efficient.poly_sa import PolySA

        return PolySA()
    if operator == "GatedAttentionUnit":
        from hadamard_zoo.layers.efficient.gated_attention_unit import (
            GatedAttentionUnit,
        )

        return GatedAttentionUnit(
            expansion_factor=2, key_dim=GAU_KEY_DIM, causal=False
        )
    if operator == "CausalLinearAttention":
        from hadamard_zoo.layers.modulation.causal_linear_attention import (
            CausalLinearAttention,
        )

        return CausalLinearAttention(
            num_heads=NUM_HEADS,
            key_dim=width // NUM_HEADS,
            mode="chunked",
            chunk_size=chunk_size,
        )
    if operator == "MultiHeadAttention":
        return keras.layers.MultiHeadAttention(
            num_heads=NUM_HEADS, key_dim=width // NUM_HEADS
        )
    if operator == "Dense":
        return keras.layers.Dense(width)
    raise ValueError(f"unknown operator {operator!r}")


def call_args(operator):
    """The positional arguments the layer is called with, given tokens."""
    if operator == "MultiHeadAttention":
        return lambda x: (x, x)
    return lambda x: (x,)


# ------------------------------------------------------ gradient steps
#
# Each factory returns (prepare, make_step): `prepare` turns a NumPy array
# into the backend's input tensor, `make_step()` a fresh step function
# (so that the first call of each length includes its compilation). A
# step returns only once the loss and all gradients are computed.


def jax_step(layer, args):
    import jax
    import jax.numpy as jnp

    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss_fn(trainable, x):
        y, _ = layer.stateless_call(trainable, non_trainable, *args(x))
        return jnp.mean(jnp.square(y))

    def make_step():
        grad = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1)))

        def step(x):
            return jax.block_until_ready(grad(trainable, x))

        return step

    return jnp.asarray, make_step


def tensorflow_step(layer, args):
    import tensorflow as tf

    variables = list(layer.trainable_variables)

    def make_step():
        @tf.function(jit_compile=True)
        def grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(*args(x))
                loss = tf.reduce_mean(tf.square(y))
            return loss, tape.gradient(loss, [x, *variables])

        def step(x):
            loss, grads = grad(x)
            # One XLA launch computes all outputs: when the loss is on
            # the host, so are the gradients.
            loss.numpy()
            return loss, grads

        return step

    return tf.convert_to_tensor, make_step


def torch_step(layer, args):
    import torch

    params = [v.value for v in layer.trainable_variables]

    def prepare(array):
        return keras.ops.convert_to_tensor(array).requires_grad_(True)

    def make_step():
        def step(x):
            y = layer(*args(x))
            loss = torch.mean(torch.square(y))
            grads = torch.autograd.grad(loss, [x, *params])
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            return loss, grads

        return step

    return prepare, make_step


STEPS = {"jax": jax_step, "tensorflow": tensorflow_step, "torch": torch_step}


# ------------------------------------------------------------- worker


def max_rss_bytes():
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return usage if sys.platform == "darwin" else usage * 1024


def mib(num_bytes):
    return None if num_bytes is None else round(num_bytes / MIB, 1)


def growth(operator):
    return GROWTH.get(operator, 1)


def attention_floor_bytes(operator, batch_size, length):
    """float32 scores and their gradient: 2 N × N matrices per head."""
    heads = ATTENTION_MATRICES.get(operator, 0)
    return 2 * 4 * batch_size * heads * length**2


def skip_reason(operator, batch_size, length, last, args):
    """Why `length` should not run, or None.

    `last` is (length, median seconds, peak extra bytes) of the previous
    measured length, or None.
    """
    memory = attention_floor_bytes(operator, batch_size, length)
    source = "the N × N attention matrices"
    if last is not None:
        prev_length, prev_seconds, prev_bytes = last
        factor = (length / prev_length) ** growth(operator)
        seconds = prev_seconds * factor
        if seconds > args.max_seconds:
            return (
                f"predicted {seconds:.1f} s per call from N={prev_length} "
                f"> {args.max_seconds} s"
            )
        if prev_bytes * factor > memory:
            memory = prev_bytes * factor
            source = f"N={prev_length}"
    if memory > args.max_memory_gib * 2.0**30:
        return (
            f"predicted {memory / 2.0**30:.1f} GiB peak extra memory from "
            f"{source} > {args.max_memory_gib} GiB"
        )
    return None


def run_worker(args):
    spec = json.loads(args.worker)
    operator, batch_size = spec["operator"], spec["batch_size"]
    backend = keras.backend.backend()
    rng = np.random.default_rng(args.seed)

    def tokens(length):
        x = rng.normal(size=(batch_size, length, args.width))
        return prepare(x.astype("float32"))

    start = time.perf_counter()
    layer = make_layer(operator, args.width, args.chunk_size)
    call = call_args(operator)
    small = rng.normal(size=(batch_size, WARMUP_LENGTH, args.width))
    small = small.astype("float32")
    layer(*call(keras.ops.convert_to_tensor(small)))  # builds the weights
    prepare, make_step = STEPS[backend](layer, call)
    make_step()(prepare(small))
    baseline = max_rss_bytes()
    device_baseline = accelerator_peak_bytes(backend)
    report = {
        "operator": operator,
        "batch_size": batch_size,
        "num_weights": int(
            sum(np.prod(v.shape) for v in layer.trainable_variables)
        ),
        "setup_s": round(time.perf_counter() - start, 3),
        "cpus": available_cpus(),
        "baseline_rss_mib": mib(baseline),
        # On a GPU: its memory, counted the same way as the host's.
        "baseline_device_mib": mib(device_baseline),
        "lengths": [],
    }
    output = pathlib.Path(args.worker_output)
    write_json(output, report)

    last = None
    skipping = None
    for length in sorted(args.lengths):
        row = {"length": length}
        report["lengths"].append(row)
        reason = skipping or skip_reason(
            operator, batch_size, length, last, args
        )
        if reason:
            skipping = reason
            row.update(skipped=True, reason=reason)
            write_json(output, report)
            continue
        x = tokens(length)
        step = make_step()
        begin = time.perf_counter()
        step(x)
        first = time.perf_counter() - begin
        times = []
        for _ in range(args.repeats):
            begin = time.perf_counter()
            step(x)
            times.append(time.perf_counter() - begin)
            if times[-1] > args.max_seconds:
                break  # one slow call is measurement enough
        median = statistics.median(times)
        peak = max_rss_bytes()
        extra = peak - baseline
        last = (length, median, extra)
        row.update(
            skipped=False,
            first_call_s=round(first, 4),
            median_ms=round(1e3 * median, 3),
            min_ms=round(1e3 * min(times), 3),
            runs_ms=[round(1e3 * t, 3) for t in times],
            peak_rss_mib=mib(peak),
            peak_extra_mib=mib(extra),
        )
        device_peak = accelerator_peak_bytes(backend)
        if device_peak is not None:
            row.update(
                peak_device_mib=mib(device_peak),
                peak_device_extra_mib=mib(device_peak - device_baseline),
            )
        if len(times) < args.repeats:
            row["note"] = f"stopped after a call over {args.max_seconds} s"
        write_json(output, report)
        print(
            f"{backend:10s} {operator:21s} B={batch_size:<2d} N={length:<6d} "
            f"median {1e3 * median:10.2f} ms  +{extra / MIB:8.1f} MiB  "
            f"(first call {first:.2f} s)",
            flush=True,
        )
        del x, step


# ------------------------------------------------------------- analysis


def measured(rows, key):
    """{length: value} of the measured (not skipped) rows."""
    return {
        r["length"]: r[key]
        for r in rows
        if not r.get("skipped", True) and r.get(key) is not None
    }


def add_fits(result):
    times = measured(result["lengths"], "median_ms")
    memory = measured(result["lengths"], "peak_extra_mib")
    result["time_exponent"] = fit_exponent(list(times), list(times.values()))
    result["memory_exponent"] = fit_exponent(
        list(memory), list(memory.values())
    )
    device = measured(result["lengths"], "peak_device_extra_mib")
    if device:  # on a GPU, where the activations live
        result["device_memory_exponent"] = fit_exponent(
            list(device), list(device.values())
        )


def check(value, target):
    if value is None:
        return None
    if "max" in target and value > target["max"]:
        return False
    if "min" in target and value < target["min"]:
        return False
    return True


def describe(target):
    if "max" in target:
        return f"<= {target['max']}"
    return f">= {target['min']}"


def ratio_entry(name, batch_size, numerator, denominator, targets):
    """One derived time ratio, at every length both operators measured."""
    target = targets[name]
    values = {
        length: round(numerator[length] / denominator[length], 3)
        for length in sorted(set(numerator) & set(denominator))
        if denominator[length] > 0
    }
    value = values.get(target["length"])
    return {
        "name": name,
        "batch_size": batch_size,
        "values": {str(k): v for k, v in values.items()},
        "length": target["length"],
        "value": value,
        "target": describe(target),
        "pass": check(value, target),
    }


def derive(results, targets=TARGETS):
    """The issue's ratios per batch size, each with its pass/fail flag.

    `pass` is None when the operators or the target length were not
    measured.
    """
    by_key = {(r["operator"], r["batch_size"]): r for r in results}
    times = {
        key: measured(result["lengths"], "median_ms")
        for key, result in by_key.items()
    }
    derived = []
    for batch_size in sorted({r["batch_size"] for r in results}):
        polysa_times = times.get(("PolySA", batch_size), {})
        derived.append(
            ratio_entry(
                "polysa_over_dense_time",
                batch_size,
                polysa_times,
                times.get(("Dense", batch_size), {}),
                targets,
            )
        )
        derived.append(
            ratio_entry(
                "mha_over_polysa_time",
                batch_size,
                times.get(("MultiHeadAttention", batch_size), {}),
                polysa_times,
                targets,
            )
        )
        polysa = by_key.get(("PolySA", batch_size), {})
        exponent = polysa.get("time_exponent")
        target = targets["polysa_time_exponent"]
        derived.append(
            {
                "name": "polysa_time_exponent",
                "batch_size": batch_size,
                "value": exponent,
                "target": describe(target),
                "pass": check(exponent, target),
            }
        )
    return derived


def markdown_tables(report):
    """Times per operator and length, then the derived targets."""
    lengths = sorted(report["settings"]["lengths"])
    lines = [
        "| operator | batch | "
        + " | ".join(f"N={n} (ms)" for n in lengths)
        + " | time exp. | memory exp. |",
        "|---|---|" + "---|" * len(lengths) + "---|---|",
    ]
    for result in report["results"]:
        rows = {r["length"]: r for r in result["lengths"]}
        cells = []
        for n in lengths:
            row = rows.get(n, {})
            if row.get("skipped") is False:
                cells.append(fmt(row["median_ms"], 4))
            else:
                cells.append("skipped" if row.get("skipped") else "-")
        lines.append(
            f"| {result['operator']} | {result['batch_size']} | "
            + " | ".join(cells)
            + f" | {fmt(result.get('time_exponent'))}"
            + f" | {fmt(result.get('memory_exponent'))} |"
        )
    lines += [
        "",
        "| metric | batch | N | value | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for entry in report["derived"]:
        lines.append(
            f"| {entry['name']} | {entry['batch_size']} | "
            f"{entry.get('length', '-')} | {fmt(entry['value'])} | "
            f"{entry['target']} | "
            f"{'-' if entry['pass'] is None else fmt(entry['pass'])} |"
        )
    return "\n".join(lines)


def plot(report, path):
    """Time (top) and peak extra memory (bottom) against N, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    batch_sizes = sorted({r["batch_size"] for r in report["results"]})
    figure, axes = plt.subplots(
        2,
        len(batch_sizes),
        figsize=(5.5 * len(batch_sizes), 8),
        squeeze=False,
    )
    for column, batch_size in enumerate(batch_sizes):
        for result in report["results"]:
            if result["batch_size"] != batch_size:
                continue
            for row, key in enumerate(("median_ms", "peak_extra_mib")):
                values = measured(result["lengths"], key)
                values = {n: v for n, v in values.items() if v > 0}
                if values:
                    axes[row, column].plot(
                        list(values),
                        list(values.values()),
                        marker="o",
                        label=result["operator"],
                    )
        for row, label in enumerate(("time per step (ms)", "peak extra MiB")):
            ax = axes[row, column]
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_xlabel("sequence length N")
            ax.set_ylabel(label)
            ax.grid(True, which="both", alpha=0.3)
            ax.set_title(
                f"{report['backend']}, batch {batch_size}: "
                + ("forward + backward" if row == 0 else "host RSS")
            )
            if ax.get_lines():
                ax.legend(fontsize="small")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


# ------------------------------------------------------------- parent


def worker_command(args, operator, batch_size, output):
    spec = json.dumps({"operator": operator, "batch_size": batch_size})
    command = [
        sys.executable,
        str(pathlib.Path(__file__).resolve()),
        "--worker",
        spec,
        "--worker-output",
        str(output),
        "--lengths",
        *map(str, args.lengths),
        "--width",
        str(args.width),
        "--chunk-size",
        str(args.chunk_size),
        "--repeats",
        str(args.repeats),
        "--max-seconds",
        str(args.max_seconds),
        "--max-memory-gib",
        str(args.max_memory_gib),
        "--seed",
        str(args.seed),
    ]
    return command


def run_one(args, operator, batch_size, backend):
    """Runs one worker; returns its report (partial if it failed)."""
    output = args.output_dir / f".attention_scaling_{operator}_{batch_size}"
    output = output.with_suffix(".json")
    output.unlink(missing_ok=True)
    environment = {**os.environ, "KERAS_BACKEND": backend}
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Compilation plus (repeats + 1) calls per length, each cut at about
    # max_seconds, with room for a slow start.
    timeout = 600 + 2 * len(args.lengths) * (args.repeats + 1) * (
        args.max_seconds
    )
    pin = None
    if args.threads is not None:
        # Before the backend is imported: its thread pools follow the
        # CPUs the process may run on.
        cpus = sorted(os.sched_getaffinity(0))[: args.threads]

        def pin():
            os.sched_setaffinity(0, cpus)

    start = time.perf_counter()
    try:
        process = subprocess.run(
            worker_command(args, operator, batch_size, output),
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
            timeout=timeout,
            preexec_fn=pin,
        )
        error = None
        if process.returncode != 0:
            error = (
                f"worker exited with {process.returncode}: "
                + process.stderr[-2000:]
            )
    except subprocess.TimeoutExpired:
        error = f"worker timed out after {timeout:.0f} s"
    if output.exists():
        result = json.loads(output.read_text())
        output.unlink()
    else:
        result = {"operator": operator, "batch_size": batch_size}
        result["lengths"] = []
    result["worker_s"] = round(time.perf_counter() - start, 2)
    if error:
        result["error"] = error
        print(f"{operator} B={batch_size}: {error}", flush=True)
        done = {row["length"] for row in result["lengths"]}
        for length in sorted(set(args.lengths) - done):
            result["lengths"].append(
                {"length": length, "skipped": True, "reason": "worker failed"}
            )
    add_fits(result)
    return result


def run(args):
    load_before = round(os.getloadavg()[0], 2)
    backend = keras.backend.backend()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for operator in args.operators:
        for batch_size in args.batch_sizes:
            results.append(run_one(args, operator, batch_size, backend))
    return {
        "benchmark": "attention_scaling",
        "backend": backend,
        "backend_version": backend_version(backend),
        "keras_version": keras.__version__,
        "device": device_name(backend),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        # Other work on the machine makes the timings noisy; this says how
        # busy it was (1-minute load average, before and after).
        "load_average": [load_before, round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "KERAS_BACKEND=" + backend + " python "
        "benchmarks/attention_scaling.py " + " ".join(sys.argv[1:]),
        "settings": {
            "operators": list(args.operators),
            "batch_sizes": list(args.batch_sizes),
            "lengths": sorted(args.lengths),
            "width": args.width,
            "num_heads": NUM_HEADS,
            "key_dim": args.width // NUM_HEADS,
            "gau": {"expansion_factor": 2, "key_dim": GAU_KEY_DIM},
            "causal_linear_attention": {
                "mode": "chunked",
                "chunk_size": args.chunk_size,
            },
            "dtype": "float32",
            "loss": "mean(output ** 2); gradients w.r.t. the trainable "
            "weights and the input",
            "step": {
                "jax": "jax.jit(jax.value_and_grad) over stateless_call",
                "tensorflow": "tf.function(jit_compile=True) + GradientTape",
                "torch": "eager autograd",
            }[backend],
            "repeats": args.repeats,
            "max_seconds_per_call": args.max_seconds,
            "max_memory_gib": args.max_memory_gib,
            "seed": args.seed,
            "threads": args.threads or "all CPUs",
            "timing": "median of `repeats` steps after a warm-up step "
            "(first_call_s includes compilation)",
            "memory": "host RSS high-water mark (getrusage ru_maxrss) "
            "after the length minus the baseline after building the "
            f"layer and one step on {WARMUP_LENGTH} tokens; one process "
            "per (operator, batch size), lengths ascending",
        },
        "targets": TARGETS,
        "results": results,
    }


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    report = run(args)
    report["derived"] = derive(report["results"])
    stem = f"attention_scaling_{report['backend']}"
    report["plot"] = None
    if not args.no_plot:
        path = args.output_dir / f"{stem}.png"
        plot(report, path)
        report["plot"] = path.name
    output = args.output_dir / f"{stem}.json"
    write_json(output, report)
    print()
    print(markdown_tables(report))
    print(f"\nwrote {output}")


if __name__ == "__main__":
    main()
