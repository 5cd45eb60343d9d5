"""The Poly-SA image backbone and classifier: parity, presets, training."""

import inspect
import json
import warnings

import keras
import keras_hub
import numpy as np
import pytest
from harness import assert_outputs_close
from harness import golden_layer
from harness import load_golden
from harness import to_numpy
from polysa_references import IMAGE_CASES
from polysa_references import image_backbone_reference
from polysa_references import make_image_classifier

from hadamard_zoo.models.polysa_transformer import PolySAImageBackbone
from hadamard_zoo.models.polysa_transformer import PolySAImageClassifier
from hadamard_zoo.models.polysa_transformer import (
    PolySAImageClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer import PolySAImageConverter

CASE_IDS = [c.name for c in IMAGE_CASES]
# Raw RGB 10x10 photos in, an 8x8 RGB model: the preprocessor resizes and
# scales to [-1, 1].
TINY = dict(
    image_shape=(8, 8, 3),
    patch_size=4,
    num_layers=1,
    hidden_dim=8,
    intermediate_dim=12,
    num_heads=2,
)


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _raw_images(n=4, seed=0, size=10):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size, 3)).astype("uint8")


def _classifier(mixer="poly_sa", **kwargs):
    classifier = make_image_classifier(mixer=mixer, **TINY, **kwargs)
    classifier.preprocessor = PolySAImageClassifierPreprocessor(
        PolySAImageConverter(image_size=(8, 8), scale=1.0 / 127.5, offset=-1.0)
    )
    return classifier


@pytest.fixture(params=["poly_sa", "attention"])
def mixer(request):
    return request.param


@pytest.mark.parametrize("case", IMAGE_CASES, ids=CASE_IDS)
def test_golden(case):
    """Backbone + head on the golden weights == the NumPy forward pass."""
    inputs, weights, outputs = load_golden(case)
    assert_outputs_close(
        [np.asarray(case.reference(inputs, weights))],
        outputs,
        1e-6,
        1e-6,
        "the NumPy reference no longer reproduces the golden file",
    )
    classifier, inputs, outputs = golden_layer(case)
    assert_outputs_close(
        to_numpy(classifier(inputs[0])),
        outputs,
        1e-5,
        1e-5,
        f"{keras.backend.backend()} logits differ from the golden logits",
    )


