import json

import keras
import numpy as np
import pytest
from PIL import Image

from hadamard_zoo.generation import load_generator
from hadamard_zoo.training import RECIPES
from hadamard_zoo.training import image_generation
from hadamard_zoo.training import train
from hadamard_zoo.training.image_classification import load_split
from hadamard_zoo.training.recipes import ImageGenerationRecipe

PRESET_FILES = (
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "metrics.json",
    "samples.png",
)
EXAMPLES = 64
FID_SAMPLES = 16
# Tiny models, two steps of 8 images per epoch, R1 every other step.
TINY = {
    "stylegan": dict(
        generator_kwargs=dict(
            w_dim=8, mapping_layers=1, base_filters=4, max_filters=8
        ),
        discriminator_kwargs=dict(base_filters=4, max_filters=8),
        r1_interval=2,
    ),
    "spade": dict(
        generator_kwargs=dict(base_filters=4, max_filters=8, hidden_filters=4),
        discriminator_kwargs=dict(num_layers=2, base_filters=4, max_filters=8),
    ),
}


def overrides(family, classifier):
    return dict(
        TINY[family],
        latent_dim=8,
        batch_size=8,
        steps=4,
        steps_per_epoch=2,
        fid_samples=FID_SAMPLES,
        fid_classifier=classifier,
    )


@pytest.fixture(scope="module")
def classifier(tiny_preset_root):
    """A quickly trained classifier preset for the FID's features."""
    return str(tiny_preset_root / "pinet_ccp_mnist")


def _train(root, classifier, name="stylegan_mnist", **kwargs):
    family = name.split("_")[0]
    return train(
        name,
        output_dir=root / "out" / name,
        checkpoint_dir=root / "checkpoints",
        max_train_examples=EXAMPLES,
        verbose=0,
        overrides=overrides(family, classifier),
        **kwargs,
    )


@pytest.fixture(scope="module")
def stylegan_run(tmp_path_factory, classifier):
    """Two epochs of a tiny `stylegan_mnist`: `(root, metrics)`."""
    root = tmp_path_factory.mktemp("stylegan")
    return root, _train(root, classifier)


