"""The MONet classifier with its preprocessor: saving, presets, training."""

import json
import warnings

import keras
import keras_hub
import numpy as np
import pytest
from monet_references import make_classifier

from hadamard_zoo.models.monet.monet_backbone import MONET_VARIANTS
from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_classifier import (
    MONetImageClassifier,
)
from hadamard_zoo.models.monet.monet_image_classifier_preprocessor import (
    MONetImageClassifierPreprocessor,
)
from hadamard_zoo.models.monet.monet_image_converter import MONetImageConverter
from hadamard_zoo.models.pinet.pinet_image_converter import PiNetImageConverter

# Raw RGB 10x10 photos in, an 8x8 grayscale model: the preprocessor resizes,
# converts to luma and scales to [0, 1].
IMAGE_SHAPE = (8, 8, 1)
# Plain gradient descent, small enough that a step on the batch it was
# computed on lowers that batch's loss whatever the (unseeded) init.
LEARNING_RATE = 1e-2
# Pyramid stem (8x8 -> 2x2 tokens) and a downsample to 1x1.
BACKBONE = dict(stage_dims=(8, 16), stage_blocks=(1, 1), low_rank_ratio=2)


def _preprocessor():
    converter = MONetImageConverter(
        image_size=IMAGE_SHAPE[:2], scale=1.0 / 255, channels=1
    )
    return MONetImageClassifierPreprocessor(converter)


def _classifier(**kwargs):
    classifier = make_classifier(
        image_shape=IMAGE_SHAPE, **{**BACKBONE, **kwargs}
    )
    classifier.preprocessor = _preprocessor()
    # The head starts at zero (as the reference's); tests of saving and
    # loading need logits that depend on the weights.
    dense = classifier.output_dense
    rng = np.random.default_rng(0)
    kernel = rng.normal(scale=0.3, size=dense.kernel.shape)
    dense.kernel.assign(kernel.astype("float32"))
    return classifier


def _raw_images(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 10, 10, 3)).astype("uint8")


def test_predict_raw_images():
    classifier = _classifier()
    logits = classifier.predict(_raw_images(), verbose=0)
    assert logits.shape == (4, 3)
    assert np.all(np.isfinite(logits))
    # The same as the preprocessor then the model, by hand (the batched
    # predict and the eager call round differently: a polynomial of degree
    # 16 amplifies float32 rounding).
    x = classifier.preprocessor(_raw_images())
    np.testing.assert_allclose(
        logits,
        keras.ops.convert_to_numpy(classifier(x)),
        rtol=1e-4,
        atol=1e-4,
    )


def test_keras_archive_round_trip(tmp_path):
    classifier = _classifier()
    path = tmp_path / "monet.keras"
    classifier.save(path)
    with warnings.catch_warnings():
        # keras-hub Tasks override compile(): Keras warns it cannot restore
        # the compile config; the test recompiles nothing, so it is moot.
        warnings.simplefilter("ignore", UserWarning)
        restored = keras.saving.load_model(path)
    assert isinstance(restored, MONetImageClassifier)
    assert isinstance(restored.preprocessor, MONetImageClassifierPreprocessor)
    assert restored.preprocessor.image_converter.channels == 1
    images = _raw_images()
    np.testing.assert_array_equal(
        restored.predict(images, verbose=0),
        classifier.predict(images, verbose=0),
    )


