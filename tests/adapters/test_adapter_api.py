"""enable_hira / enable_loha / enable_lora, merge, save and load on models."""

import os

import keras
import keras_hub
import numpy as np
import pytest
from adapter_references import hira_kernel
from adapter_references import loha_kernel

from hadamard_zoo.adapters import api
from hadamard_zoo.adapters.api import adapter_summary
from hadamard_zoo.adapters.api import enable_hira
from hadamard_zoo.adapters.api import enable_loha
from hadamard_zoo.adapters.api import enable_lora
from hadamard_zoo.adapters.api import load_adapter_weights
from hadamard_zoo.adapters.api import merge_adapters
from hadamard_zoo.adapters.api import save_adapter_weights
from hadamard_zoo.adapters.api import trainable_parameter_count
from hadamard_zoo.adapters.base import HadamardAdapter
from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier

ENABLE = {"hira": enable_hira, "loha": enable_loha, "lora": enable_lora}
ADAPTED = ["proj", "attn", "conv", "head"]  # the functional model's layers


def to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def functional_model():
    """A small keras-hub-style functional graph with every supported type."""
    inputs = keras.Input((4, 5), name="tokens")
    x = keras.layers.Dense(6, activation="tanh", name="proj")(inputs)
    x = keras.layers.EinsumDense(
        "abc,cde->abde", (4, 2, 3), bias_axes="de", name="attn"
    )(x)
    x = keras.layers.Reshape((4, 6, 1), name="to_image")(x)
    x = keras.layers.Conv2D(3, 2, padding="same", name="conv")(x)
    x = keras.layers.BatchNormalization(name="norm")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(2, name="head")(x)
    return keras.Model(inputs, outputs, name="functional")


def prodpoly_backbone():
    return PiNetBackbone(
        architecture="prodpoly",
        image_shape=(8, 8, 1),
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(1, 1),
    )


def tiny_bert():
    return keras_hub.models.BertBackbone(
        vocabulary_size=10,
        num_layers=1,
        num_heads=2,
        hidden_dim=4,
        intermediate_dim=8,
        max_sequence_length=6,
    )


def bert_inputs():
    return {
        "token_ids": np.array([[1, 2, 3, 4, 0, 0], [5, 6, 7, 0, 0, 0]]),
        "segment_ids": np.zeros((2, 6), "int32"),
        "padding_mask": np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0]]),
    }


def batch(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def snapshot(model):
    return {id(v): to_numpy(v).copy() for v in model.weights}


def adapter_ids(model):
    return {
        id(v)
        for _, info in api._adapted_layers(model)
        for v in info["variables"].values()
    }


def train_steps(model, x, y, steps=3, learning_rate=0.05):
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss="mse",
    )
    first = float(model.evaluate(x, y, verbose=0))
    for _ in range(steps):
        model.train_on_batch(x, y)
    return first, float(model.evaluate(x, y, verbose=0))


def randomize_factors(model, seed=1, scale=0.3):
    rng = np.random.default_rng(seed)
    for _, info in api._adapted_layers(model):
        for variable in info["variables"].values():
            value = rng.uniform(-scale, scale, tuple(variable.shape))
            variable.assign(value.astype("float32"))


# ------------------------------------------------------- enable and train


@pytest.mark.parametrize("method", sorted(ENABLE))
def test_enable_keeps_outputs_and_trains_only_the_factors(method):
    model = functional_model()
    x, y = batch((6, 4, 5)), batch((6, 2), seed=1)
    expected = to_numpy(model(x))
    assert ENABLE[method](model, rank=2) == ADAPTED
    np.testing.assert_allclose(to_numpy(model(x)), expected, atol=1e-6)

    factors = adapter_ids(model)
    assert {id(v) for v in model.trainable_weights} == factors
    before = snapshot(model)
    first, last = train_steps(model, x, y)
    assert last < first, (first, last)
    after = snapshot(model)
    frozen_changed = [
        v.path
        for v in model.weights
        if id(v) not in factors
        and not np.array_equal(before[id(v)], after[id(v)])
    ]
    assert not frozen_changed  # kernels, biases, BN statistics: bit-identical
    assert any(not np.array_equal(before[i], after[i]) for i in factors)