def test_patch_tokens_match_the_reference():
    """The backbone's tokens, not only the pooled logits, match NumPy."""
    case = IMAGE_CASES[0]
    classifier, inputs, _ = golden_layer(case)
    weights = {
        v.path: keras.ops.convert_to_numpy(v) for v in classifier.weights
    }
    config = classifier.backbone.get_config()
    expected = image_backbone_reference(inputs[0], weights, config)
    np.testing.assert_allclose(
        _np(classifier.backbone(inputs[0])), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("case", IMAGE_CASES, ids=CASE_IDS)
def test_config_round_trip(case):
    classifier, inputs, _ = golden_layer(case)
    backbone = classifier.backbone
    config = backbone.get_config()
    params = inspect.signature(PolySAImageBackbone.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    clone = PolySAImageBackbone.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.set_weights(backbone.get_weights())
    np.testing.assert_array_equal(
        _np(clone(inputs[0])), _np(backbone(inputs[0]))
    )
    task_config = json.loads(
        json.dumps(keras.saving.serialize_keras_object(classifier))
    )
    with warnings.catch_warnings():
        # keras-hub Tasks override compile(): Keras warns that it cannot
        # restore the compile config; nothing here needs it.
        warnings.simplefilter("ignore", UserWarning)
        task_clone = keras.saving.deserialize_keras_object(task_config)
    assert isinstance(task_clone, PolySAImageClassifier)
    assert task_clone.get_config()["pooling"] == "avg"
    task_clone.set_weights(classifier.get_weights())
    np.testing.assert_array_equal(
        _np(task_clone(inputs[0])), _np(classifier(inputs[0]))
    )


@pytest.mark.parametrize("case", IMAGE_CASES, ids=CASE_IDS)
def test_mixed_bfloat16(case):
    classifier, inputs, outputs = golden_layer(case, dtype="mixed_bfloat16")
    for variable in classifier.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    logits = classifier(inputs[0])
    assert keras.backend.standardize_dtype(logits.dtype) == "bfloat16"
    logits = _np(logits).astype("float32")
    scale = float(np.max(np.abs(outputs[0]))) or 1.0
    np.testing.assert_allclose(logits, outputs[0], atol=0.1 * scale, rtol=0)


def test_output_shapes_and_one_flag_apart():
    """Tokens in row-major patch order; only the mixer weights differ.

    Per block, Poly-SA has 3 d² + 2 = 194 mixer weights for d = 8 and
    attention 4 d² + 4 d = 288. Shared: patch conv 4·4·3·8 + 8 = 392,
    positions 4·8 = 32, the two block LNs 32, SwiGLU + output
    2 (8·12 + 12) + 12·8 + 8 = 320, the final LN 16.
    """
    poly = PolySAImageBackbone(**TINY)
    attention = PolySAImageBackbone(**TINY, mixer="attention")
    for backbone in (poly, attention):
        assert backbone.input.name == "images"
        assert tuple(backbone.output.shape) == (None, 4, 8)
        assert tuple(backbone(np.zeros((2, 8, 8, 3))).shape) == (2, 4, 8)
    shared = 392 + 32 + 32 + 320 + 16
    assert poly.count_params() == shared + 194 == 986
    assert attention.count_params() == shared + 288 == 1080
    wide = PolySAImageBackbone(**{**TINY, "image_shape": (4, 12, 1)})
    assert tuple(wide.output.shape) == (None, 3, 8)


def test_predict_raw_images(mixer):
    classifier = _classifier(mixer)
    logits = classifier.predict(_raw_images(), verbose=0)
    assert logits.shape == (4, 3)
    assert np.all(np.isfinite(logits))
    # At the model's size (no resize: keras-hub's tf.data and eager resizes
    # of uint8 images round differently), predict() is the preprocessor
    # then the model, by hand.
    images = _raw_images(size=8)
    logits = classifier.predict(images, verbose=0)
    x = classifier.preprocessor(images)
    np.testing.assert_allclose(logits, _np(classifier(x)), rtol=1e-5, atol=1e-6)
    tokens = _np(classifier.backbone(x))
    dense = classifier.output_dense
    expected = tokens.mean(1) @ _np(dense.kernel) + _np(dense.bias)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_preset_round_trip(mixer, tmp_path):
    classifier = _classifier(mixer)
    preset = str(tmp_path / "preset")
    classifier.save_to_preset(preset)
    with open(tmp_path / "preset" / "config.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "hadamard_zoo>PolySAImageBackbone"
    assert config["config"]["mixer"] == mixer
    images = _raw_images()
    expected = classifier.predict(images, verbose=0)
    for cls in (PolySAImageClassifier, keras_hub.models.ImageClassifier):
        loaded = cls.from_preset(preset)
        assert type(loaded) is PolySAImageClassifier, cls
        np.testing.assert_array_equal(
            loaded.predict(images, verbose=0), expected, err_msg=str(cls)
        )
    assert type(keras_hub.models.Backbone.from_preset(preset)) is (
        PolySAImageBackbone
    )
    preprocessor = keras_hub.models.ImageClassifierPreprocessor.from_preset(
        preset
    )
    assert type(preprocessor) is PolySAImageClassifierPreprocessor
    converter = keras_hub.layers.ImageConverter.from_preset(preset)
    assert type(converter) is PolySAImageConverter


def test_keras_archive_round_trip(tmp_path):
    classifier = _classifier()
    path = tmp_path / "polysa.keras"
    classifier.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        restored = keras.saving.load_model(path)
    assert isinstance(restored, PolySAImageClassifier)
    np.testing.assert_array_equal(
        restored.predict(_raw_images(), verbose=0),
        classifier.predict(_raw_images(), verbose=0),
    )


def test_fit_lowers_the_loss(mixer):
    classifier = _classifier(mixer)
    classifier.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    images = _raw_images(32, seed=1)
    labels = np.random.default_rng(2).integers(0, 3, (32,))
    before = [_np(w) for w in classifier.trainable_weights]
    history = classifier.fit(
        images, labels, batch_size=32, epochs=3, shuffle=False, verbose=0
    )
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)), losses
    assert losses[2] < losses[1] < losses[0], losses
    unchanged = [
        w.path
        for b, w in zip(before, classifier.trainable_weights, strict=True)
        if np.array_equal(b, _np(w)) and not w.path.endswith("key/bias")
    ]
    assert not unchanged, unchanged


def test_max_pooling_head():
    backbone = PolySAImageBackbone(**TINY)
    classifier = PolySAImageClassifier(backbone, 2, pooling="max")
    x = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype("f4")
    tokens = _np(backbone(x))
    dense = classifier.output_dense
    expected = tokens.max(1) @ _np(dense.kernel) + _np(dense.bias)
    np.testing.assert_allclose(
        _np(classifier(x)), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_shape=(8, 8)), "image_shape"),
        (dict(image_shape=(8, 0, 3)), "image_shape"),
        (dict(image_shape=(10, 8, 3)), "multiples of `patch_size`"),
        (dict(image_shape=(8, 6, 3)), "multiples of `patch_size`"),
        (dict(patch_size=0), "patch_size"),
        (dict(num_layers=0), "num_layers"),
        (dict(hidden_dim=0), "hidden_dim"),
        (dict(intermediate_dim=-1), "intermediate_dim"),
        (dict(mixer="conv"), "mixer"),
        (dict(mixer="attention", num_heads=3), "divisible by `num_heads`"),
        (dict(dropout=2.0), "dropout"),
        (dict(layer_norm_epsilon=0.0), "layer_norm_epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolySAImageBackbone(**{**TINY, **kwargs})


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_classes=0), "num_classes"),
        (dict(num_classes=2, pooling="token"), "pooling"),
        (dict(num_classes=2, dropout=1.0), "dropout"),
    ],
)
def test_invalid_classifier_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolySAImageClassifier(PolySAImageBackbone(**TINY), **kwargs)


def test_wrong_image_size_raises():
    backbone = PolySAImageBackbone(**TINY)
    with pytest.raises(ValueError):
        backbone(np.zeros((1, 12, 12, 3), "float32"))
