"""Times the training step of the Penn Treebank language-model recipes.

For each backend (each in its own process: a backend is chosen when Keras
is imported) and each recipe, builds the recipe's stateful backbone,
compiles it exactly as `hadamard-zoo train` does (SGD, clipped global
norm, the summed window loss; Keras' default `jit_compile="auto"`, which
is XLA on JAX and TensorFlow and eager on PyTorch) and fits it on the
first `--steps` windows of the Penn Treebank training stream, after
`--warm-up` windows that absorb compilation. Reported: milliseconds per
step (20 x 20 tokens with the recipes' defaults) and the minutes an epoch
of 2,323 windows takes at that pace.

Usage (writes benchmarks/results/rnn_lm_training.json and .md):

    .venv/bin/python benchmarks/rnn_lm_training.py

A quick check:

    .venv/bin/python benchmarks/rnn_lm_training.py --backends jax \\
        --recipes lstm_ptb_small --steps 20 --output-dir /tmp/r

Stop background training first: every number is wall-clock time on the
shared CPU.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

RESULTS = pathlib.Path(__file__).parent / "results"
BACKENDS = ("jax", "tensorflow", "torch")
RECIPES = ("lstm_ptb_small", "gru_ptb_small", "mgu_ptb_small", "hgrn_ptb_small")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=20)
    parser.add_argument("--output-dir", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def time_recipe(name, steps, warm_up):
    """`(ms per step, windows per epoch)` of recipe `name` here."""
    import keras

    from hadamard_zoo.datasets import load_ptb
    from hadamard_zoo.models.rnn_lm import RNNLMTokenizer
    from hadamard_zoo.training import get_recipe
    from hadamard_zoo.training import language_modeling as lm

    recipe = get_recipe(name)
    tokens = load_ptb("train")
    tokenizer = RNNLMTokenizer.from_corpus(tokens)
    ids = tokenizer(" ".join(tokens))
    windows = lm.StreamWindows(ids, recipe.batch_size, recipe.num_steps)
    keras.utils.set_random_seed(recipe.seed)
    model = lm.build_language_model(recipe, tokenizer, stateful=True)
    model.compile(
        optimizer=keras.optimizers.SGD(
            recipe.learning_rate, global_clipnorm=recipe.clip_norm
        ),
        loss=lm.window_loss,
    )
    model.fit(windows, epochs=1, steps_per_epoch=warm_up, verbose=0)
    start = time.perf_counter()
    model.fit(
        windows, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0
    )
    seconds = time.perf_counter() - start
    return 1000.0 * seconds / steps, len(windows)


def worker(args):
    import keras

    rows = []
    for name in args.recipes:
        ms, windows = time_recipe(name, args.steps, args.warm_up)
        rows.append(
            {
                "backend": keras.backend.backend(),
                "recipe": name,
                "ms_per_step": round(ms, 2),
                "minutes_per_epoch": round(ms * windows / 60000.0, 2),
                "windows_per_epoch": windows,
            }
        )
    print(json.dumps(rows))


def markdown(rows):
    lines = [
        "| recipe | backend | ms / step | min / epoch |",
        "|---|---|---:|---:|",
    ]
    for row in sorted(rows, key=lambda r: (r["recipe"], r["ms_per_step"])):
        lines.append(
            f"| {row['recipe']} | {row['backend']} | {row['ms_per_step']:.1f}"
            f" | {row['minutes_per_epoch']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return worker(args)
    rows = []
    for backend in args.backends:
        command = [sys.executable, __file__, "--worker", "--recipes"]
        command += args.recipes
        command += ["--steps", str(args.steps), "--warm-up", str(args.warm_up)]
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        print(f"timing {', '.join(args.recipes)} on {backend} ...", flush=True)
        result = subprocess.run(
            command, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{backend} failed:\n{result.stderr[-3000:]}")
        rows += json.loads(result.stdout.strip().splitlines()[-1])
    report = {
        "settings": {
            "steps": args.steps,
            "warm_up": args.warm_up,
            "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
        },
        "rows": rows,
    }
    from hadamard_zoo.utils.atomic import atomic_path
    from hadamard_zoo.utils.atomic import write_json

    args.output_dir.mkdir(parents=True, exist_ok=True)
    write_json(args.output_dir / "rnn_lm_training.json", report)
    table = markdown(rows)
    with atomic_path(args.output_dir / "rnn_lm_training.md") as tmp:
        pathlib.Path(tmp).write_text(table)
    print(table)


if __name__ == "__main__":
    main()
