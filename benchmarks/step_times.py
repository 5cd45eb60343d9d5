"""Times one training step of every bundled preset's model, per dtype policy.

For each preset (`hadamard_zoo.presets.preset_names()`, or `--presets`)
and each dtype policy (`float32`, `mixed_bfloat16`), the preset's model is
loaded in that policy, compiled with `jit_compile=True` (on torch with
Keras's default `"auto"`, which resolves to eager: XLA-style compilation
there is `torch.compile`, not what this measures), and one batch of
`--batch-size` realistic inputs goes through a training step:

- image and text classifiers: the bundled sample images (sentences) of
  their dataset (`hadamard_zoo.samples`), repeated to fill the batch, run
  through the preset's own preprocessor; `Task.train_on_batch` with the
  task's default `compile()` (Adam, its loss);
- language models (`metric == "perplexity"`): `--batch-size` windows of
  the preset's dataset's test stream (the demo sentence repeated where
  the dataset is not on the machine) through the preset's preprocessor;
- link predictors (knowledge graphs): the bundled sample queries with
  their true answers as triples, each with the recipe's number of
  filtered uniform negatives (`NegativeSamplingBatches`), the task's
  self-adversarial loss;
- generators (`metric == "fid"`): the recipe's `GANTrainer` (generator
  from the preset, discriminator untrained) on bundled sample images,
  one discriminator and one generator update per step.

Every row reports the first call (which compiles) in seconds, the median
of `--repeats` further steps in milliseconds, the loss of the last step,
the device and whether the step was compiled. A preset that fails becomes
a row with the error; the other rows still run. Each (preset, policy)
prints one progress line.

Usage (writes benchmarks/results/step_times_<backend>.json and .md):

    KERAS_BACKEND=jax .venv/bin/python benchmarks/step_times.py

A quick check:

    KERAS_BACKEND=torch .venv/bin/python benchmarks/step_times.py \\
        --presets pinet_ccp_mnist --repeats 2 --output-dir /tmp/st
"""

import argparse
import json
import math
import os
import pathlib
import platform
import re
import statistics
import sys
import time

import keras
import numpy as np

from hadamard_zoo import presets
from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.atomic import write_json
from hadamard_zoo.utils.benchmarking import device_name
from hadamard_zoo.utils.benchmarking import fmt

