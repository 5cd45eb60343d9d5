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
from monet_references import CASES
from monet_references import parameter_count

from hadamard_zoo.layers.efficient.poly_block import PolyBlock
from hadamard_zoo.models.monet.monet_backbone import MONET_VARIANTS
from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_classifier import (
    MONetImageClassifier,
)

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
    params = inspect.signature(MONetBackbone.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    clone = MONetBackbone.from_config(json.loads(json.dumps(config)))
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
    assert isinstance(task_clone, MONetImageClassifier)
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
        # 28x28 with patch 2 and the pyramid stem: 7x7, then 4x4.
        (
            dict(
                image_shape=(28, 28, 1),
                stage_dims=(32, 32),
                stage_blocks=(1, 1),
            ),
            (2, 4, 4, 32),
        ),
        (
            dict(
                image_shape=(12, 8, 3),
                patch_size=4,
                pyramid_stem=False,
                stage_dims=(4,),
                stage_blocks=(1,),
                low_rank_ratio=1,
            ),
            (2, 3, 2, 4),
        ),
    ],
)
def test_output_shapes(kwargs, shape):
    backbone = MONetBackbone(**kwargs)
    assert backbone.input.name == "images"
    assert tuple(backbone.input.shape) == (None,) + backbone.image_shape
    assert tuple(backbone.output.shape) == (None,) + shape[1:]
    x = np.zeros((2,) + backbone.image_shape, "float32")
    assert tuple(backbone(x).shape) == shape


def test_defaults_are_monet_t():
    signature = inspect.signature(MONetBackbone.__init__).parameters
    assert signature["image_shape"].default == (224, 224, 3)
    assert signature["drop_path"].default == 0.0
    assert signature["epsilon"].default == 1e-6
    for key, value in MONET_VARIANTS["monet_t"].items():
        assert signature[key].default == value, key


def test_variants():
    assert sorted(MONET_VARIANTS) == ["monet_s", "monet_t", "monet_tiny"]
    for variant in MONET_VARIANTS.values():
        assert "image_shape" not in variant  # the recipe passes it
    assert MONET_VARIANTS["monet_s"]["stage_dims"] == (128, 192, 256, 384)
    assert MONET_VARIANTS["monet_s"]["stage_blocks"] == (4, 6, 12, 14)
    tiny = MONetBackbone(
        image_shape=(28, 28, 1), **MONET_VARIANTS["monet_tiny"]
    )
    assert tuple(tiny.output.shape) == (None, 7, 7, 64)
    again = MONetBackbone.from_variant(
        "monet_tiny", image_shape=(28, 28, 1), drop_path=0.1
    )
    expected = {**tiny.get_config(), "drop_path": 0.1, "name": again.name}
    assert again.get_config() == expected
    with pytest.raises(ValueError, match="monet_s, monet_t, monet_tiny"):
        MONetBackbone.from_variant("monet_b")


def test_monet_t_and_s_parameter_counts():
    """Backbone + a 1000-class head: ~10.3M and ~32.9M parameters.

    Counted from the layer shapes (building MONet-S takes ~20 s on torch);
    `test_parameter_count_matches_the_model` ties the count to the code.
    """
    for name, expected in [("monet_t", 10_339_436), ("monet_s", 32_880_688)]:
        variant = MONET_VARIANTS[name]
        head = (variant["stage_dims"][-1] + 1) * 1000
        assert parameter_count(3, **variant) + head == expected, name


@pytest.mark.parametrize(
    "channels, kwargs",
    [
        (1, MONET_VARIANTS["monet_tiny"]),
        (2, dict(stage_dims=(8, 16), stage_blocks=(1, 1), low_rank_ratio=2)),
        (
            3,
            dict(
                patch_size=4,
                pyramid_stem=False,
                stage_dims=(4, 8, 8),
                stage_blocks=(2, 1, 1),
                expansion=2,
                low_rank_ratio=1,
            ),
        ),
    ],
)
def test_parameter_count_matches_the_model(channels, kwargs):
    backbone = MONetBackbone(image_shape=(16, 16, channels), **kwargs)
    config = backbone.get_config()
    keys = inspect.signature(parameter_count).parameters
    count = parameter_count(
        channels, **{k: config[k] for k in keys if k in config}
    )
    assert backbone.count_params() == count


@pytest.mark.large
@pytest.mark.parametrize("name", ["monet_t", "monet_s"])
def test_monet_t_and_s_build(name):
    backbone = MONetBackbone.from_variant(name)
    assert tuple(backbone.output.shape) == (
        None,
        7,
        7,
        192 if name == "monet_t" else 384,
    )
    config = {k: v for k, v in MONET_VARIANTS[name].items()}
    assert backbone.count_params() == parameter_count(3, **config)