def test_preset_round_trip(tmp_path):
    classifier = _classifier()
    preset = str(tmp_path / "preset")
    classifier.save_to_preset(preset)
    with open(tmp_path / "preset" / "config.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "hadamard_zoo>MONetBackbone"
    assert tuple(config["config"]["stage_dims"]) == (8, 16)

    images = _raw_images()
    expected = classifier.predict(images, verbose=0)
    for cls in (MONetImageClassifier, keras_hub.models.ImageClassifier):
        loaded = cls.from_preset(preset)
        assert type(loaded) is MONetImageClassifier, cls
        assert isinstance(loaded.backbone, MONetBackbone)
        # Loading replaces the zero-initialised head with the saved one.
        np.testing.assert_array_equal(
            loaded.predict(images, verbose=0), expected, err_msg=str(cls)
        )
    backbone = keras_hub.models.Backbone.from_preset(preset)
    assert type(backbone) is MONetBackbone
    preprocessor = keras_hub.models.ImageClassifierPreprocessor.from_preset(
        preset
    )
    assert type(preprocessor) is MONetImageClassifierPreprocessor
    converter = keras_hub.layers.ImageConverter.from_preset(preset)
    assert type(converter) is MONetImageConverter
    assert converter.channels == 1


def test_fit_lowers_the_loss():
    classifier = make_classifier(image_shape=IMAGE_SHAPE, **BACKBONE)
    classifier.preprocessor = _preprocessor()
    classifier.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images = _raw_images(32, seed=1)
    labels = np.random.default_rng(2).integers(0, 3, (32,))
    before = [np.array(w) for w in classifier.backbone.trainable_weights]
    # One batch of 32 per epoch: each epoch's loss is measured before its
    # update, so loss[1] < loss[0] means one step lowered it. The head
    # starts at zero, so the first loss is log(3) and the backbone gets its
    # first gradient at the second step.
    history = classifier.fit(
        images, labels, batch_size=32, epochs=3, shuffle=False, verbose=0
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    np.testing.assert_allclose(losses[0], np.log(3), rtol=1e-5)
    assert losses[1] < losses[0] and losses[2] < losses[1], losses
    unchanged = [
        w.path
        for b, w in zip(
            before, classifier.backbone.trainable_weights, strict=True
        )
        if np.array_equal(b, keras.ops.convert_to_numpy(w))
    ]
    assert not unchanged, unchanged


def test_train_on_batch_without_preprocessor():
    classifier = make_classifier(image_shape=IMAGE_SHAPE, **BACKBONE)
    x = keras.ops.convert_to_numpy(_preprocessor()(_raw_images(8)))
    y = np.arange(8) % 3
    classifier.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    first = classifier.train_on_batch(x, y)
    first = first[0] if isinstance(first, list) else first
    second = classifier.train_on_batch(x, y)
    second = second[0] if isinstance(second, list) else second
    assert second < first, (first, second)


def test_mixed_bfloat16_predict():
    classifier = _classifier(dtype="mixed_bfloat16")
    for variable in classifier.weights:
        assert variable.dtype == "float32", variable.path
    logits = classifier.predict(_raw_images(), verbose=0)
    assert np.all(np.isfinite(np.asarray(logits, "float32")))


def test_default_compile_is_from_logits():
    classifier = _classifier()
    loss = classifier.loss
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert loss.get_config()["from_logits"] is True


def test_training_code_construction():
    """How the training code builds any family, with the tiny variant."""
    backbone = MONetBackbone(
        image_shape=(28, 28, 1), **MONET_VARIANTS["monet_tiny"]
    )
    converter = MONetImageConverter(
        image_size=(28, 28), scale=1.0 / 255, offset=0.0, channels=1
    )
    preprocessor = MONetImageClassifierPreprocessor(image_converter=converter)
    classifier = MONetImageClassifier(
        backbone=backbone, num_classes=10, preprocessor=preprocessor
    )
    images = np.zeros((2, 28, 28, 1), "uint8")
    assert classifier.predict(images, verbose=0).shape == (2, 10)


def test_image_converter():
    assert issubclass(MONetImageConverter, PiNetImageConverter)
    assert MONetImageConverter.backbone_cls is MONetBackbone
    assert MONetImageClassifierPreprocessor.image_converter_cls is (
        MONetImageConverter
    )
    converter = MONetImageConverter(
        image_size=(6, 6), scale=1.0 / 255, channels=3
    )
    config = json.loads(json.dumps(converter.get_config()))
    clone = MONetImageConverter.from_config(config)
    assert clone.channels == 3
    gray = np.random.default_rng(0).integers(0, 256, (2, 6, 6, 1))
    gray = gray.astype("uint8")
    out = keras.ops.convert_to_numpy(clone(gray))
    np.testing.assert_allclose(out, np.repeat(gray, 3, -1) / 255.0, atol=1e-6)


@pytest.mark.parametrize("pooling, match", [("sum", "pooling")])
def test_invalid_pooling(pooling, match):
    backbone = MONetBackbone(image_shape=IMAGE_SHAPE, **BACKBONE)
    with pytest.raises(ValueError, match=match):
        MONetImageClassifier(backbone=backbone, num_classes=3, pooling=pooling)
