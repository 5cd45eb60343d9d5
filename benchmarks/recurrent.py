"""Times the recurrent gating layers' training steps, in two parts.

Part 1, cells. One training step of `keras.layers.RNN(cell,
return_sequences=True)` for each of `hadamard_zoo`'s cells (`LSTMCell`,
`GRUCell`, `MGUCell`, `LiGRUCell`, `IndRNNCell`, `RHNCell`, default
arguments but `units`), against `keras.layers.LSTM` and
`keras.layers.GRU(reset_after=False)` at the same sizes: by default batch
20, 20 time steps, 200 inputs and 200 units (the small configuration of
Zaremba et al.'s PTB language model). Each cell's time is divided by the
LSTM's and by the GRU's; its family's ratio (the LSTM for `LSTMCell`, the
GRU for the single-state cells) is the one to read, both are reported.

Part 2, paths. Forward + backward time of the gated linear recurrences
`HGRN`, `GLA`, `MLSTM` (default arguments, width 128, batch 1) in each
computation path: `mode="recurrent"` (a scan over the `T` time steps) and
`mode="chunkwise"` (the steps of a chunk of `--chunk-size` at once, a scan
over `T / chunk_size` chunks), for `T` in 128, 256, ..., 4096. Reported:
the time per length, the ratio recurrent / chunkwise per length and the
least-squares slope of log(time) against log(T) per (layer, mode). The
issue's target is that the parallel path wins at long sequences: the ratio
at `T = 4096` must be above 1.

One step is the loss `mean(output²)` and its gradient with respect to the
layer's trainable weights and the input, written per backend: JAX
`jax.jit(jax.value_and_grad(...))` over `layer.stateless_call`,
TensorFlow `tf.function(jit_compile=True)` around a `GradientTape`, torch
eager autograd. Each measurement builds a fresh step function, so its
first call (compilation included) is reported apart as `first_call_s`;
then the median of `--repeats` timed calls, each blocking until the loss
and all the gradients are computed. Layers are built on a short sequence
first, so that building never runs a long sequence eagerly. Where XLA
cannot compile a TensorFlow gradient (Keras's TensorFlow `fori_loop`,
which the linear recurrences' scans use, gives XLA no maximum number of
iterations), the step falls back to `tf.function` graph mode: the row's
`compiler` says so, its `first_call_s` includes the failed attempt and
the Markdown table marks its time with `†`.

Everything runs in this one process; to pin the threads, start it under
`taskset -c 0` (the backends size their thread pools when imported, before
any flag could act). Timed calls stop after one over `--max-seconds`; in
part 2, where lengths ascend, a length whose call is predicted to exceed
`--max-seconds` is skipped (recorded with the reason, not run), and so
are the longer ones. The prediction scales the previous length's median
linearly in `T`: both paths do `O(T)` work (the chunkwise one
`O(T · chunk_size)`). A measurement that raises is recorded as skipped
with the error (and, in part 2, the longer lengths are skipped too).

Usage (writes benchmarks/results/recurrent_<backend>.json, .md and .png):

    KERAS_BACKEND=jax .venv/bin/python benchmarks/recurrent.py

A quick check:

    KERAS_BACKEND=torch .venv/bin/python benchmarks/recurrent.py \\
        --cells LSTMCell --layers HGRN --lengths 128 256 --repeats 2 \\
        --output-dir /tmp/r
"""

import argparse
import os
import pathlib
import platform
import statistics
import sys
import time

import keras
import numpy as np

from hadamard_zoo import layers as zoo
from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.atomic import write_json
from hadamard_zoo.utils.benchmarking import available_cpus
from hadamard_zoo.utils.benchmarking import backend_version
from hadamard_zoo.utils.benchmarking import device_name
from hadamard_zoo.utils.benchmarking import fit_exponent
from hadamard_zoo.utils.benchmarking import fmt

