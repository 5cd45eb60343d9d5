"""What every training recipe shares: checkpoints, resume, optimizer, record.

A run checkpoints its model (with the optimizer state) and a `progress.json`
after every epoch; a later run of the same recipe on the same data (the
`run_key`) resumes from there. The finished model goes to the preset
directory atomically, with a `metrics.json` saying how it was made.
"""

import dataclasses
import datetime
import json
import os
import pathlib
import platform
import shlex
import time

import keras

from hadamard_zoo import presets
from hadamard_zoo.training.recipes import get_recipe
from hadamard_zoo.utils.atomic import atomic_directory
from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.atomic import write_json
from hadamard_zoo.utils.paths import keras_home
from hadamard_zoo.utils.validation import check_optional_int

CHECKPOINT_FILE = "checkpoint.keras"
PROGRESS_FILE = "progress.json"
REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


class EpochCheckpoint(keras.callbacks.Callback):
    """Selects each epoch's batches; saves the model after every epoch.

    The checkpoint holds the optimizer state too, so a resumed run continues
    the same learning-rate schedule on the same batches.

    Args:
        directory: the checkpoint directory.
        batches: the training `PyDataset`; its `set_epoch(epoch)` picks the
            order (and augmentation) of each epoch.
        progress: the run's progress dict, updated and saved every epoch.
    """

    def __init__(self, directory, batches, progress):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.batches = batches
        self.progress = progress
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.progress["train_seconds"] += time.perf_counter() - self._start
        self.progress["epochs_done"] = epoch + 1
        self.progress["history"].append(
            {k: float(v) for k, v in (logs or {}).items()}
        )
        with atomic_path(self.directory / CHECKPOINT_FILE) as tmp:
            self.model.save(tmp)
        write_json(self.directory / PROGRESS_FILE, self.progress)


def default_checkpoint_dir(name):
    """`$HADAMARD_ZOO_CHECKPOINTS/<name>`, else under the Keras cache."""
    base = os.environ.get("HADAMARD_ZOO_CHECKPOINTS")
    if base is None:
        base = pathlib.Path(keras_home()) / "hadamard_zoo" / "checkpoints"
    return pathlib.Path(base) / name


def default_output_dir(recipe):
    """Shipped recipes go to `presets/`; baselines to `benchmarks/runs/`."""
    if recipe.ship:
        return presets.presets_root() / recipe.name
    return REPO_ROOT / "benchmarks" / "runs" / recipe.name


def run_key(recipe, examples):
    """What must match for a checkpoint to be resumed."""
    return json.dumps(
        {"recipe": recipe.to_dict(), "examples": int(examples)},
        sort_keys=True,
        default=list,
    )


