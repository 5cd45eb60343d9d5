"""Trains an image-generation recipe (a GAN) into a generator preset.

`train("stylegan_fashion_mnist")` is what `hadamard-zoo train
stylegan_fashion_mnist` runs: the training images scaled to [-1, 1] and
padded from 28x28 to 32x32 with background, batches drawn in a seeded
order, `GANTrainer` steps checkpointed (generator, discriminator, EMA
generator and both optimizers) every `steps_per_epoch` steps and resumed
from there, then the classifier FID of the shipped generator (the EMA one
when the recipe keeps one) and its floor, and the preset directory written
atomically: the generator saved by keras-hub's `save_to_preset`, a
`metrics.json` and a `samples.png` grid of generated images.

The FID protocol. The test split is shuffled (seeded) into two disjoint
sets of `n = fid_samples` images, a reference `R` and a held-out `H`.
The reported FID is `FID(R, G)` for `n` generated images `G`; its floor is
`FID(R, H)`, real against real at the same sample size, the held-out
images taken through the generator's 28 -> 32 -> 28 round trip exactly as
generated ones are (padding, then the centre crop that undoes it, then
`to_classifier_images`' quantisation). A SPADE generator draws `G` from
the label maps of `H`, so its floor is the FID of the very images whose
layouts it was given, and the classifier's accuracy on `G` against the
classes those maps request is reported next to its accuracy on `H`. An
EMA generator with batch normalization (the DCGAN baseline) is measured
and shipped with statistics recomputed for its averaged weights (see
`standing_statistics`).
"""

import keras
import numpy as np

from hadamard_zoo.generation import reseed
from hadamard_zoo.generation import sample_images
from hadamard_zoo.training import runs
from hadamard_zoo.training.image_classification import load_split
from hadamard_zoo.training.label_maps import one_hot_label_maps
from hadamard_zoo.training.label_maps import pad_center
from hadamard_zoo.training.label_maps import silhouette_label_maps
from hadamard_zoo.utils.atomic import atomic_directory

NUM_CLASSES = 10
IMAGE_SIZE = 28
SAMPLES_FILE = "samples.png"
GRID_IMAGES = 64
# Salt of the test split's shuffle, apart from the batches' (seed, epoch).
EVAL_STREAM = 1_000_003
# Generated images whose batch statistics an EMA generator ships with.
STANDING_BATCH = 1024


def to_generator_images(images, resolution=32):
    """uint8 `(N, 28, 28)` -> float32 `(N, R, R, 1)` in [-1, 1], padded.

    `x / 127.5 - 1`, then padded with the background value -1 to
    `resolution`.
    """
    images = np.asarray(images).astype("float32")[..., None]
    return pad_center(images / 127.5 - 1.0, resolution, -1.0)


def to_classifier_pixels(images):
    """`(N, R, R, C)` in [-1, 1] -> uint8 `(N, 28, 28, C)` classifier pixels.

    The centre crop undoes `to_generator_images`' padding, so real images
    come back unchanged; generated ones lose their border, which is
    background in every training image.
    """
    from hadamard_zoo.evaluation.fid import to_classifier_images

    images = np.asarray(images)
    top = (images.shape[1] - IMAGE_SIZE) // 2
    left = (images.shape[2] - IMAGE_SIZE) // 2
    crop = images[:, top : top + IMAGE_SIZE, left : left + IMAGE_SIZE]
    return to_classifier_images(crop, (IMAGE_SIZE, IMAGE_SIZE))