def test_three_methods_are_one_call_apart():
    counts = {}
    for method, enable in ENABLE.items():
        model = functional_model()
        enable(model, rank=2, targets=["proj", "head"])
        counts[method] = trainable_parameter_count(model)
    # Dense 5->6 and 3->2: r (in + out) per factor pair.
    assert counts["hira"] == counts["lora"] == 2 * (5 + 6) + 2 * (3 + 2)
    assert counts["loha"] == 2 * counts["hira"]


def test_adapter_summary_and_mixed_methods():
    model = functional_model()
    enable_hira(model, rank=2, targets="proj")
    enable_loha(
        model, rank=1, alpha=0.5, targets=lambda layer: "a" in layer.name
    )
    enable_lora(model, rank=1)  # the layers left: conv
    summary = {row["layer"]: row for row in adapter_summary(model)}
    assert {k: v["method"] for k, v in summary.items()} == {
        "proj": "hira",
        "attn": "loha",
        "head": "loha",
        "conv": "lora",
    }
    assert summary["attn"]["alpha"] == 0.5
    assert summary["proj"]["parameters"] == 2 * (5 + 6)
    assert trainable_parameter_count(model) == sum(
        row["parameters"] for row in summary.values()
    )


def test_model_trainable_true_keeps_the_base_kernels_frozen():
    model = functional_model()
    enable_hira(model, rank=2)
    model.trainable = False
    assert trainable_parameter_count(model) == 0
    model.trainable = True  # unfreezes every layer, but not W0 nor biases
    for path in ADAPTED:
        layer = model.get_layer(path)
        assert not layer._kernel.trainable
        assert not layer.bias.trainable


def test_enable_on_a_single_layer():
    layer = keras.layers.Conv2D(4, 3, name="single")
    layer.build((None, 6, 6, 2))
    assert enable_loha(layer, rank=3) == ["single"]
    assert isinstance(layer, HadamardAdapter)
    assert layer.adapter_class_name == "LoHaConv2D"
    assert trainable_parameter_count(layer) == 2 * 3 * (18 + 4)


# ------------------------------------------------------------------ merge


@pytest.mark.parametrize("method", ["hira", "loha"])
def test_merge_folds_the_adapters_into_plain_layers(method):
    model = functional_model()
    x = batch((3, 4, 5))
    weights_before = len(model.weights)
    ENABLE[method](model, rank=2, alpha=3.0) if method == "loha" else (
        enable_hira(model, rank=2)
    )
    randomize_factors(model)
    conv = model.get_layer("conv")
    weights = {"kernel": to_numpy(conv._kernel)}
    weights.update({v.name: to_numpy(v) for v in conv.adapter_variables})
    reference = (
        hira_kernel(weights) if method == "hira" else loha_kernel(weights, 3, 2)
    )
    adapted = to_numpy(model(x))

    assert merge_adapters(model) == ADAPTED
    np.testing.assert_allclose(to_numpy(model(x)), adapted, atol=1e-5)
    np.testing.assert_allclose(to_numpy(conv.kernel), reference, atol=1e-6)
    classes = [type(model.get_layer(n)) for n in ADAPTED]
    assert classes == [
        keras.layers.Dense,
        keras.layers.EinsumDense,
        keras.layers.Conv2D,
        keras.layers.Dense,
    ]
    assert len(model.weights) == weights_before
    assert conv.kernel.trainable  # a plain, trainable layer again
    with pytest.raises(ValueError, match="no HiRA or LoHa adapter"):
        merge_adapters(model)


# ------------------------------------------------------------ save / load


@pytest.mark.parametrize("method", sorted(ENABLE))
def test_adapter_weights_round_trip(method, tmp_path):
    model = functional_model()
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    ENABLE[method](model, rank=2)
    ENABLE[method](clone, rank=2)
    randomize_factors(model)
    x = batch((3, 4, 5))
    path = save_adapter_weights(model, tmp_path / "adapters.npz")
    assert os.listdir(tmp_path) == ["adapters.npz"]  # no temporary left
    load_adapter_weights(clone, path)
    np.testing.assert_allclose(to_numpy(clone(x)), to_numpy(model(x)), atol=0)


