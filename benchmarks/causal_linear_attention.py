"""Times CausalLinearAttention's quadratic, recurrent and chunked forms.

The three `mode`s compute the same function (survey Eq. 7): the masked form
`((Q Kᵀ) * R) V` in O(T²), the recurrence `S_t = S_{t-1} + k_tᵀ v_t` as a
scan over time, and the chunked form (masked within chunks, state carried
by cumulative sums). For each sequence length this script builds a Keras
Model around the layer (same weights for every mode), compiles it with
`jit_compile=True` (XLA on JAX and TensorFlow; torch runs eagerly unless
`--jit` says otherwise), makes one warm-up `predict_on_batch` call (it
includes compilation, reported as `first_call_s`) and reports the median
of `--repeats` timed calls. A size whose single call would exceed
`--max-seconds` (measured on the second call, or predicted from the
previous size: T² for the quadratic form, T for the others) is recorded
as skipped. The relative difference to the quadratic form's output is
recorded too, as a sanity check.

Usage (writes benchmarks/results/causal_linear_attention_<backend>.json):

    KERAS_BACKEND=jax .venv/bin/python benchmarks/causal_linear_attention.py
"""

import argparse
import os
import pathlib
import statistics
import time

import keras
import numpy as np

from hadamard_zoo.layers.modulation.causal_linear_attention import (
    CausalLinearAttention,
)
from hadamard_zoo.utils.atomic import write_json
from hadamard_zoo.utils.benchmarking import device_name

MODES = ("quadratic", "recurrent", "chunked")
GROWTH = {"quadratic": 2, "recurrent": 1, "chunked": 1}
RESULTS = pathlib.Path(__file__).parent / "results"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lengths", type=int, nargs="+", default=[64, 256, 1024, 4096]
    )
    parser.add_argument("--modes", nargs="+", default=list(MODES))
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--num-heads", type=int, default=4)
    parser.add_argument("--key-dim", type=int, default=32)
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument(
        "--jit",
        choices=("true", "false", "auto"),
        default=None,
        help="jit_compile of the Model (default: true on jax and "
        "tensorflow, auto on torch)",
    )
    parser.add_argument(
        "--output",
        type=pathlib.Path,
        default=None,
        help="result file (default: benchmarks/results/"
        "causal_linear_attention_<backend>.json)",
    )
    return parser.parse_args(argv)


def jit_setting(choice):
    if choice is None:
        return True if keras.backend.backend() != "torch" else "auto"
    return {"true": True, "false": False, "auto": "auto"}[choice]


def build_model(mode, length, args, jit_compile, weights=None):
    d_model = args.num_heads * args.key_dim
    inputs = keras.Input((length, d_model), batch_size=args.batch_size)
    layer = CausalLinearAttention(
        num_heads=args.num_heads,
        key_dim=args.key_dim,
        mode=mode,
        chunk_size=args.chunk_size,
        name="attention",
    )
    model = keras.Model(inputs, layer(inputs))
    if weights is not None:
        layer.set_weights(weights)
    model.compile(jit_compile=jit_compile)
    return model, layer


def timed_call(model, x):
    # predict_on_batch returns NumPy arrays, so the timing includes the
    # device synchronisation.
    start = time.perf_counter()
    y = model.predict_on_batch(x)
    return time.perf_counter() - start, y


def run(args):
    load_before = round(os.getloadavg()[0], 2)
    backend = keras.backend.backend()
    jit_compile = jit_setting(args.jit)
    d_model = args.num_heads * args.key_dim
    rng = np.random.default_rng(0)
    results = []
    last = {}  # mode -> (length, median seconds) of the last timed size
    skipping = {}  # mode -> reason, once a size was too slow
    for length in sorted(args.lengths):
        x = rng.normal(size=(args.batch_size, length, d_model))
        x = x.astype("float32")
        weights = None
        reference = None
        for mode in args.modes:
            row = {"mode": mode, "length": length}
            results.append(row)
            if mode in skipping:
                row.update(skipped=True, reason=skipping[mode])
                continue
            if mode in last:
                prev_length, prev_seconds = last[mode]
                predicted = (
                    prev_seconds * (length / prev_length) ** GROWTH[mode]
                )
                if predicted > args.max_seconds:
                    reason = (
                        f"predicted {predicted:.1f} s per call from "
                        f"T={prev_length} > {args.max_seconds} s"
                    )
                    skipping[mode] = reason
                    row.update(skipped=True, reason=reason)
                    continue
            model, layer = build_model(mode, length, args, jit_compile, weights)
            if weights is None:
                weights = layer.get_weights()
            first, _ = timed_call(model, x)
            second, y = timed_call(model, x)
            row["first_call_s"] = round(first, 4)
            if second > args.max_seconds:
                reason = f"one call took {second:.1f} s > {args.max_seconds} s"
                skipping[mode] = reason
                row.update(skipped=True, reason=reason)
                continue
            times = [timed_call(model, x)[0] for _ in range(args.repeats)]
            median = statistics.median(times)
            last[mode] = (length, median)
            row.update(
                skipped=False,
                median_ms=round(1e3 * median, 3),
                min_ms=round(1e3 * min(times), 3),
                runs_ms=[round(1e3 * t, 3) for t in times],
            )
            if mode == "quadratic":
                reference = y
            elif reference is not None:
                scale = float(np.max(np.abs(reference))) or 1.0
                diff = float(np.max(np.abs(y - reference))) / scale
                row["max_rel_diff_vs_quadratic"] = float(f"{diff:.3g}")
            print(
                f"{backend:10s} T={length:5d} {mode:9s} "
                f"median {1e3 * median:10.3f} ms  "
                f"(first call {first:.2f} s)",
                flush=True,
            )
            del model, layer
            keras.backend.clear_session()
    return {
        "benchmark": "causal_linear_attention",
        "backend": backend,
        "keras_version": keras.__version__,
        "device": device_name(backend),
        "cpu_count": os.cpu_count(),
        # Other work on the machine makes the timings noisy; this says how
        # busy it was (1-minute load average, before and after).
        "load_average": [load_before, round(os.getloadavg()[0], 2)],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": "KERAS_BACKEND=" + backend + " python "
        "benchmarks/causal_linear_attention.py",
        "settings": {
            "batch_size": args.batch_size,
            "num_heads": args.num_heads,
            "key_dim": args.key_dim,
            "d_model": d_model,
            "chunk_size": args.chunk_size,
            "feature_map": "identity",
            "normalize": False,
            "dtype": "float32",
            "jit_compile": jit_compile,
            "repeats": args.repeats,
            "max_seconds_per_call": args.max_seconds,
            "timing": "median of `repeats` predict_on_batch calls after a "
            "warm-up call (first_call_s includes compilation)",
        },
        "results": results,
    }


def main(argv=None):
    args = parse_args(argv)
    report = run(args)
    output = args.output or (
        RESULTS / f"causal_linear_attention_{report['backend']}.json"
    )
    write_json(output, report)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
