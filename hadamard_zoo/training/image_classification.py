"""Trains an image-classification recipe into a preset directory.

`train("pinet_ccp_mnist")` is what `hadamard-zoo train pinet_ccp_mnist`
runs: it seeds everything, trains with a progress bar, checkpoints after
every epoch (and resumes from the last checkpoint of the same recipe),
evaluates on the full official test set, and writes the preset directory
atomically with its `metrics.json`.
"""

import keras
import numpy as np

from hadamard_zoo.training import runs
from hadamard_zoo.training.image_batches import ImageBatches

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)


def load_split(dataset, split, data_dir=None):
    """`(uint8 images (N, 28, 28), int labels (N,))` of a dataset split."""
    from hadamard_zoo import datasets

    loaders = {
        "mnist": datasets.load_mnist,
        "fashion_mnist": datasets.load_fashion_mnist,
    }
    images, labels = loaders[dataset](split=split, data_dir=data_dir)
    return images, labels.astype("int32")


def scale_images(images, recipe):
    """uint8 `(N, H, W)` → float32 `(N, H, W, 1)`, as the preprocessor does."""
    images = images.astype("float32")[..., None]
    return images * np.float32(recipe.scale) + np.float32(recipe.offset)


# Each family's backbone, image converter, preprocessor and classifier
# class names in `hadamard_zoo.models.<family>`.
FAMILY_CLASSES = {
    "pinet": (
        "PiNetBackbone",
        "PiNetImageConverter",
        "PiNetImageClassifierPreprocessor",
        "PiNetImageClassifier",
    ),
    "monet": (
        "MONetBackbone",
        "MONetImageConverter",
        "MONetImageClassifierPreprocessor",
        "MONetImageClassifier",
    ),
}


def build_classifier(recipe):
    """The untrained image classifier (with preprocessor) of a recipe."""
    import importlib

    if recipe.family not in FAMILY_CLASSES:
        raise ValueError(
            f"Recipe {recipe.name!r} names an unknown model family "
            f"{recipe.family!r}; expected one of {sorted(FAMILY_CLASSES)}."
        )
    module = importlib.import_module(f"hadamard_zoo.models.{recipe.family}")
    backbone_cls, converter_cls, preprocessor_cls, classifier_cls = (
        getattr(module, name) for name in FAMILY_CLASSES[recipe.family]
    )
    backbone = backbone_cls(image_shape=IMAGE_SHAPE, **recipe.backbone)
    converter = converter_cls(
        image_size=IMAGE_SHAPE[:2],
        scale=recipe.scale,
        offset=recipe.offset,
        channels=IMAGE_SHAPE[-1],
    )
    preprocessor = preprocessor_cls(image_converter=converter)
    return classifier_cls(
        backbone=backbone, num_classes=NUM_CLASSES, preprocessor=preprocessor
    )


def _compile(model, recipe, steps):
    model.compile(
        optimizer=runs.make_optimizer(recipe, steps),
        loss=keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=recipe.label_smoothing
        )
        if recipe.label_smoothing
        else keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


# A module attribute, so tests can interrupt a run after an epoch.
_Checkpoint = runs.EpochCheckpoint


def _labels_for(recipe, labels):
    if recipe.label_smoothing:
        return keras.utils.to_categorical(labels, NUM_CLASSES)
    return labels


def train(
    name,
    output_dir=None,
    checkpoint_dir=None,
    epochs=None,
    max_train_examples=None,
    resume=True,
    data_parallel=False,
    data_dir=None,
    verbose="auto",
    seed=None,
):
    """Trains recipe `name` and writes its preset (or baseline) directory.

    Args:
        name: a recipe name (`hadamard_zoo.training.RECIPES`).
        output_dir: where the preset directory goes. Defaults to
            `presets/<name>` for shipped recipes, `benchmarks/runs/<name>`
            for baselines.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to
            `$HADAMARD_ZOO_CHECKPOINTS/<name>` or the Keras cache.
        epochs: overrides the recipe's number of epochs (smoke runs).
        max_train_examples: trains on the first N training examples only
            (smoke runs); the test set is always complete.
        resume: continue from the last checkpoint of the same run, if any.
        data_parallel: on JAX, shard every batch over all local devices
            with `keras.distribution.DataParallel`.
        data_dir: dataset directory (see `hadamard_zoo.datasets`).
        verbose: `model.fit` verbosity (1 shows a progress bar).
        seed: overrides the recipe's seed (a second run of the same
            recipe); recorded in the preset's recipe and command.

    Returns:
        The metrics dict written to `metrics.json`.
    """
    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        name, seed, epochs, output_dir, checkpoint_dir
    )
    if data_parallel:
        _enable_data_parallel()

    train_images, train_labels = load_split(recipe.dataset, "train", data_dir)
    test_images, test_labels = load_split(recipe.dataset, "test", data_dir)
    if max_train_examples:
        train_images = train_images[:max_train_examples]
        train_labels = train_labels[:max_train_examples]
    train_batches = ImageBatches(
        scale_images(train_images, recipe),
        _labels_for(recipe, train_labels),
        recipe.batch_size,
        seed=recipe.seed,
        shift=recipe.shift,
        flip=recipe.flip,
    )
    steps = len(train_batches) * recipe.epochs

    key = runs.run_key(recipe, len(train_images))
    keras.utils.set_random_seed(recipe.seed)
    classifier = build_classifier(recipe)
    model, progress = runs.resume_or_compile(
        classifier,
        recipe,
        checkpoint_dir,
        key,
        resume,
        lambda model: _compile(model, recipe, steps),
    )
    runs.fit_remaining_epochs(
        model,
        train_batches,
        recipe,
        checkpoint_dir,
        progress,
        verbose,
        # Looked up at call time, so tests can interrupt a run.
        checkpoint_cls=_Checkpoint,
    )

    test_batches = ImageBatches(
        scale_images(test_images, recipe),
        _labels_for(recipe, test_labels),
        1000,
        shuffle=False,
    )
    results = model.evaluate(test_batches, return_dict=True, verbose=0)
    classifier.set_weights(model.get_weights())
    metrics = runs.run_record(
        recipe, classifier, results, progress, "test", len(test_images)
    )
    metrics["command"] = runs.train_command(
        name,
        epochs,
        max_train_examples,
        ["--data-parallel"] if data_parallel else [],
        seed=seed,
    )
    runs.write_preset(output_dir, classifier, metrics)
    print(
        f"{recipe.name}: test accuracy {metrics['value']:.4f} "
        f"({metrics['train_seconds']:.0f} s of training) -> {output_dir}"
    )
    return metrics


def _enable_data_parallel():
    runs.enable_data_parallel()