def weights_of(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def test_writes_a_generator_preset_with_fid_and_samples(stylegan_run):
    root, metrics = stylegan_run
    preset = root / "out" / "stylegan_mnist"
    for name in PRESET_FILES:
        assert (preset / name).is_file(), name
    saved = json.loads((preset / "metrics.json").read_text())
    assert saved == json.loads(json.dumps(metrics))
    assert metrics["metric"] == "fid" and metrics["dataset"] == "mnist"
    assert metrics["examples"] == FID_SAMPLES and metrics["split"] == "test"
    # An untrained generator is far from real digits; real halves are not.
    assert metrics["value"] > metrics["floor"] > 0
    assert metrics["steps"] == 4 and len(metrics["history"]) == 2
    assert set(metrics["history"][0]) == {"d_loss", "g_loss", "r1_penalty"}
    assert metrics["ema"] and metrics["overrides"]["batch_size"] == 8
    assert metrics["command"].endswith(
        "hadamard-zoo train stylegan_mnist --max-train-examples 64"
    )
    # The 16 generated images, 4 x 4 cells of 32 + 1 pixels.
    with Image.open(preset / "samples.png") as grid:
        assert grid.size == (4 * 33 + 1, 4 * 33 + 1)

    generator = load_generator(str(preset))
    assert type(generator).__name__ == "StyleGANGenerator"
    assert generator.trainable and generator.latent_dim == 8
    assert generator.count_params() == metrics["parameters"]
    # What ships is the EMA generator of the last checkpoint.
    checkpoint = keras.saving.load_model(
        root / "checkpoints" / "checkpoint.keras"
    )
    for shipped, average in zip(
        weights_of(generator),
        weights_of(checkpoint.ema_generator),
        strict=True,
    ):
        np.testing.assert_array_equal(shipped, average)


def test_the_preset_re_measures_its_fid_from_its_metrics(stylegan_run):
    # What tests/test_preset_accuracy.py does with a bundled generator:
    # rebuild the recipe from metrics.json, reload both presets by path.
    import hadamard_zoo

    root, metrics = stylegan_run
    recipe = ImageGenerationRecipe(**metrics["recipe"])
    images, classes = load_split(recipe.dataset, "test")
    results, _ = image_generation.evaluate(
        recipe,
        load_generator(str(root / "out" / "stylegan_mnist")),
        images,
        classes,
        hadamard_zoo.load_classifier(metrics["fid_classifier"]),
    )
    assert results["examples"] == metrics["examples"] == FID_SAMPLES
    assert results["fid"] == pytest.approx(metrics["value"], rel=1e-3)
    assert results["floor"] == pytest.approx(metrics["floor"], rel=1e-3)


def test_resumes_from_the_last_checkpoint(
    stylegan_run, classifier, tmp_path, monkeypatch, capsys
):
    full_root, full = stylegan_run

    class Interrupted(Exception):
        pass

    class CrashAfterFirstEpoch(image_generation._Checkpoint):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            raise Interrupted

    with monkeypatch.context() as patch:
        patch.setattr(image_generation, "_Checkpoint", CrashAfterFirstEpoch)
        with pytest.raises(Interrupted):
            _train(tmp_path, classifier)
    progress = json.loads(
        (tmp_path / "checkpoints" / "progress.json").read_text()
    )
    assert progress["epochs_done"] == 1
    assert not (tmp_path / "out" / "stylegan_mnist").exists()

    resumed = _train(tmp_path, classifier)
    assert "Resuming stylegan_mnist after epoch 1" in capsys.readouterr().out
    assert len(resumed["history"]) == 2
    # The same batches, latents, noise and optimizer states: the same run.
    for key in ("d_loss", "g_loss", "r1_penalty"):
        assert resumed["history"][1][key] == pytest.approx(
            full["history"][1][key], rel=1e-4, abs=1e-5
        )
    for ours, theirs in zip(
        weights_of(load_generator(str(tmp_path / "out" / "stylegan_mnist"))),
        weights_of(load_generator(str(full_root / "out" / "stylegan_mnist"))),
        strict=True,
    ):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    assert resumed["value"] == pytest.approx(full["value"], rel=1e-3)


def test_failure_leaves_no_partial_preset(
    stylegan_run, classifier, monkeypatch
):
    from hadamard_zoo.training import runs

    root, _ = stylegan_run
    write_json = runs.write_json

    def broken(path, data):
        if path.name == "metrics.json":
            raise RuntimeError("disk full")
        write_json(path, data)

    monkeypatch.setattr(runs, "write_json", broken)
    out = root / "failing"
    with pytest.raises(RuntimeError, match="disk full"):
        # The finished checkpoint is resumed: evaluation and writing only.
        train(
            "stylegan_mnist",
            output_dir=out / "stylegan_mnist",
            checkpoint_dir=root / "checkpoints",
            max_train_examples=EXAMPLES,
            verbose=0,
            overrides=overrides("stylegan", classifier),
        )
    assert not (out / "stylegan_mnist").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_spade_preset_reports_class_accuracy(tmp_path, classifier):
    metrics = _train(tmp_path, classifier, name="spade_fashion_mnist", epochs=1)
    assert metrics["metric"] == "fid" and metrics["steps"] == 2
    assert not metrics["ema"]
    assert set(metrics["history"][0]) == {"d_loss", "g_loss"}
    for key in ("class_accuracy", "real_class_accuracy"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["command"].endswith(
        "train spade_fashion_mnist --epochs 1 --max-train-examples 64"
    )
    generator = load_generator(str(tmp_path / "out" / "spade_fashion_mnist"))
    assert type(generator).__name__ == "SPADEGenerator"
    assert generator.num_classes == 11


@pytest.mark.parametrize("conditional", [False, True])
def test_floor_is_the_fid_of_held_out_images(
    classifier, monkeypatch, conditional
):
    """A generator that returns the held-out images scores the floor."""
    import hadamard_zoo

    name = "spade_fashion_mnist" if conditional else "stylegan_mnist"
    recipe = RECIPES[name]
    images, classes = load_split(recipe.dataset, "test")
    recipe = ImageGenerationRecipe(
        **dict(recipe.to_dict(), fid_samples=40, fid_classifier=classifier)
    )
    requested = {}

    def copy_held_out(generator, count, seed, label_maps=None):
        order = np.random.default_rng(
            [recipe.seed, image_generation.EVAL_STREAM]
        ).permutation(len(images))
        rows = order[count : 2 * count]
        requested["maps"] = label_maps
        requested["rows"] = rows
        return image_generation.to_generator_images(images[rows])

    monkeypatch.setattr(image_generation, "sample_images", copy_held_out)
    results, generated = image_generation.evaluate(
        recipe,
        None,
        images,
        classes,
        hadamard_zoo.load_classifier(classifier),
    )
    assert results["examples"] == 40 and generated.shape == (40, 32, 32, 1)
    assert results["fid"] == results["floor"] > 0
    if conditional:
        assert results["class_accuracy"] == results["real_class_accuracy"]
        # The label maps requested are those of the held-out images.
        rows = requested["rows"]
        maps = requested["maps"]
        assert maps.shape == (40, 32, 32)
        np.testing.assert_array_equal(maps.max(axis=(1, 2)), classes[rows] + 1)
    else:
        assert requested["maps"] is None


def test_batches_are_seeded_full_and_padded():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 28, 28)).astype("uint8")
    images[:, :, :3] = 0  # a background stripe on the left
    classes = np.arange(10) % 3
    batches = image_generation.GenerationBatches(
        images, classes, batch_size=4, steps_per_epoch=5, seed=3
    )
    assert len(batches) == 5
    first = [batches[i][0] for i in range(5)]
    seen = np.concatenate(first)
    assert seen.shape == (20, 32, 32, 1)
    # Two passes over 10 images: each image exactly twice.
    inner = seen[:, 2:30, 2:30, 0]
    originals = images.astype("float32") / 127.5 - 1.0
    counts = [
        sum(np.array_equal(x, original) for x in inner)
        for original in originals
    ]
    assert counts == [2] * 10
    np.testing.assert_array_equal(seen[:, :2], -1.0)
    np.testing.assert_array_equal(seen[:, :, 30:], -1.0)
    # The label maps are those of the same images.
    x, maps = batches[0]
    assert maps.shape == (4, 32, 32, 11)
    np.testing.assert_array_equal(maps.sum(-1), 1.0)
    for image, one_hot in zip(x, maps, strict=True):
        (index,) = [
            i
            for i, o in enumerate(originals)
            if np.array_equal(o, image[2:30, 2:30, 0])
        ]
        ids = one_hot.argmax(-1)
        assert ids[2:30, 2:30][images[index] > 0].tolist() == [
            classes[index] + 1
        ] * int((images[index] > 0).sum())
        assert (ids[2:30, 2:30][images[index] == 0] == 0).all()
    # Reproducible per epoch, different across epochs.
    again = image_generation.GenerationBatches(
        images, classes, batch_size=4, steps_per_epoch=5, seed=3
    )
    np.testing.assert_array_equal(again[2][0], batches[2][0])
    batches.set_epoch(1)
    assert not np.array_equal(batches[0][0], first[0])
    unconditional = image_generation.GenerationBatches(
        images, None, batch_size=4, steps_per_epoch=5, seed=3
    )
    np.testing.assert_array_equal(unconditional[0], first[0])
    with pytest.raises(IndexError):
        batches[5]