def load_progress(directory, key):
    """The saved progress of run `key` in `directory`, or `None`."""
    directory = pathlib.Path(directory)
    try:
        progress = json.loads((directory / PROGRESS_FILE).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    if progress.get("run_key") != key:
        return None
    if not (directory / CHECKPOINT_FILE).exists():
        return None
    return progress


def new_progress(key):
    """The progress of a run that has not trained yet."""
    return {
        "run_key": key,
        "epochs_done": 0,
        "train_seconds": 0.0,
        "history": [],
    }


def make_optimizer(recipe, steps):
    """SGD (momentum 0.9) or Adam(W), constant or cosine over `steps`."""
    learning_rate = recipe.learning_rate
    if recipe.schedule == "cosine":
        learning_rate = keras.optimizers.schedules.CosineDecay(
            recipe.learning_rate, decay_steps=steps
        )
    weight_decay = recipe.weight_decay or None
    if recipe.optimizer == "adam":
        return keras.optimizers.Adam(learning_rate, weight_decay=weight_decay)
    if recipe.optimizer == "adamw":
        return keras.optimizers.AdamW(
            learning_rate, weight_decay=recipe.weight_decay
        )
    return keras.optimizers.SGD(
        learning_rate, momentum=0.9, weight_decay=weight_decay
    )


def run_record(recipe, model, results, progress, split, examples):
    """The `metrics.json` of a finished run (without its command)."""
    return {
        "preset": recipe.name,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "split": split,
        "examples": int(examples),
        "metric": "accuracy",
        "value": round(float(results["accuracy"]), 4),
        "loss": round(float(results["loss"]), 4),
        "parameters": int(model.count_params()),
        "epochs": recipe.epochs,
        "train_seconds": round(progress["train_seconds"], 1),
        "history": progress["history"],
        "baseline_of": recipe.baseline_of,
        "recipe": recipe.to_dict(),
        **environment_record(),
    }


def environment_record():
    """When, where and with what a run was made, for `metrics.json`."""
    return {
        "date": datetime.date.today().isoformat(),
        "backend": keras.backend.backend(),
        "keras_version": keras.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores",
    }


def with_seed(recipe, seed):
    """`recipe` with its seed replaced by `seed` (unchanged when None)."""
    seed = check_optional_int("seed", seed, minimum=0)
    if seed is None:
        return recipe
    return dataclasses.replace(recipe, seed=seed)


def with_epochs(recipe, epochs):
    """`recipe` shortened or lengthened to `epochs` (unchanged when None).

    A recipe counted in steps (`steps`, `steps_per_epoch`) gets
    `epochs * steps_per_epoch` steps.
    """
    epochs = check_optional_int("epochs", epochs, minimum=1)
    if epochs is None:
        return recipe
    fields = {field.name for field in dataclasses.fields(recipe)}
    if "steps_per_epoch" in fields:
        return dataclasses.replace(
            recipe, steps=epochs * recipe.steps_per_epoch
        )
    return dataclasses.replace(recipe, epochs=epochs)


def resolve_run(
    name,
    seed=None,
    epochs=None,
    output_dir=None,
    checkpoint_dir=None,
    overrides=None,
):
    """The recipe a `train()` call runs, and the directories it writes.

    Returns `(recipe, output_dir, checkpoint_dir)`: recipe `name` with the
    call's `overrides` (a dict of recipe fields), seed and epochs, the
    preset directory (`default_output_dir` unless given) and the
    checkpoint directory (`default_checkpoint_dir` unless given).
    """
    recipe = get_recipe(name)
    if overrides:
        recipe = dataclasses.replace(recipe, **overrides)
    recipe = with_epochs(with_seed(recipe, seed), epochs)
    output_dir = pathlib.Path(output_dir or default_output_dir(recipe))
    checkpoint_dir = pathlib.Path(
        checkpoint_dir or default_checkpoint_dir(recipe.name)
    )
    return recipe, output_dir, checkpoint_dir


def train_command(
    name, epochs=None, max_train_examples=None, flags=(), seed=None
):
    """The shell command that reproduces a run, backend included."""
    words = ["hadamard-zoo", "train", name]
    if epochs is not None:
        words += ["--epochs", str(epochs)]
    if max_train_examples:
        words += ["--max-train-examples", str(max_train_examples)]
    if seed is not None:
        words += ["--seed", str(seed)]
    words += list(flags)
    command = shlex.join(words)
    return f"KERAS_BACKEND={keras.backend.backend()} {command}"


def enable_data_parallel():
    """Shards every batch over all local devices (JAX only)."""
    if keras.backend.backend() != "jax":
        raise ValueError(
            "`data_parallel=True` needs the JAX backend (keras.distribution "
            f"is JAX-only). Current backend: {keras.backend.backend()}."
        )
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices)
    )


def resume_or_compile(classifier, recipe, checkpoint_dir, key, resume, compile):
    """`(model, progress)`: the checkpointed run `key`, or a fresh one.

    A fresh run trains a plain `keras.Model` over the classifier's layers
    (keras-hub's `Task.fit` routes data through tf.data; the plain model
    trains the same weights from the already preprocessed batches on any
    backend), compiled by `compile(model)`.
    """
    checkpoint_dir = pathlib.Path(checkpoint_dir)
    progress = load_progress(checkpoint_dir, key) if resume else None
    if progress is not None:
        print(
            f"Resuming {recipe.name} after epoch {progress['epochs_done']} "
            f"from {checkpoint_dir}"
        )
        return keras.saving.load_model(checkpoint_dir / CHECKPOINT_FILE), (
            progress
        )
    model = keras.Model(classifier.inputs, classifier.outputs)
    compile(model)
    return model, new_progress(key)


def fit_remaining_epochs(
    model,
    batches,
    recipe,
    checkpoint_dir,
    progress,
    verbose,
    checkpoint_cls=EpochCheckpoint,
):
    """Trains the epochs `progress` has not done, checkpointing each."""
    checkpoint_dir = pathlib.Path(checkpoint_dir)
    checkpoint_dir.mkdir(parents=True, exist_ok=True)
    if progress["epochs_done"] >= recipe.epochs:
        return
    model.fit(
        batches,
        epochs=recipe.epochs,
        initial_epoch=progress["epochs_done"],
        # The batches shuffle by (seed, epoch); Keras' own shuffling of
        # batch indices would make a resumed run see other batches.
        shuffle=False,
        callbacks=[checkpoint_cls(checkpoint_dir, batches, progress)],
        verbose=verbose,
    )


def write_preset(output_dir, classifier, metrics):
    """Saves the classifier and its `metrics.json` as one atomic directory."""
    with atomic_directory(output_dir) as tmp:
        classifier.save_to_preset(str(tmp))
        write_json(tmp / presets.METRICS_FILE, metrics)