RESULTS = pathlib.Path(__file__).parent / "results"
POLICIES = ("float32", "mixed_bfloat16")
KINDS = (
    "image_classifier",
    "text_classifier",
    "language_model",
    "link_predictor",
    "generator",
)
# What `compile()` is asked for; torch's "auto" resolves to eager.
JIT_COMPILE = {"jax": True, "tensorflow": True, "torch": "auto"}
LM_FALLBACK_TEXT = "the company said it expects a loss"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MAX_ERROR_CHARS = 4000


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--presets",
        nargs="+",
        default=None,
        help="bundled preset names or preset directories (default: every "
        "bundled preset)",
    )
    parser.add_argument(
        "--policies", nargs="+", choices=POLICIES, default=list(POLICIES)
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--no-weights",
        action="store_true",
        help="build each model from its preset's config with initial "
        "weights instead of loading the trained ones (the step costs the "
        "same; for a machine the weight files were not copied to)",
    )
    parser.add_argument(
        "--output-dir",
        type=pathlib.Path,
        default=RESULTS,
        help="where step_times_<backend>.json and .md go "
        "(default: benchmarks/results)",
    )
    args = parser.parse_args(argv)
    for name in ("batch_size", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.presets is None:
        args.presets = presets.preset_names()
    for name in args.presets:
        try:
            preset_metrics(name)
        except ValueError as error:
            parser.error(str(error))
    return args


# -------------------------------------------------------------- presets


def preset_metrics(name):
    """The `metrics.json` of a bundled name or a preset directory."""
    if name in presets.preset_names():
        return presets.preset_info(name)["metrics"]
    path = pathlib.Path(name)
    if (path / presets.PRESET_CONFIG_FILE).is_file():
        metrics_file = path / presets.METRICS_FILE
        if metrics_file.is_file():
            return json.loads(metrics_file.read_text())
        return {}
    raise presets.unknown_preset_error(name)


def preset_kind(metrics):
    """One of `KINDS`, from the preset's metric and dataset."""
    from hadamard_zoo.datasets import KNOWLEDGE_GRAPHS
    from hadamard_zoo.training.text_classification import DATASETS as TEXT

    if metrics.get("metric") == "fid":
        return "generator"
    if metrics.get("metric") == "perplexity":
        return "language_model"
    if metrics.get("dataset") in KNOWLEDGE_GRAPHS:
        return "link_predictor"
    if metrics.get("dataset") in TEXT:
        return "text_classifier"
    return "image_classifier"


def repeat_rows(values, count):
    """The first `count` rows of `values` repeated (a list or an array)."""
    rows = np.arange(count) % len(values)
    if isinstance(values, list):
        return [values[i] for i in rows]
    return np.asarray(values)[rows]


def to_tensors(batch):
    """The batch on the device once, so that steps time no transfer."""
    return tuple(
        None
        if part is None
        else keras.tree.map_structure(keras.ops.convert_to_tensor, part)
        for part in batch
    )


def to_numpy(structure):
    """Preprocessor outputs (any backend's tensors) as NumPy arrays."""
    return keras.tree.map_structure(
        lambda v: None if v is None else keras.ops.convert_to_numpy(v),
        structure,
    )


# ------------------------------------------------------ batches per kind


def classifier_batch(model, metrics, batch_size):
    """`(x, y, sample_weight)` of repeated samples, preprocessed."""
    from hadamard_zoo import samples

    inputs, labels = samples.load_samples(metrics["dataset"])
    source = f"{len(labels)} {metrics['dataset']} samples"
    inputs = repeat_rows(inputs, batch_size)
    labels = repeat_rows(labels, batch_size).astype("int32")
    if not isinstance(inputs, list):
        inputs = inputs[..., None]  # grayscale images: one channel
    batch = keras.utils.unpack_x_y_sample_weight(
        to_numpy(model.preprocessor(inputs, labels))
    )
    return batch, source


def language_model_batch(model, metrics, batch_size):
    """`batch_size` full windows of the test stream, preprocessed."""
    from hadamard_zoo.training import language_modeling

    length = model.preprocessor.sequence_length
    try:
        words = language_modeling.load_stream(metrics["dataset"], "test")
        source = f"{metrics['dataset']} test stream"
    except Exception as error:  # offline machine without the dataset
        words = LM_FALLBACK_TEXT.split()
        source = f"repeated demo sentence ({type(error).__name__})"
    needed = batch_size * length
    words = repeat_rows(list(words[:needed]), needed)
    lines = [" ".join(words[i : i + length]) for i in range(0, needed, length)]
    batch = keras.utils.unpack_x_y_sample_weight(
        to_numpy(model.preprocessor(lines))
    )
    return batch, source


def link_prediction_batch(model, metrics, batch_size):
    """Sample triples with the recipe's negatives, as in training."""
    from hadamard_zoo import samples
    from hadamard_zoo.training import negative_sampling

    queries, labels = samples.load_samples(metrics["dataset"])
    vocabulary = model.preprocessor.tokenizer
    triples = np.array(
        [
            [
                vocabulary.entity_id(head),
                vocabulary.relation_id(relation),
                vocabulary.entity_id(queries["candidates"][label]),
            ]
            for head, relation, label in zip(
                queries["heads"], queries["relations"], labels, strict=True
            )
        ]
    )
    config = model.backbone.get_config()
    negatives = metrics.get("recipe", {}).get("negatives", 256)
    batches = negative_sampling.NegativeSamplingBatches(
        repeat_rows(triples, batch_size),
        config["num_entities"],
        config["num_relations"],
        negatives=negatives,
        batch_size=batch_size,
        known_triples=triples,
    )
    source = f"{len(triples)} {metrics['dataset']} samples, "
    return batches[0], source + f"{negatives} negatives each"


def generator_batch(trainer, metrics, batch_size):
    """Sample images (and label maps) at the generator's resolution."""
    from hadamard_zoo import samples
    from hadamard_zoo.training.image_generation import GenerationBatches

    images, classes = samples.load_samples(metrics["dataset"])
    batches = GenerationBatches(
        images,
        classes if trainer.conditional else None,
        batch_size,
        steps_per_epoch=1,
        seed=0,
        resolution=metrics["recipe"]["resolution"],
    )
    return (batches[0],), f"{len(images)} {metrics['dataset']} samples"


# --------------------------------------------------------------- models


def load_task(name, metrics, policy, batch_size, jit_compile, weights=True):
    """`(compiled model, (x, y, sample_weight), inputs, detail)`.

    `weights=False` builds the model from the preset's config alone.
    """
    import hadamard_zoo

    kind = preset_kind(metrics)
    if kind == "generator":
        return load_gan(name, metrics, policy, batch_size, jit_compile, weights)
    model = hadamard_zoo.load_classifier(
        name, dtype=policy, load_weights=weights
    )
    model.compile(jit_compile=jit_compile)
    make_batch = {
        "language_model": language_model_batch,
        "link_predictor": link_prediction_batch,
    }.get(kind, classifier_batch)
    batch, inputs = make_batch(model, metrics, batch_size)
    detail = f"{type(model).__name__}.train_on_batch, default compile()"
    return model, batch, inputs, detail


def load_gan(name, metrics, policy, batch_size, jit_compile, weights=True):
    """The recipe's `GANTrainer` around the preset's generator."""
    import hadamard_zoo
    from hadamard_zoo.training import image_generation
    from hadamard_zoo.training.recipes import ImageGenerationRecipe

    recipe = ImageGenerationRecipe(**metrics["recipe"])
    # `load_generator` takes no dtype; the global policy reaches both
    # models the recipe builds.
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        trainer = image_generation.build_trainer(recipe)
    finally:
        keras.config.set_dtype_policy(previous)
    if weights:
        preset = hadamard_zoo.load_generator(name)
        trainer.generator.set_weights(preset.get_weights())
    trainer.compile(
        generator_optimizer=trainer.generator_optimizer,
        discriminator_optimizer=trainer.discriminator_optimizer,
        jit_compile=jit_compile,
    )
    batch, inputs = generator_batch(trainer, metrics, batch_size)
    detail = "GANTrainer.train_on_batch, one D and one G update"
    return trainer, batch, inputs, detail


def train_step(model, batch):
    """One `train_on_batch`; returns its logs (so it waits for the step).

    keras-hub's `Task.train_on_batch` would run the preprocessor again on
    every call; the batch is preprocessed once, outside the timed step, so
    Keras's own `train_on_batch` takes it (as `fit` takes the batches its
    input pipeline preprocessed).
    """
    logs = keras.Model.train_on_batch(model, *batch, return_dict=True)
    return {key: float(value) for key, value in logs.items()}


def headline_loss(logs):
    """`loss`, or a GAN's first loss (`d_loss`); a string if not finite."""
    losses = [v for k, v in logs.items() if k == "loss" or k.endswith("_loss")]
    loss = logs.get("loss", losses[0] if losses else float("nan"))
    return loss if math.isfinite(loss) else str(loss)


def model_policy(model):
    """The dtype policy the model was built in (its backbone's)."""
    inner = getattr(model, "backbone", None) or model.generator
    return inner.dtype_policy.name


def count_params(model):
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def time_row(name, metrics, policy, args, backend):
    """The row of one (preset, policy): times, or the error."""
    row = {
        "preset": name,
        "kind": preset_kind(metrics),
        "policy": policy,
        "backend": backend,
        "batch_size": args.batch_size,
    }
    try:
        model, batch, inputs, detail = load_task(
            name,
            metrics,
            policy,
            args.batch_size,
            JIT_COMPILE[backend],
            weights=not args.no_weights,
        )
        row.update(
            weights="initial" if args.no_weights else "preset",
            step="train",
            step_detail=detail,
            inputs=inputs,
            dtype_policy=model_policy(model),
            params=count_params(model),
            jit_compile_requested=JIT_COMPILE[backend],
            jit_compile=model.jit_compile,
        )
        batch = to_tensors(batch)
        begin = time.perf_counter()
        train_step(model, batch)
        first = time.perf_counter() - begin
        times = []
        for _ in range(args.repeats):
            begin = time.perf_counter()
            logs = train_step(model, batch)
            times.append(time.perf_counter() - begin)
        row.update(
            first_call_s=round(first, 4),
            median_ms=round(1e3 * statistics.median(times), 3),
            min_ms=round(1e3 * min(times), 3),
            runs_ms=[round(1e3 * t, 3) for t in times],
            loss=headline_loss(logs),
            logs={
                k: v if math.isfinite(v) else str(v) for k, v in logs.items()
            },
        )
    except Exception as error:  # a failing preset is a row, not a crash
        text = ANSI.sub("", f"{type(error).__name__}: {error}").strip()
        row["error"] = text[:MAX_ERROR_CHARS]
    finally:
        keras.backend.clear_session()
    return row


# ---------------------------------------------------------------- report


def device_string(backend):
    """The device the steps run on, e.g. `cuda:0` or `cpu:0`."""
    try:
        return str(keras.distribution.list_devices()[0])
    except Exception:  # not every backend lists devices
        pass
    if backend == "torch":
        import torch

        return "cuda:0" if torch.cuda.is_available() else "cpu"
    return "unknown"


def error_summary(text):
    """One line of an error: Keras's wrapper line replaced by the cause."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1 and "Exception encountered when calling" in lines[0]:
        return f"{lines[0].split(':')[0]}: {lines[1]}"[:200]
    return lines[0][:200] if lines else ""


def progress_line(row):
    head = f"{row['backend']:10s} {row['preset']:30s} {row['policy']:15s}"
    if "error" in row:
        return f"{head} failed: {error_summary(row['error'])}"
    return (
        f"{head} first {row['first_call_s']:8.2f} s  "
        f"median {row['median_ms']:10.2f} ms  loss {row['loss']}"
    )


def markdown(report):
    lines = [
        f"Step times, {report['backend']} on {report['device']} "
        f"({report['device_name']}), keras {report['keras_version']}, "
        f"batch {report['settings']['batch_size']}, median of "
        f"{report['settings']['repeats']} steps after the first "
        f"(which compiles). {report['date']}.",
        "",
        "| preset | kind | policy | step | jit | first call s | median ms "
        "| loss | error |",
        "|---|---|---|---|---|---:|---:|---:|---|",
    ]
    for row in report["rows"]:
        error = error_summary(row.get("error", "")).replace("|", "/")
        loss = row.get("loss")
        lines.append(
            f"| {row['preset']} | {row['kind']} | {row['policy']} | "
            f"{row.get('step', '-')} | {row.get('jit_compile', '-')} | "
            f"{fmt(row.get('first_call_s'), 3)} | "
            f"{fmt(row.get('median_ms'), 4)} | "
            f"{fmt(loss, 4) if isinstance(loss, float) else loss or '-'} | "
            f"{error} |"
        )
    return "\n".join(lines) + "\n"


def run(args, save=None):
    """Times every (preset, policy); `save(report)` after each row, so
    that a run stopped part-way keeps the rows it measured."""
    backend = keras.backend.backend()
    report = {
        "benchmark": "step_times",
        "backend": backend,
        "keras_version": keras.__version__,
        "device": device_string(backend),
        "device_name": device_name(backend),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": f"KERAS_BACKEND={backend} python benchmarks/step_times.py "
        + " ".join(sys.argv[1:]),
        "settings": {
            "presets": list(args.presets),
            "policies": list(args.policies),
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "weights": "initial" if args.no_weights else "preset",
            "jit_compile": JIT_COMPILE[backend],
        },
        "rows": [],
    }
    load_before = round(os.getloadavg()[0], 2)
    for name in args.presets:
        metrics = preset_metrics(name)
        for policy in args.policies:
            row = time_row(name, metrics, policy, args, backend)
            row["device"] = report["device"]
            report["rows"].append(row)
            print(progress_line(row), flush=True)
            # Other work on the machine makes timings noisy: how busy.
            report["load_average"] = [load_before, round(os.getloadavg()[0], 2)]
            if save is not None:
                save(report)
    return report


def save_report(report, output_dir):
    """Writes step_times_<backend>.json and .md (each atomically)."""
    stem = pathlib.Path(output_dir) / f"step_times_{report['backend']}"
    write_json(stem.with_suffix(".json"), report)
    text = markdown(report)
    with atomic_path(stem.with_suffix(".md")) as tmp:
        tmp.write_text(text)
    return stem, text


def main(argv=None):
    args = parse_args(argv)
    report = run(args, save=lambda r: save_report(r, args.output_dir))
    stem, text = save_report(report, args.output_dir)
    print()
    print(text)
    print(f"wrote {stem.with_suffix('.json')} and .md")
    return report


if __name__ == "__main__":
    main()