def test_real_images_survive_the_round_trip():
    images = np.random.default_rng(1).integers(0, 256, (5, 28, 28))
    images = images.astype("uint8")
    padded = image_generation.to_generator_images(images)
    assert padded.shape == (5, 32, 32, 1)
    assert padded.min() >= -1.0 and padded.max() <= 1.0
    pixels = image_generation.to_classifier_pixels(padded)
    np.testing.assert_array_equal(pixels[..., 0], images)


GENERATION_RECIPES = sorted(
    name
    for name, recipe in RECIPES.items()
    if isinstance(recipe, ImageGenerationRecipe)
)


def test_the_issue_presets_and_baselines_have_recipes():
    assert GENERATION_RECIPES == [
        "baseline_dcgan_fashion_mnist",
        "baseline_dcgan_mnist",
        "spade_fashion_mnist",
        "stylegan_fashion_mnist",
        "stylegan_mnist",
    ]


@pytest.mark.parametrize("name", GENERATION_RECIPES)
def test_recipes_build_matching_models(name):
    recipe = RECIPES[name]
    generator = image_generation.build_generator(recipe)
    channels = 11 if recipe.conditional else None
    assert tuple(generator.output.shape) == (None, 32, 32, 1)
    assert getattr(generator, "num_classes", None) == channels
    assert generator.latent_dim == recipe.latent_dim
    if recipe.baseline_of:
        # "A baseline of similar size": within 1% of the preset's.
        preset = image_generation.build_generator(RECIPES[recipe.baseline_of])
        ratio = generator.count_params() / preset.count_params()
        assert 0.99 < ratio < 1.01, ratio
        assert recipe.epochs == RECIPES[recipe.baseline_of].epochs


