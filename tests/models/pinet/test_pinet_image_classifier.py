"""The Π-Net classifier with its preprocessor: saving, presets, training."""

import json
import warnings

import keras
import keras_hub
import numpy as np
import pytest
from pinet_references import make_classifier

import hadamard_zoo.models  # noqa: F401  (registers the classes)
from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier
from hadamard_zoo.models.pinet import PiNetImageClassifierPreprocessor
from hadamard_zoo.models.pinet import PiNetImageConverter

# Raw RGB 10x10 photos in, a 8x8 grayscale model: the preprocessor resizes,
# converts to luma and scales to [0, 1].
IMAGE_SHAPE = (8, 8, 1)
# Plain gradient descent, small enough that a step on the batch it was
# computed on lowers that batch's loss whatever the (unseeded) init.
LEARNING_RATE = 1e-2
ARCHITECTURES = {
    "ccp": dict(architecture="ccp", rank=6, degree=3),
    "ncp": dict(architecture="ncp", rank=6, degree=3, skip=True),
    "prodpoly": dict(
        architecture="prodpoly",
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(1, 1),
    ),
}


def _preprocessor():
    converter = PiNetImageConverter(
        image_size=IMAGE_SHAPE[:2], scale=1.0 / 255, channels=1
    )
    return PiNetImageClassifierPreprocessor(converter)


def _classifier(architecture, **kwargs):
    classifier = make_classifier(
        image_shape=IMAGE_SHAPE, **ARCHITECTURES[architecture], **kwargs
    )
    classifier.preprocessor = _preprocessor()
    return classifier


def _raw_images(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 10, 10, 3)).astype("uint8")


@pytest.fixture(params=sorted(ARCHITECTURES))
def architecture(request):
    return request.param


def test_predict_raw_images(architecture):
    classifier = _classifier(architecture)
    logits = classifier.predict(_raw_images(), verbose=0)
    assert logits.shape == (4, 3)
    assert np.all(np.isfinite(logits))
    # The same as the preprocessor then the model, by hand.
    x = classifier.preprocessor(_raw_images())
    np.testing.assert_allclose(
        logits,
        keras.ops.convert_to_numpy(classifier(x)),
        rtol=1e-5,
        atol=1e-6,
    )


def test_keras_archive_round_trip(architecture, tmp_path):
    classifier = _classifier(architecture)
    path = tmp_path / "pinet.keras"
    classifier.save(path)
    with warnings.catch_warnings():
        # keras-hub Tasks override compile(): Keras warns it cannot restore
        # the compile config; the test recompiles nothing, so it is moot.
        warnings.simplefilter("ignore", UserWarning)
        restored = keras.saving.load_model(path)
    assert isinstance(restored, PiNetImageClassifier)
    assert isinstance(restored.preprocessor, PiNetImageClassifierPreprocessor)
    assert restored.preprocessor.image_converter.channels == 1
    images = _raw_images()
    np.testing.assert_array_equal(
        restored.predict(images, verbose=0),
        classifier.predict(images, verbose=0),
    )


def test_preset_round_trip(architecture, tmp_path):
    classifier = _classifier(architecture)
    preset = str(tmp_path / "preset")
    classifier.save_to_preset(preset)
    with open(tmp_path / "preset" / "config.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "hadamard_zoo>PiNetBackbone"
    assert config["config"]["architecture"] == architecture

    images = _raw_images()
    expected = classifier.predict(images, verbose=0)
    for cls in (PiNetImageClassifier, keras_hub.models.ImageClassifier):
        loaded = cls.from_preset(preset)
        assert type(loaded) is PiNetImageClassifier, cls
        assert isinstance(loaded.backbone, PiNetBackbone)
        np.testing.assert_array_equal(
            loaded.predict(images, verbose=0), expected, err_msg=str(cls)
        )
    backbone = keras_hub.models.Backbone.from_preset(preset)
    assert type(backbone) is PiNetBackbone
    preprocessor = keras_hub.models.ImageClassifierPreprocessor.from_preset(
        preset
    )
    assert type(preprocessor) is PiNetImageClassifierPreprocessor
    converter = keras_hub.layers.ImageConverter.from_preset(preset)
    assert type(converter) is PiNetImageConverter
    assert converter.channels == 1


def test_fit_lowers_the_loss(architecture):
    classifier = _classifier(architecture)
    classifier.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images = _raw_images(32, seed=1)
    labels = np.random.default_rng(2).integers(0, 3, (32,))
    before = [np.array(w) for w in classifier.backbone.trainable_weights]
    # One batch of 32 per epoch: each epoch's loss is measured before its
    # update, so loss[1] < loss[0] means one step lowered it.
    history = classifier.fit(
        images, labels, batch_size=32, epochs=3, shuffle=False, verbose=0
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[1] < losses[0] and losses[2] < losses[0], losses
    unchanged = [
        w.path
        for b, w in zip(
            before, classifier.backbone.trainable_weights, strict=True
        )
        if np.array_equal(b, keras.ops.convert_to_numpy(w))
        # alpha starts at 0, so N_3 gets no gradient at the first step and
        # a gradient of order alpha ~ lr afterwards: its gamma may not move
        # by one float32 ulp in three steps.
        and "second_order_norm/" not in w.path
    ]
    assert not unchanged, unchanged


def test_train_on_batch_without_preprocessor(architecture):
    classifier = _classifier(architecture)
    x = keras.ops.convert_to_numpy(classifier.preprocessor(_raw_images(8)))
    y = np.arange(8) % 3
    classifier.preprocessor = None
    classifier.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    first = classifier.train_on_batch(x, y)
    first = first[0] if isinstance(first, list) else first
    second = classifier.train_on_batch(x, y)
    second = second[0] if isinstance(second, list) else second
    assert second < first, (first, second)


def test_mixed_bfloat16_predict(architecture):
    classifier = _classifier(architecture, dtype="mixed_bfloat16")
    for variable in classifier.weights:
        assert variable.dtype == "float32", variable.path
    logits = classifier.predict(_raw_images(), verbose=0)
    assert np.all(np.isfinite(np.asarray(logits, "float32")))


def test_default_compile_is_from_logits():
    classifier = _classifier("ccp")
    loss = classifier.loss
    assert isinstance(loss, keras.losses.SparseCategoricalCrossentropy)
    assert loss.get_config()["from_logits"] is True