def test_load_rejects_other_adapters_before_changing_anything(tmp_path):
    model = functional_model()
    enable_hira(model, rank=2)
    path = save_adapter_weights(model, tmp_path / "hira.npz")

    def fresh(enable, **kwargs):
        other = functional_model()
        enable(other, **kwargs)
        return other, snapshot(other)

    cases = [
        (fresh(enable_hira, rank=1), "rank=1.*rank=2"),
        (fresh(enable_loha, rank=2), "method='loha'.*method='hira'"),
        (fresh(enable_hira, rank=2, targets=["proj"]), "holds adapters for 4"),
    ]
    for (other, before), match in cases:
        with pytest.raises(ValueError, match=match):
            load_adapter_weights(other, path)
        after = snapshot(other)
        assert all(np.array_equal(before[k], after[k]) for k in before)

    np.savez(tmp_path / "plain.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not an adapter file"):
        load_adapter_weights(model, tmp_path / "plain.npz")


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    model = functional_model()
    enable_hira(model, rank=2)
    path = tmp_path / "adapters.npz"
    save_adapter_weights(model, path)
    saved = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        save_adapter_weights(model, path)
    assert path.read_bytes() == saved
    assert os.listdir(tmp_path) == ["adapters.npz"]


def test_save_without_adapters():
    with pytest.raises(ValueError, match="no adapter to save"):
        save_adapter_weights(functional_model(), "unused.npz")


@pytest.mark.parametrize("method", ["hira", "loha"])
def test_keras_archive_of_an_adapted_model(method, tmp_path):
    model = functional_model()
    ENABLE[method](model, rank=2)
    randomize_factors(model)
    x = batch((3, 4, 5))
    expected = to_numpy(model(x))
    model.save(tmp_path / "model.keras")
    restored = keras.saving.load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(to_numpy(restored(x)), expected, atol=1e-6)
    # The archive holds the merged kernels; the restored adapters restart
    # from ΔW = 0 on top of them.
    names = [restored.get_layer(n).adapter_class_name for n in ADAPTED]
    prefix = "HiRA" if method == "hira" else "LoHa"
    assert names == [
        f"{prefix}Dense",
        f"{prefix}EinsumDense",
        f"{prefix}Conv2D",
        f"{prefix}Dense",
    ]


# ------------------------------------------- keras-hub and project models


@pytest.mark.parametrize("method", ["hira", "loha"])
def test_pinet_prodpoly_backbone(method, tmp_path):
    backbone = prodpoly_backbone()
    x = batch((4, 8, 8, 1))
    expected = to_numpy(backbone(x))
    paths = ENABLE[method](backbone, rank=2)
    # Conv2D layers nested inside the ProdPolyBlocks are reached too.
    assert paths == [
        "stem_conv",
        "stage0_block0/conv2",
        "stage0_block0/conv1",
        "stage1_block0/shortcut_conv",
        "stage1_block0/conv2",
        "stage1_block0/conv1",
    ]
    np.testing.assert_allclose(to_numpy(backbone(x)), expected, atol=1e-6)

    factors = adapter_ids(backbone)
    before = snapshot(backbone)
    first, last = train_steps(
        backbone, x, batch(expected.shape, seed=2), learning_rate=0.01
    )
    assert last < first, (first, last)
    after = snapshot(backbone)
    frozen_changed = [
        v.path
        for v in backbone.weights
        if id(v) not in factors
        and not np.array_equal(before[id(v)], after[id(v)])
    ]
    assert not frozen_changed  # conv kernels, BN statistics, block alphas

    # A keras-hub backbone reloads from its arguments: plain Conv2D layers
    # holding the merged kernels, with the same outputs.
    adapted = to_numpy(backbone(x))
    backbone.save(tmp_path / "backbone.keras")
    restored = keras.saving.load_model(tmp_path / "backbone.keras")
    np.testing.assert_allclose(to_numpy(restored(x)), adapted, atol=1e-5)
    assert not any(
        isinstance(layer, HadamardAdapter)
        for layer in restored._flatten_layers()
    )
    merge_adapters(backbone)
    np.testing.assert_allclose(to_numpy(backbone(x)), adapted, atol=1e-5)