def test_recipe_rejects_inconsistent_settings():
    recipe = RECIPES["stylegan_mnist"]
    fields = recipe.to_dict()
    with pytest.raises(ValueError, match="multiple of steps_per_epoch"):
        ImageGenerationRecipe(**dict(fields, steps=7001))
    with pytest.raises(ValueError, match="generator='vae'"):
        ImageGenerationRecipe(**dict(fields, generator="vae"))
    with pytest.raises(ValueError, match="PatchGAN"):
        ImageGenerationRecipe(**dict(fields, generator="spade"))


def test_standing_statistics_are_the_batch_statistics():
    from hadamard_zoo.models.stylegan import DCGANGenerator
    from hadamard_zoo.models.stylegan import StyleGANGenerator

    generator = DCGANGenerator(latent_dim=4, base_filters=2, max_filters=4)
    z = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    norms = [
        layer
        for layer in generator.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    # Each normalization's input in training mode (earlier normalizations
    # using the batch's statistics), read from a copy.
    copy = DCGANGenerator.from_config(generator.get_config())
    copy.set_weights(generator.get_weights())
    probe = keras.Model(
        copy.input,
        [copy.get_layer(norm.name).input for norm in norms],
    )
    inputs = [
        keras.ops.convert_to_numpy(x) for x in probe({"z": z}, training=True)
    ]
    count = image_generation.standing_statistics(generator, {"z": z})
    assert count == len(norms) == 4
    for norm, x in zip(norms, inputs, strict=True):
        flat = x.reshape(-1, x.shape[-1]).astype("float64")
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(norm.moving_mean),
            flat.mean(0),
            rtol=1e-4,
            atol=1e-5,
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(norm.moving_variance),
            flat.var(0),
            rtol=1e-3,
            atol=1e-5,
        )
        assert norm.momentum == 0.9

    stylegan = StyleGANGenerator(
        latent_dim=4, w_dim=4, mapping_layers=1, base_filters=2, max_filters=4
    )
    before = weights_of(stylegan)
    assert image_generation.standing_statistics(stylegan, {"z": z}) == 0
    for old, new in zip(before, weights_of(stylegan), strict=True):
        np.testing.assert_array_equal(old, new)