class GenerationBatches(keras.utils.PyDataset):
    """`steps_per_epoch` full batches of real images per epoch, seeded.

    Epoch `e` reads the images in the order of consecutive permutations
    drawn from `numpy.random.default_rng([seed, e])`, so a resumed run sees
    the batches an uninterrupted one would, on every backend. A batch is
    the images in [-1, 1] at `resolution`, and with `classes` also their
    one-hot silhouette label maps: `(images, label_maps)`.

    Args:
        images: uint8 array `(N, 28, 28)`.
        classes: int array `(N,)`, or `None` for images alone.
        batch_size: images per batch.
        steps_per_epoch: batches per epoch.
        seed: the seed of the order.
        resolution: the padded image size. Defaults to `32`.
    """

    def __init__(
        self, images, classes, batch_size, steps_per_epoch, seed, resolution=32
    ):
        super().__init__()
        self.images = np.asarray(images)
        self.classes = None if classes is None else np.asarray(classes)
        self.batch_size = batch_size
        self.steps_per_epoch = steps_per_epoch
        self.seed = seed
        self.resolution = resolution
        self.epoch = 0
        self._order = None

    def __len__(self):
        return self.steps_per_epoch

    def set_epoch(self, epoch):
        """Selects the order of epoch `epoch` (see `ArrayBatches`)."""
        self.epoch = epoch
        self._order = None

    def _epoch_order(self):
        if self._order is None:
            rng = np.random.default_rng([self.seed, self.epoch])
            count = len(self.images)
            needed = self.steps_per_epoch * self.batch_size
            passes = -(-needed // count)
            self._order = np.concatenate(
                [rng.permutation(count) for _ in range(passes)]
            )[:needed]
        return self._order

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(index)
        start = index * self.batch_size
        rows = self._epoch_order()[start : start + self.batch_size]
        images = to_generator_images(self.images[rows], self.resolution)
        if self.classes is None:
            return images
        maps = silhouette_label_maps(
            self.images[rows], self.classes[rows], size=self.resolution
        )
        return images, one_hot_label_maps(maps, NUM_CLASSES + 1)


def build_generator(recipe):
    """The recipe's untrained generator."""
    from hadamard_zoo.models import spade
    from hadamard_zoo.models import stylegan

    if recipe.generator == "spade":
        return spade.SPADEGenerator(
            num_classes=NUM_CLASSES + 1,
            resolution=recipe.resolution,
            latent_dim=recipe.latent_dim,
            **recipe.generator_kwargs,
        )
    cls = {
        "stylegan": stylegan.StyleGANGenerator,
        "dcgan": stylegan.DCGANGenerator,
    }[recipe.generator]
    return cls(
        latent_dim=recipe.latent_dim,
        resolution=recipe.resolution,
        **recipe.generator_kwargs,
    )


def build_discriminator(recipe):
    """The recipe's untrained discriminator."""
    from hadamard_zoo.models import spade
    from hadamard_zoo.models import stylegan

    size = recipe.resolution
    if recipe.discriminator == "patchgan":
        return spade.PatchGANDiscriminator(
            image_shape=(size, size, 1),
            num_classes=NUM_CLASSES + 1,
            **recipe.discriminator_kwargs,
        )
    cls = {
        "stylegan": stylegan.StyleGANDiscriminator,
        "dcgan": stylegan.DCGANDiscriminator,
    }[recipe.discriminator]
    return cls(resolution=size, **recipe.discriminator_kwargs)


def build_trainer(recipe):
    """The recipe's compiled, untrained `GANTrainer`."""
    from hadamard_zoo.training.gan_trainer import GANTrainer

    trainer = GANTrainer(
        build_generator(recipe),
        build_discriminator(recipe),
        loss=recipe.loss,
        r1_gamma=recipe.r1_gamma,
        r1_interval=recipe.r1_interval,
        ema_decay=recipe.ema_decay,
        feature_matching_weight=recipe.feature_matching_weight,
        conditional=recipe.conditional,
        seed=recipe.seed,
    )

    def adam(learning_rate, betas):
        # StyleGAN2's and SPADE's epsilon (PyTorch's default).
        return keras.optimizers.Adam(
            learning_rate, beta_1=betas[0], beta_2=betas[1], epsilon=1e-8
        )

    trainer.compile(
        generator_optimizer=adam(
            recipe.generator_learning_rate, recipe.generator_betas
        ),
        discriminator_optimizer=adam(
            recipe.discriminator_learning_rate, recipe.discriminator_betas
        ),
    )
    return trainer


class GenerationCheckpoint(runs.EpochCheckpoint):
    """`EpochCheckpoint` that also restarts the random streams each epoch.

    Keras does not save the state of `SeedGenerator`s (the latent draws,
    StyleGAN's noise), so each epoch restarts them from `(seed, epoch)`:
    a resumed run draws what an uninterrupted one would.
    """

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        reseed(self.model, [self.batches.seed, epoch])


# A module attribute, so tests can interrupt a run after an epoch.
_Checkpoint = GenerationCheckpoint


def shipped_generator(trainer):
    """A trainable copy of the generator that ships: the EMA one if any."""
    source = trainer.ema_generator or trainer.generator
    generator = type(trainer.generator).from_config(
        trainer.generator.get_config()
    )
    weights = {w.path: w for w in source.weights}
    for weight in generator.weights:
        weight.assign(weights[weight.path])
    return generator


def standing_statistics(generator, inputs):
    """Sets every batch normalization's moving statistics to `inputs`' own.

    An EMA generator averages the weights, but its moving means and
    variances are copied from the live generator, whose weights produced
    them: they do not match the averaged weights. One forward pass in
    training mode, with every momentum set to 0, replaces them with the
    statistics of the averaged network on the batch `inputs` (BigGAN's
    "standing statistics", from one large batch). Generators without batch
    normalization are left alone (a training call would also move
    StyleGAN's `w_avg`).

    Args:
        generator: a functional generator.
        inputs: a large batch of its inputs (`{"z": ...}`, and a label map
            for SPADE).

    Returns:
        The number of batch normalizations recalibrated.
    """
    norms = [
        layer
        # Nested too: SPADE's normalizations sit inside its blocks.
        for layer in generator._flatten_layers(include_self=False)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    momenta = [norm.momentum for norm in norms]
    if not norms:
        return 0
    try:
        for norm in norms:
            norm.momentum = 0.0
        generator(inputs, training=True)
    finally:
        for norm, momentum in zip(norms, momenta, strict=True):
            norm.momentum = momentum
    return len(norms)


def _standing_inputs(recipe, generator, images, classes):
    """`STANDING_BATCH` latents (and training label maps), seeded."""
    rng = np.random.default_rng([recipe.seed, EVAL_STREAM + 1])
    inputs = {
        "z": rng.standard_normal((STANDING_BATCH, generator.latent_dim)).astype(
            "float32"
        )
    }
    if recipe.conditional:
        rows = rng.integers(0, len(images), STANDING_BATCH)
        maps = silhouette_label_maps(
            images[rows], classes[rows], size=recipe.resolution
        )
        inputs["segmap"] = one_hot_label_maps(maps, NUM_CLASSES + 1)
    return inputs


def evaluate(recipe, generator, test_images, test_classes, classifier):
    """FID, its floor and (SPADE) class accuracies; see the module doc.

    Returns:
        `(results, generated)`: a dict with `fid`, `floor`, `examples`
        (`n`) and for SPADE `class_accuracy` and `real_class_accuracy`,
        and the `n` generated images in [-1, 1].
    """
    from hadamard_zoo.evaluation import fid

    count = min(recipe.fid_samples, len(test_images) // 2)
    rng = np.random.default_rng([recipe.seed, EVAL_STREAM])
    order = rng.permutation(len(test_images))
    reference, held_out = order[:count], order[count : 2 * count]

    def real_pixels(rows):
        images = to_generator_images(test_images[rows], recipe.resolution)
        return to_classifier_pixels(images)

    label_maps = None
    if recipe.conditional:
        label_maps = silhouette_label_maps(
            test_images[held_out],
            test_classes[held_out],
            size=recipe.resolution,
        )
    generated = sample_images(
        generator, count, seed=recipe.seed, label_maps=label_maps
    )
    pixels = {
        "reference": real_pixels(reference),
        "held_out": real_pixels(held_out),
        "generated": to_classifier_pixels(generated),
    }
    # Features and logits from one pass: SPADE's class accuracies read the
    # logits of the very images whose features enter its FID.
    outputs = {
        key: fid.classifier_features_and_logits(classifier, value)
        for key, value in pixels.items()
    }
    stats = {
        key: fid.feature_statistics(features)
        for key, (features, _) in outputs.items()
    }
    results = {
        "fid": fid.frechet_distance(*stats["reference"], *stats["generated"]),
        "floor": fid.frechet_distance(*stats["reference"], *stats["held_out"]),
        "examples": int(count),
    }
    if recipe.conditional:
        classes = test_classes[held_out]
        for key, images in (
            ("class_accuracy", "generated"),
            ("real_class_accuracy", "held_out"),
        ):
            predicted = np.argmax(outputs[images][1], axis=-1)
            results[key] = float(np.mean(predicted == classes))
    return results, generated


def write_generator_preset(output_dir, generator, metrics, grid_images):
    """Generator, `metrics.json` and `samples.png` as one atomic directory."""
    from hadamard_zoo import presets
    from hadamard_zoo.image_grid import write_image_grid

    with atomic_directory(output_dir) as tmp:
        generator.save_to_preset(str(tmp))
        write_image_grid(tmp / SAMPLES_FILE, grid_images)
        runs.write_json(tmp / presets.METRICS_FILE, metrics)


def _resume_or_build(recipe, checkpoint_dir, key, resume):
    progress = runs.load_progress(checkpoint_dir, key) if resume else None
    if progress is None:
        return build_trainer(recipe), runs.new_progress(key)
    print(
        f"Resuming {recipe.name} after epoch {progress['epochs_done']} "
        f"from {checkpoint_dir}"
    )
    trainer = keras.saving.load_model(checkpoint_dir / runs.CHECKPOINT_FILE)
    return trainer, progress


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
    overrides=None,
):
    """Trains image-generation recipe `name` and writes its preset.

    Args:
        name: a recipe name (`hadamard_zoo.training.RECIPES`).
        output_dir: where the preset directory goes. Defaults to
            `presets/<name>` for shipped recipes, `benchmarks/runs/<name>`
            for baselines.
        checkpoint_dir: where per-epoch checkpoints go. Defaults to
            `$HADAMARD_ZOO_CHECKPOINTS/<name>` or the Keras cache.
        epochs: overrides the number of epochs (of `steps_per_epoch`
            steps each) for smoke runs.
        max_train_examples: trains on the first N training images only
            (smoke runs); the FID sets come from the test split.
        resume: continue from the last checkpoint of the same run, if any.
        data_parallel: on JAX, shard every batch over all local devices
            with `keras.distribution.DataParallel`.
        data_dir: dataset directory (see `hadamard_zoo.datasets`).
        verbose: `fit` verbosity (1 shows a progress bar).
        seed: overrides the recipe's seed (a second run of the same
            recipe); recorded in the preset's recipe and command.
        overrides: optional dict of recipe fields to replace (smaller
            models, fewer FID samples, another classifier: tests and
            experiments). They are recorded in `metrics.json`; the
            recorded command does not reproduce them.

    Returns:
        The metrics dict written to `metrics.json`.
    """
    import hadamard_zoo

    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        name, seed, epochs, output_dir, checkpoint_dir, overrides
    )
    if data_parallel:
        runs.enable_data_parallel()

    train_images, train_classes = load_split(recipe.dataset, "train", data_dir)
    test_images, test_classes = load_split(recipe.dataset, "test", data_dir)
    if max_train_examples:
        train_images = train_images[:max_train_examples]
        train_classes = train_classes[:max_train_examples]
    batches = GenerationBatches(
        train_images,
        train_classes if recipe.conditional else None,
        recipe.batch_size,
        recipe.steps_per_epoch,
        seed=recipe.seed,
        resolution=recipe.resolution,
    )
    key = runs.run_key(recipe, len(train_images))
    keras.utils.set_random_seed(recipe.seed)
    trainer, progress = _resume_or_build(recipe, checkpoint_dir, key, resume)
    runs.fit_remaining_epochs(
        trainer,
        batches,
        recipe,
        checkpoint_dir,
        progress,
        verbose,
        # Looked up at call time, so tests can interrupt a run.
        checkpoint_cls=_Checkpoint,
    )

    generator = shipped_generator(trainer)
    if trainer.ema_generator is not None:
        standing_statistics(
            generator,
            _standing_inputs(recipe, generator, train_images, train_classes),
        )
    classifier = hadamard_zoo.load_classifier(recipe.fid_classifier)
    results, generated = evaluate(
        recipe, generator, test_images, test_classes, classifier
    )
    metrics = {
        "preset": recipe.name,
        "description": recipe.description,
        "dataset": recipe.dataset,
        "split": "test",
        "examples": results["examples"],
        "metric": "fid",
        "value": round(results["fid"], 4),
        "floor": round(results["floor"], 4),
        "fid_classifier": recipe.fid_classifier,
    }
    for key_name in ("class_accuracy", "real_class_accuracy"):
        if key_name in results:
            metrics[key_name] = round(results[key_name], 4)
    metrics.update(
        {
            "parameters": int(generator.count_params()),
            "discriminator_parameters": int(
                trainer.discriminator.count_params()
            ),
            "ema": recipe.ema_decay is not None,
            "steps": recipe.steps,
            "epochs": recipe.epochs,
            "train_seconds": round(progress["train_seconds"], 1),
            "history": progress["history"],
            "baseline_of": recipe.baseline_of,
            "recipe": recipe.to_dict(),
            **runs.environment_record(),
            "command": runs.train_command(
                name,
                epochs,
                max_train_examples,
                ["--data-parallel"] if data_parallel else [],
                seed=seed,
            ),
        }
    )
    if overrides:
        metrics["overrides"] = dict(overrides)
    write_generator_preset(
        output_dir, generator, metrics, generated[:GRID_IMAGES]
    )
    extra = ""
    if "class_accuracy" in metrics:
        extra = f", class accuracy {metrics['class_accuracy']:.4f}"
    print(
        f"{recipe.name}: FID {metrics['value']:.3f} (floor "
        f"{metrics['floor']:.3f}{extra}, {metrics['train_seconds']:.0f} s "
        f"of training) -> {output_dir}"
    )
    return metrics