def test_targets_by_name_or_path_in_nested_layers():
    backbone = prodpoly_backbone()
    assert enable_hira(backbone, rank=2, targets="conv1") == [
        "stage0_block0/conv1",
        "stage1_block0/conv1",
    ]
    backbone = prodpoly_backbone()
    assert enable_loha(backbone, rank=1, targets=["stage1_block0/conv2"]) == [
        "stage1_block0/conv2"
    ]


def test_ccp_model_skips_the_polynomial_layer():
    classifier = PiNetImageClassifier(
        backbone=PiNetBackbone("ccp", image_shape=(4, 4, 1), rank=4, degree=2),
        num_classes=3,
    )
    classifier(np.zeros((1, 4, 4, 1), "float32"))
    with pytest.raises(TypeError, match=r"'ccp' \(CCP\) does not support"):
        enable_hira(classifier, rank=2, targets=["ccp", "predictions"])
    assert not api._adapted_layers(classifier)  # nothing half-adapted
    assert enable_hira(classifier, rank=2) == ["predictions"]
    assert trainable_parameter_count(classifier) == 2 * (4 + 3)
    with pytest.raises(ValueError, match="Found no layer to adapt"):
        enable_loha(classifier.backbone, rank=2)


@pytest.mark.parametrize("method", sorted(ENABLE))
def test_keras_hub_bert_backbone(method, tmp_path):
    backbone = tiny_bert()
    inputs = bert_inputs()
    expected = to_numpy(backbone(inputs)["sequence_output"])
    base_weights = backbone.get_weights()
    paths = ENABLE[method](backbone, rank=2, targets=["query", "value"])
    assert paths == [
        "transformer_layer_0/self_attention_layer/value",
        "transformer_layer_0/self_attention_layer/query",
    ]
    output = to_numpy(backbone(inputs)["sequence_output"])
    np.testing.assert_allclose(output, expected, atol=1e-6)
    # EinsumDense kernels (4, 2, 2) are 8x2 matrices: 2 (8 + 2) per pair.
    pairs = 2 if method == "loha" else 1
    assert trainable_parameter_count(backbone) == 2 * pairs * 2 * (8 + 2)
    # One base model, one small adapter file per task.
    randomize_factors(backbone)
    adapted = to_numpy(backbone(inputs)["sequence_output"])
    save_adapter_weights(backbone, tmp_path / "task.npz")
    other = tiny_bert()
    other.set_weights(base_weights)
    ENABLE[method](other, rank=2, targets=["query", "value"])
    load_adapter_weights(other, tmp_path / "task.npz")
    output = to_numpy(other(inputs)["sequence_output"])
    np.testing.assert_allclose(output, adapted, atol=1e-6)
    if method != "lora":
        backbone.save(tmp_path / "bert.keras")
        restored = keras.saving.load_model(tmp_path / "bert.keras")
        output = to_numpy(restored(inputs)["sequence_output"])
        np.testing.assert_allclose(output, adapted, atol=1e-5)


@pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="torch parameters only"
)
def test_torch_parameters_follow_the_adapters():
    model = functional_model()

    def torch_trainable():
        return sum(p.numel() for p in model.parameters() if p.requires_grad)

    enable_loha(model, rank=2)
    assert torch_trainable() == trainable_parameter_count(model) > 0
    merge_adapters(model)
    assert len(list(model.parameters())) == len(model.weights)


