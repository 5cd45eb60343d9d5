import inspect
import json
import warnings

import keras
import numpy as np
import pytest
from harness import assert_outputs_close
from harness import golden_layer
from harness import load_golden
from harness import to_numpy
from pinet_references import CASES

from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier

CASE_IDS = [c.name for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
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


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_config_round_trip(case):
    """get_config names every argument; a JSON round trip rebuilds it."""
    classifier, inputs, _ = golden_layer(case)
    backbone = classifier.backbone
    config = backbone.get_config()
    params = inspect.signature(PiNetBackbone.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    clone = PiNetBackbone.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.set_weights(backbone.get_weights())
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(clone(inputs[0])),
        keras.ops.convert_to_numpy(backbone(inputs[0])),
    )
    task_config = json.loads(
        json.dumps(keras.saving.serialize_keras_object(classifier))
    )
    with warnings.catch_warnings():
        # keras-hub Tasks override compile(), so Keras warns that it cannot
        # restore the compile config; nothing here needs it.
        warnings.simplefilter("ignore", UserWarning)
        task_clone = keras.saving.deserialize_keras_object(task_config)
    assert isinstance(task_clone, PiNetImageClassifier)
    task_clone.set_weights(classifier.get_weights())
    np.testing.assert_array_equal(
        to_numpy(task_clone(inputs[0]))[0], to_numpy(classifier(inputs[0]))[0]
    )


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_mixed_bfloat16(case):
    classifier, inputs, outputs = golden_layer(case, dtype="mixed_bfloat16")
    assert classifier.dtype_policy.name == "mixed_bfloat16"
    for variable in classifier.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    logits = classifier(inputs[0])
    assert keras.backend.standardize_dtype(logits.dtype) == "bfloat16"
    logits = to_numpy(logits)[0].astype("float32")
    assert np.all(np.isfinite(logits))
    scale = float(np.max(np.abs(outputs[0]))) or 1.0
    np.testing.assert_allclose(logits, outputs[0], atol=0.1 * scale, rtol=0)


@pytest.mark.parametrize(
    "kwargs, shape",
    [
        (dict(architecture="ccp"), (2, 1, 1, 16)),
        (dict(architecture="ncp", rank=7, skip=True), (2, 1, 1, 7)),
        (
            dict(
                architecture="prodpoly",
                image_shape=(9, 9, 1),
                stem_filters=4,
                stage_filters=(4, 8, 8),
                stage_blocks=(1, 1, 1),
            ),
            (2, 3, 3, 8),
        ),
        (
            dict(
                architecture="prodpoly",
                image_shape=(9, 9, 3),
                stem_filters=4,
                stage_filters=(8,),
                stage_blocks=(2,),
            ),
            (2, 9, 9, 8),
        ),
    ],
)
def test_output_shapes(kwargs, shape):
    backbone = PiNetBackbone(**kwargs)
    assert backbone.input.name == "images"
    assert tuple(backbone.input.shape) == (None,) + backbone.image_shape
    assert tuple(backbone.output.shape) == (None,) + shape[1:]
    x = np.zeros((2,) + backbone.image_shape, "float32")
    assert tuple(backbone(x).shape) == shape


def test_defaults():
    """The defaults: MNIST-sized images, the survey's rank 16 / degree 4."""
    config = PiNetBackbone("ccp").get_config()
    assert config["image_shape"] == (28, 28, 1)
    assert (config["rank"], config["degree"]) == (16, 4)
    assert config["stage_filters"] == (16, 32, 64)
    assert config["stage_blocks"] == (2, 2, 2)
    assert config["second_order"] is True


def test_second_order_flag_is_the_only_difference():
    """Π-Net vs its ResNet baseline: same layers but alpha and N_3."""
    kwargs = dict(
        architecture="prodpoly",
        image_shape=(8, 8, 1),
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(1, 1),
    )
    pinet = PiNetBackbone(**kwargs)
    plain = PiNetBackbone(second_order=False, **kwargs)
    pinet_paths = {v.path for v in pinet.weights}
    plain_paths = {v.path for v in plain.weights}
    assert plain_paths < pinet_paths
    extra = {p.split("/", 1)[1] for p in pinet_paths - plain_paths}
    assert extra == {
        "alpha",
        "second_order_norm/gamma",
        "second_order_norm/beta",
        "second_order_norm/moving_mean",
        "second_order_norm/moving_variance",
    }


def test_ccp_head_is_the_survey_output_map():
    """GAP over the 1x1 map is the identity: logits = C x_N + beta."""
    backbone = PiNetBackbone("ccp", image_shape=(4, 4, 1), rank=3, degree=2)
    classifier = PiNetImageClassifier(backbone=backbone, num_classes=2)
    x = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 1)).astype("f4")
    features = keras.ops.convert_to_numpy(backbone(x))[:, 0, 0, :]
    dense = classifier.output_dense
    expected = features @ keras.ops.convert_to_numpy(
        dense.kernel
    ) + keras.ops.convert_to_numpy(dense.bias)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(classifier(x)), expected, rtol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(architecture="resnet"), "architecture"),
        (dict(architecture="ccp", image_shape=(28, 28)), "image_shape"),
        (dict(architecture="ccp", image_shape=(28, 0, 1)), "image_shape"),
        (dict(architecture="ccp", image_shape=(28, None, 1)), "image_shape"),
        (dict(architecture="ccp", image_shape="28x28"), "image_shape"),
        (dict(architecture="ccp", rank=0), "rank"),
        (dict(architecture="ncp", degree=1.5), "degree"),
        (dict(architecture="ncp", skip=1), "skip"),
        (dict(architecture="prodpoly", stem_filters=0), "stem_filters"),
        (dict(architecture="prodpoly", stage_filters=()), "stage_filters"),
        (dict(architecture="prodpoly", stage_filters=16), "stage_filters"),
        (dict(architecture="prodpoly", stage_blocks=(2, 0, 2)), "stage_blocks"),
        (
            dict(architecture="prodpoly", stage_blocks=(2, 2)),
            "stage_filters` and `stage_blocks",
        ),
        (dict(architecture="prodpoly", use_activation="no"), "use_activation"),
        (dict(architecture="prodpoly", normalization="layer"), "normalization"),
        (dict(architecture="prodpoly", second_order=None), "second_order"),
        (
            dict(
                architecture="prodpoly",
                second_order=False,
                second_order_projection=True,
            ),
            "second_order_projection",
        ),
        (
            dict(architecture="prodpoly", second_order_projection=1),
            "second_order_projection",
        ),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PiNetBackbone(**kwargs)