PARTS = ("cells", "paths")
CELLS = (
    "LSTMCell",
    "GRUCell",
    "MGUCell",
    "LiGRUCell",
    "IndRNNCell",
    "RHNCell",
)
BASELINES = ("LSTM", "GRU")
# The Keras layer each cell is read against; both ratios are reported.
FAMILY = {cell: "GRU" for cell in CELLS} | {"LSTMCell": "LSTM"}
PATH_LAYERS = ("HGRN", "GLA", "MLSTM")
MODES = ("recurrent", "chunkwise")
WARMUP_LENGTH = 8
TARGETS = {
    "source": "issue #7 item 6: the parallel path must win at long sequences",
    "recurrent_over_chunkwise_time": {"length": 4096, "above": 1.0},
}
RESULTS = pathlib.Path(__file__).parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS)
    )
    cells = parser.add_argument_group("part 1, cells")
    cells.add_argument("--cells", nargs="+", choices=CELLS, default=list(CELLS))
    cells.add_argument("--batch-size", type=int, default=20)
    cells.add_argument("--time-steps", type=int, default=20)
    cells.add_argument("--input-dim", type=int, default=200)
    cells.add_argument("--units", type=int, default=200)
    paths = parser.add_argument_group("part 2, paths")
    paths.add_argument(
        "--layers", nargs="+", choices=PATH_LAYERS, default=list(PATH_LAYERS)
    )
    paths.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=[128, 256, 512, 1024, 2048, 4096],
    )
    paths.add_argument("--width", type=int, default=128)
    paths.add_argument("--path-batch-size", type=int, default=1)
    paths.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--output-dir",
        type=pathlib.Path,
        default=RESULTS,
        help="where recurrent_<backend>.json, .md and .png go "
        "(default: benchmarks/results)",
    )
    parser.add_argument(
        "--no-plot", action="store_true", help="skip the PNG plot"
    )
    args = parser.parse_args(argv)
    for name in (
        "batch_size",
        "time_steps",
        "input_dim",
        "units",
        "width",
        "path_batch_size",
        "chunk_size",
        "repeats",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if min(args.lengths) < 1:
        parser.error("--lengths must be >= 1")
    if args.max_seconds <= 0:
        parser.error("--max-seconds must be > 0")
    return args


# --------------------------------------------------------------- layers


def make_cell_layer(name, units):
    """`RNN(cell)` for a cell name, the Keras layer for `LSTM` / `GRU`."""
    if name == "LSTM":
        return keras.layers.LSTM(units, return_sequences=True)
    if name == "GRU":
        return keras.layers.GRU(units, return_sequences=True, reset_after=False)
    cell = getattr(zoo, name)(units)
    return keras.layers.RNN(cell, return_sequences=True)


def make_path_layer(name, mode, chunk_size):
    return getattr(zoo, name)(mode=mode, chunk_size=chunk_size)


# ------------------------------------------------------ gradient steps
#
# Each factory returns (prepare, make_step): `prepare` turns a NumPy array
# into the backend's input tensor, `make_step()` a fresh step function
# (so that its first call includes its compilation). A step returns only
# once the loss and all gradients are computed.


def jax_step(layer):
    import jax
    import jax.numpy as jnp

    trainable = [v.value for v in layer.trainable_variables]
    non_trainable = [v.value for v in layer.non_trainable_variables]

    def loss_fn(trainable, x):
        y, _ = layer.stateless_call(trainable, non_trainable, x)
        return jnp.mean(jnp.square(y))

    def make_step():
        grad = jax.jit(jax.value_and_grad(loss_fn, argnums=(0, 1)))

        def step(x):
            return jax.block_until_ready(grad(trainable, x))

        return step

    return jnp.asarray, make_step


def tensorflow_step(layer):
    import tensorflow as tf

    variables = list(layer.trainable_variables)

    def make_grad(jit_compile):
        @tf.function(jit_compile=jit_compile)
        def grad(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_mean(tf.square(layer(x)))
            return loss, tape.gradient(loss, [x, *variables])

        return grad

    def make_step():
        grad = make_grad(jit_compile=True)

        def step(x):
            nonlocal grad
            try:
                loss, grads = grad(x)
            except tf.errors.InvalidArgumentError as error:
                if step.compiler != "xla":
                    raise
                # Keras's TensorFlow `fori_loop` sets no maximum number of
                # iterations, which XLA needs to differentiate the loop:
                # such a layer still trains in graph mode, so time that.
                message = str(error).strip().splitlines()[0]
                step.compiler = f"graph (XLA failed: {message})"
                grad = make_grad(jit_compile=False)
                loss, grads = grad(x)
            # One launch computes all outputs: when the loss is on the
            # host, so are the gradients.
            loss.numpy()
            return loss, grads

        step.compiler = "xla"
        return step

    return tf.convert_to_tensor, make_step


def torch_step(layer):
    import torch

    params = [v.value for v in layer.trainable_variables]

    def prepare(array):
        return keras.ops.convert_to_tensor(array).requires_grad_(True)

    def make_step():
        def step(x):
            loss = torch.mean(torch.square(layer(x)))
            grads = torch.autograd.grad(loss, [x, *params])
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            return loss, grads

        return step

    return prepare, make_step


STEPS = {"jax": jax_step, "tensorflow": tensorflow_step, "torch": torch_step}


# ---------------------------------------------------------- measurement


def build(layer, rng, batch_size, features):
    """Builds `layer` on a short sequence; returns its weight count."""
    small = rng.normal(size=(batch_size, WARMUP_LENGTH, features))
    layer(keras.ops.convert_to_tensor(small.astype("float32")))
    return int(sum(np.prod(v.shape) for v in layer.trainable_variables))


def time_calls(step, x, repeats, max_seconds):
    """First call, then up to `repeats` timed calls, as a result row."""
    begin = time.perf_counter()
    step(x)
    first = time.perf_counter() - begin
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        step(x)
        times.append(time.perf_counter() - begin)
        if times[-1] > max_seconds:
            break  # one slow call is measurement enough
    row = {
        "skipped": False,
        "first_call_s": round(first, 4),
        "median_ms": round(1e3 * statistics.median(times), 3),
        "min_ms": round(1e3 * min(times), 3),
        "runs_ms": [round(1e3 * t, 3) for t in times],
    }
    if len(times) < repeats:
        row["note"] = f"stopped after a call over {max_seconds} s"
    if hasattr(step, "compiler"):
        row["compiler"] = step.compiler
    return row


def skip_reason(length, last, max_seconds):
    """Why `length` should not run, or None.

    `last` is (length, median seconds) of the previous measured length,
    or None; the time is predicted linear in the length.
    """
    if last is None:
        return None
    prev_length, prev_seconds = last
    seconds = prev_seconds * length / prev_length
    if seconds > max_seconds:
        return (
            f"predicted {seconds:.1f} s per call from T={prev_length} "
            f"> {max_seconds} s"
        )
    return None


def failure(error):
    lines = str(error).strip().splitlines() or [""]
    return {
        "skipped": True,
        "reason": f"failed: {type(error).__name__}: {lines[0]}",
    }


def run_cells(args, backend):
    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(args.batch_size, args.time_steps, args.input_dim))
    x = x.astype("float32")
    results = []
    for name in [*args.cells, *BASELINES]:
        result = {
            "name": name,
            "kind": "keras" if name in BASELINES else "hadamard_zoo",
            "family": FAMILY.get(name, name),
            "num_weights": None,
        }
        results.append(result)
        try:
            layer = make_cell_layer(name, args.units)
            result["num_weights"] = build(
                layer, rng, args.batch_size, args.input_dim
            )
            prepare, make_step = STEPS[backend](layer)
            step = make_step()
            row = time_calls(step, prepare(x), args.repeats, args.max_seconds)
        except Exception as error:  # recorded, the others still run
            result.update(failure(error))
            print(f"{backend:10s} {name:10s} {result['reason']}", flush=True)
            continue
        result.update(row)
        print(
            f"{backend:10s} {name:10s} median {row['median_ms']:10.3f} ms  "
            f"(first call {row['first_call_s']:.2f} s)",
            flush=True,
        )
    return results


def run_path(args, backend, name, mode):
    """One (layer, mode) over the lengths, ascending."""
    rng = np.random.default_rng(args.seed)
    layer = make_path_layer(name, mode, args.chunk_size)
    num_weights = build(layer, rng, args.path_batch_size, args.width)
    prepare, make_step = STEPS[backend](layer)
    result = {
        "layer": name,
        "mode": mode,
        "num_weights": num_weights,
        "lengths": [],
    }
    last = None
    skipping = None
    for length in sorted(args.lengths):
        row = {"length": length}
        result["lengths"].append(row)
        reason = skipping or skip_reason(length, last, args.max_seconds)
        if reason:
            skipping = reason
            row.update(skipped=True, reason=reason)
            continue
        x = rng.normal(size=(args.path_batch_size, length, args.width))
        try:
            row.update(
                time_calls(
                    make_step(),
                    prepare(x.astype("float32")),
                    args.repeats,
                    args.max_seconds,
                )
            )
        except Exception as error:  # recorded, the other layers still run
            row.update(failure(error))
            skipping = f"T={length} failed"
            print(f"{backend:10s} {name:5s} {mode:9s} {row['reason']}")
            continue
        last = (length, row["median_ms"] / 1e3)
        print(
            f"{backend:10s} {name:5s} {mode:9s} T={length:<5d} "
            f"median {row['median_ms']:10.2f} ms  "
            f"(first call {row['first_call_s']:.2f} s)",
            flush=True,
        )
    add_fit(result)
    return result


# ------------------------------------------------------------- analysis


def measured(rows):
    """{length: median ms} of the measured (not skipped) rows."""
    return {
        r["length"]: r["median_ms"]
        for r in rows
        if r.get("skipped") is False and r.get("median_ms") is not None
    }


def add_fit(result):
    times = measured(result["lengths"])
    result["time_exponent"] = fit_exponent(list(times), list(times.values()))


def ratio(numerator, denominator):
    """numerator / denominator to 3 significant digits (a ratio of 0.011
    rounded to 3 decimals would lose 2% of itself)."""
    if numerator is None or not denominator:
        return None
    return float(f"{numerator / denominator:.3g}")


def cell_ratios(results):
    """Each cell's time over the LSTM's and the GRU's, family marked."""
    times = {r["name"]: r.get("median_ms") for r in results}
    entries = []
    for result in results:
        if result["kind"] != "hadamard_zoo":
            continue
        over = {
            base: ratio(times[result["name"]], times.get(base))
            for base in BASELINES
        }
        entries.append(
            {
                "cell": result["name"],
                "median_ms": times[result["name"]],
                "over_lstm": over["LSTM"],
                "over_gru": over["GRU"],
                "family": result["family"],
                "family_ratio": over[result["family"]],
            }
        )
    return entries


def path_ratios(results, targets=TARGETS):
    """Recurrent over chunkwise time per layer and length, with the target.

    `pass` is None when either path was not measured at the target
    length.
    """
    target = targets["recurrent_over_chunkwise_time"]
    times = {(r["layer"], r["mode"]): measured(r["lengths"]) for r in results}
    entries = []
    for layer in dict.fromkeys(r["layer"] for r in results):
        recurrent = times.get((layer, "recurrent"), {})
        chunkwise = times.get((layer, "chunkwise"), {})
        values = {
            n: ratio(recurrent[n], chunkwise[n])
            for n in sorted(set(recurrent) & set(chunkwise))
        }
        value = values.get(target["length"])
        entries.append(
            {
                "layer": layer,
                "values": {str(n): v for n, v in values.items()},
                "length": target["length"],
                "value": value,
                "target": f"> {target['above']}",
                "pass": None if value is None else value > target["above"],
            }
        )
    return entries


def graph_mode(row):
    return row.get("compiler", "").startswith("graph")


def time_text(row):
    """A row's median, `failed`, `skipped` or `-` (not run)."""
    if row.get("skipped") is False:
        return fmt(row["median_ms"], 4) + ("†" if graph_mode(row) else "")
    if row.get("skipped"):
        return "failed" if row["reason"].startswith("failed") else "skipped"
    return "-"


def markdown_tables(report):
    """The cells' table, then the paths' times, then their ratios."""
    lines = []
    if report.get("cells"):
        settings = report["settings"]["cells"]
        lines += [
            f"Cells: batch {settings['batch_size']}, "
            f"T {settings['time_steps']}, input {settings['input_dim']}, "
            f"units {settings['units']}; one training step.",
            "",
            "| layer | weights | ms/step | first call (s) | / LSTM "
            "| / GRU | family ratio |",
            "|---|---|---|---|---|---|---|",
        ]
        ratios = {e["cell"]: e for e in report["cell_ratios"]}
        for result in report["cells"]:
            entry = ratios.get(result["name"], {})
            family = entry.get("family")
            lines.append(
                f"| {result['name']} | {result['num_weights'] or '-'} "
                f"| {time_text(result)} "
                f"| {fmt(result.get('first_call_s'))} "
                f"| {fmt(entry.get('over_lstm'))} "
                f"| {fmt(entry.get('over_gru'))} "
                f"| {fmt(entry.get('family_ratio'))}"
                + (f" ({family})" if family else "")
                + " |"
            )
    if report.get("paths"):
        settings = report["settings"]["paths"]
        lengths = sorted(settings["lengths"])
        if lines:
            lines.append("")
        lines += [
            f"Paths: width {settings['width']}, batch "
            f"{settings['batch_size']}, chunk size "
            f"{settings['chunk_size']}; forward + backward (ms).",
            "",
            "| layer | mode | "
            + " | ".join(f"T={n}" for n in lengths)
            + " | time exp. |",
            "|---|---|" + "---|" * len(lengths) + "---|",
        ]
        for result in report["paths"]:
            rows = {r["length"]: r for r in result["lengths"]}
            cells = [time_text(rows.get(n, {})) for n in lengths]
            lines.append(
                f"| {result['layer']} | {result['mode']} | "
                + " | ".join(cells)
                + f" | {fmt(result.get('time_exponent'))} |"
            )
        lines += [
            "",
            "| recurrent / chunkwise | "
            + " | ".join(f"T={n}" for n in lengths)
            + " | target | result |",
            "|---|" + "---|" * len(lengths) + "---|---|",
        ]
        for entry in report["path_ratios"]:
            values = entry["values"]
            lines.append(
                f"| {entry['layer']} | "
                + " | ".join(fmt(values.get(str(n))) for n in lengths)
                + f" | {entry['target']} at T={entry['length']} | "
                + ("-" if entry["pass"] is None else fmt(entry["pass"]))
                + " |"
            )
    rows = report.get("cells", []) + [
        row for result in report.get("paths", []) for row in result["lengths"]
    ]
    if any(graph_mode(row) for row in rows):
        lines += [
            "",
            "† TensorFlow graph mode: XLA could not compile the gradient "
            "(the row's `compiler` in the JSON says why).",
        ]
    return "\n".join(lines) + "\n"


def plot(report, path):
    """Cells' ms/step (bars), paths' time against T (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    cells = [c for c in report.get("cells", []) if c.get("median_ms")]
    if cells:
        colors = [
            "tab:gray" if c["kind"] == "keras" else "tab:blue" for c in cells
        ]
        left.barh(
            [c["name"] for c in cells],
            [c["median_ms"] for c in cells],
            color=colors,
        )
        left.invert_yaxis()
        left.set_xlabel("ms per training step")
        left.set_title(f"{report['backend']}: RNN(cell) vs Keras (gray)")
    for result in report.get("paths", []):
        times = measured(result["lengths"])
        if times:
            right.plot(
                list(times),
                list(times.values()),
                marker="o",
                color=f"C{PATH_LAYERS.index(result['layer'])}",
                linestyle="--" if result["mode"] == "recurrent" else "-",
                label=f"{result['layer']} {result['mode']}",
            )
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("sequence length T")
    right.set_ylabel("forward + backward (ms)")
    right.grid(True, which="both", alpha=0.3)
    right.set_title(f"{report['backend']}: recurrent (--) vs chunkwise (-)")
    if right.get_lines():
        right.legend(fontsize="small")
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=100)
    plt.close(figure)


# ------------------------------------------------------------- main


def settings(args, backend):
    return {
        "parts": list(args.parts),
        "cells": {
            "cells": list(args.cells),
            "baselines": {
                "LSTM": "keras.layers.LSTM(units)",
                "GRU": "keras.layers.GRU(units, reset_after=False)",
            },
            "wrapper": "keras.layers.RNN(cell(units), "
            "return_sequences=True), the cell's other arguments default",
            "batch_size": args.batch_size,
            "time_steps": args.time_steps,
            "input_dim": args.input_dim,
            "units": args.units,
        },
        "paths": {
            "layers": list(args.layers),
            "modes": list(MODES),
            "lengths": sorted(args.lengths),
            "width": args.width,
            "batch_size": args.path_batch_size,
            "chunk_size": args.chunk_size,
            "layer_arguments": "defaults but mode and chunk_size",
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
        "seed": args.seed,
        "cpus": available_cpus(),
        "timing": "median of `repeats` steps after a first call "
        "(first_call_s includes compilation)",
    }


def run(args):
    backend = keras.backend.backend()
    load_before = round(os.getloadavg()[0], 2)
    report = {
        "benchmark": "recurrent",
        "backend": backend,
        "backend_version": backend_version(backend),
        "keras_version": keras.__version__,
        "device": device_name(backend),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "KERAS_BACKEND=" + backend + " python "
        "benchmarks/recurrent.py " + " ".join(sys.argv[1:]),
        "settings": settings(args, backend),
        "targets": TARGETS,
        "cells": [],
        "cell_ratios": [],
        "paths": [],
        "path_ratios": [],
    }
    if "cells" in args.parts:
        report["cells"] = run_cells(args, backend)
        report["cell_ratios"] = cell_ratios(report["cells"])
    if "paths" in args.parts:
        report["paths"] = [
            run_path(args, backend, name, mode)
            for name in args.layers
            for mode in MODES
        ]
        report["path_ratios"] = path_ratios(report["paths"])
    # Other work on the machine makes the timings noisy; this says how
    # busy it was (1-minute load average, before and after).
    report["load_average"] = [load_before, round(os.getloadavg()[0], 2)]
    return report


def main(argv=None):
    args = parse_args(argv)
    report = run(args)
    stem = args.output_dir / f"recurrent_{report['backend']}"
    report["plot"] = None
    if not args.no_plot:
        plot(report, stem.with_suffix(".png"))
        report["plot"] = stem.with_suffix(".png").name
    write_json(stem.with_suffix(".json"), report)
    text = markdown_tables(report)
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(text)
    print()
    print(text)
    print(f"wrote {stem.with_suffix('.json')}")


if __name__ == "__main__":
    main()