def test_mixed_precision_model():
    inputs = keras.Input((5,))
    outputs = keras.layers.Dense(4, dtype="mixed_bfloat16", name="d")(inputs)
    model = keras.Model(inputs, outputs)
    x = batch((2, 5))
    expected = to_numpy(model(x)).astype("float32")
    enable_hira(model, rank=2)
    layer = model.get_layer("d")
    assert all(v.dtype == "float32" for v in layer.weights)
    output = model(x)
    assert keras.backend.standardize_dtype(output.dtype) == "bfloat16"
    np.testing.assert_allclose(
        to_numpy(output).astype("float32"), expected, atol=1e-2
    )


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize("rank", [0, -2, 1.5, True, "2", None])
@pytest.mark.parametrize("method", sorted(ENABLE))
def test_invalid_rank(method, rank):
    with pytest.raises(ValueError, match="rank"):
        ENABLE[method](functional_model(), rank=rank)


@pytest.mark.parametrize("method", sorted(ENABLE))
def test_rank_larger_than_a_layer_allows(method):
    model = functional_model()
    # `head` is a 3x2 matrix: rank <= 2. Nothing is adapted on failure.
    with pytest.raises(ValueError, match=r"'head'.*3x2 matrix.*<= 2"):
        ENABLE[method](model, rank=3)
    assert not api._adapted_layers(model)
    assert ENABLE[method](model, rank=3, targets=["proj", "attn"])


@pytest.mark.parametrize("alpha", [0, -1.0, "one", False])
@pytest.mark.parametrize("method", ["loha", "lora"])
def test_invalid_alpha(method, alpha):
    with pytest.raises(ValueError, match="alpha"):
        ENABLE[method](functional_model(), rank=2, alpha=alpha)


@pytest.mark.parametrize("targets", [3, [], ["proj", 3], {"proj"}, b"proj"])
def test_invalid_targets(targets):
    with pytest.raises(ValueError, match="targets"):
        enable_hira(functional_model(), rank=2, targets=targets)


@pytest.mark.parametrize("method", sorted(ENABLE))
def test_unsupported_layer_named_explicitly(method):
    with pytest.raises(TypeError, match=r"'norm' \(BatchNormalization\)"):
        ENABLE[method](functional_model(), rank=2, targets=["norm"])


def test_missing_target_name():
    with pytest.raises(ValueError, match="no layer named 'nope'.*'proj'"):
        enable_loha(functional_model(), rank=2, targets=["proj", "nope"])


def test_predicate_matching_nothing():
    with pytest.raises(ValueError, match="matching `targets`"):
        enable_hira(functional_model(), rank=2, targets=lambda layer: False)


def test_layer_adapted_twice():
    model = functional_model()
    enable_hira(model, rank=2, targets=["proj"])
    with pytest.raises(ValueError, match="'proj' already has a hira adapter"):
        enable_loha(model, rank=2, targets=["proj"])
    with pytest.raises(ValueError, match="'proj' already has a hira adapter"):
        enable_lora(model, rank=2, targets=["proj"])
    assert enable_loha(model, rank=2) == ADAPTED[1:]  # the others
    with pytest.raises(ValueError, match="4 layer"):
        enable_hira(model, rank=2)


def test_unbuilt_layer():
    with pytest.raises(ValueError, match="not built"):
        enable_hira(keras.layers.Dense(3), rank=1)


def test_not_a_model():
    with pytest.raises(ValueError, match="model_or_layer"):
        enable_hira(np.zeros((3, 3)), rank=1)


def test_quantized_layer():
    layer = keras.layers.Dense(4, name="q")
    layer.build((None, 8))
    layer.quantize("int8")
    with pytest.raises(ValueError, match="'q' is quantized"):
        enable_loha(layer, rank=2)


def test_predict_after_merge_uses_the_merged_kernel():
    # Traced predict functions (TensorFlow) captured the adapted kernel; a
    # merge must drop them or the update would be added twice.
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(3, name="proj")(inputs))
    enable_loha(model, rank=1)
    layer = model.get_layer("proj")
    for variable in layer.trainable_weights:
        variable.assign(np.full(variable.shape, 0.5, "float32"))
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    before = model.predict(x, verbose=0)
    merge_adapters(model)
    np.testing.assert_allclose(model.predict(x, verbose=0), before, atol=1e-5)