def test_stem_and_downsample_layers():
    backbone = MONetBackbone(
        image_shape=(16, 16, 3), stage_dims=(32, 64), stage_blocks=(1, 1)
    )
    stem = backbone.get_layer("stem_conv")
    assert (stem.kernel_size, stem.strides) == ((2, 2), (2, 2))
    pyramid = backbone.get_layer("stem_pyramid_conv")
    assert (pyramid.kernel_size, pyramid.strides) == ((2, 2), (2, 2))
    down = backbone.get_layer("stage1_downsample")
    assert (down.kernel_size, down.strides) == ((3, 3), (2, 2))
    assert down.padding == "valid"
    assert backbone.get_layer("stage1_downsample_pad").padding == (
        (1, 1),
        (1, 1),
    )
    for conv in (stem, pyramid, down):
        assert isinstance(
            conv.kernel_initializer, keras.initializers.LecunNormal
        )
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(conv.bias), 0)
    # No activation function anywhere: only convolutions, padding and
    # PolyBlocks (whose Mu-layers have none).
    kinds = {type(layer).__name__ for layer in backbone.layers}
    assert kinds == {"InputLayer", "Conv2D", "ZeroPadding2D", "PolyBlock"}
    for conv in (stem, pyramid, down):
        assert conv.activation is keras.activations.linear
    flat = MONetBackbone(
        image_shape=(8, 8, 1),
        pyramid_stem=False,
        stage_dims=(32,),
        stage_blocks=(2,),
    )
    names = [layer.name for layer in flat.layers]
    assert names == ["images", "stem_conv", "stage0_block0", "stage0_block1"]


def test_drop_path_grows_linearly_over_all_blocks():
    backbone = MONetBackbone(
        image_shape=(8, 8, 1),
        stage_dims=(32, 32),
        stage_blocks=(2, 3),
        drop_path=0.2,
    )
    blocks = [b for b in backbone.layers if isinstance(b, PolyBlock)]
    rates = [b.drop_path for b in blocks]
    np.testing.assert_allclose(rates, [0.0, 0.05, 0.1, 0.15, 0.2])
    for block in blocks:
        assert (block.expansion, block.low_rank_ratio) == (3, 8)
        assert block.epsilon == 1e-6
    x = np.random.default_rng(0).uniform(0, 1, (4, 8, 8, 1)).astype("f4")
    # Stochastic depth is the identity at inference.
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(backbone(x, training=False)),
        keras.ops.convert_to_numpy(backbone(x)),
    )
    trained = keras.ops.convert_to_numpy(backbone(x, training=True))
    assert not np.allclose(trained, keras.ops.convert_to_numpy(backbone(x)))


def test_classifier_head_starts_at_zero():
    backbone = MONetBackbone(
        image_shape=(8, 8, 1), stage_dims=(32,), stage_blocks=(1,)
    )
    classifier = MONetImageClassifier(backbone=backbone, num_classes=4)
    dense = classifier.output_dense
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.kernel), 0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(dense.bias), 0)
    x = np.random.default_rng(0).uniform(0, 1, (2, 8, 8, 1)).astype("f4")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(classifier(x)), 0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_shape=(28, 28)), "image_shape"),
        (dict(image_shape=(28, 0, 1)), "image_shape"),
        (dict(image_shape=(28, None, 1)), "image_shape"),
        (dict(image_shape="28x28"), "image_shape"),
        # The stem's stride must divide the image: 30 % 4, 30 % 8, 10 % 4.
        (dict(image_shape=(30, 30, 3), patch_size=4), "stem's stride 8"),
        (
            dict(image_shape=(30, 30, 3), patch_size=4, pyramid_stem=False),
            "stem's stride 4",
        ),
        (dict(image_shape=(28, 10, 1)), "image_shape"),
        (dict(patch_size=0), "patch_size"),
        (dict(patch_size=2.0), "patch_size"),
        (dict(pyramid_stem=1), "pyramid_stem"),
        (dict(stage_dims=()), "stage_dims"),
        (dict(stage_dims=64), "stage_dims"),
        (dict(stage_dims=(64, -128, 192, 192)), "stage_dims"),
        (dict(stage_blocks=(4, 0, 12, 10)), "stage_blocks"),
        (dict(stage_blocks=(4, 8)), "stage_dims` and `stage_blocks"),
        # 66 is not a multiple of 4; 32 // 8 = 4 is, but 48 // 8 = 6 not.
        (dict(stage_dims=(64, 128, 192, 66)), "stage_dims"),
        (dict(stage_dims=(64, 128, 192, 48)), "48 // 8 = 6"),
        (dict(stage_dims=(64, 128, 192, 192), low_rank_ratio=64), "low_rank"),
        (dict(low_rank_ratio=0), "low_rank_ratio"),
        (dict(expansion=0), "expansion"),
        (dict(expansion=1.5), "expansion"),
        (dict(drop_path=-0.1), "drop_path"),
        (dict(drop_path=1.0), "drop_path"),
        (dict(drop_path="0.1"), "drop_path"),
        (dict(epsilon=-1e-6), "epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MONetBackbone(**kwargs)


def test_wrong_input_shape():
    backbone = MONetBackbone(
        image_shape=(8, 8, 1), stage_dims=(32,), stage_blocks=(1,)
    )
    with pytest.raises(ValueError):
        backbone(np.zeros((2, 8, 8, 3), "float32"))
