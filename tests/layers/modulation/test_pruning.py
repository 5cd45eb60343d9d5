import keras
import numpy as np
import pytest

from hadamard_zoo.layers.modulation.drop_connect import DropConnectDense
from hadamard_zoo.layers.modulation.pruning import prune_by_magnitude
from hadamard_zoo.layers.modulation.pruning import sparsity_report
from hadamard_zoo.layers.modulation.weight_mask import WeightMask


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _data(seed=0, n=32, d=6, k=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.normal(size=(n, k)).astype("float32")
    return x, y


def tiny_mlp(train=True):
    """6 -> 8 -> 3: kernels of 48 and 24 weights."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu", name="hidden"),
            keras.layers.Dense(3, name="out"),
        ],
        name="mlp",
    )
    if train:
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        model.fit(*_data(), epochs=3, batch_size=8, verbose=0)
    return model


def _kernels(model):
    return {
        layer.name: _numpy(layer.kernel)
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense)
    }


def _masks(model):
    return {
        layer.name: _numpy(layer.mask)
        for layer in model.layers
        if isinstance(layer, WeightMask)
    }


def test_prune_mlp_to_half_then_fine_tune():
    model = tiny_mlp()
    original = _kernels(model)
    pruned = prune_by_magnitude(model, 0.5)
    assert [type(layer) for layer in pruned.layers] == [WeightMask] * 2
    assert [layer.name for layer in pruned.layers] == ["hidden", "out"]
    report = sparsity_report(pruned)
    assert report["layers"]["hidden"] == {
        "zeros": 24,
        "weights": 48,
        "sparsity": 0.5,
    }
    assert report["layers"]["out"]["zeros"] == 12
    assert (report["zeros"], report["weights"]) == (36, 72)
    assert report["sparsity"] == 0.5
    masks = _masks(pruned)
    for name, kernel in original.items():
        mask = masks[name]
        # The smallest magnitudes went; the others are copied unchanged.
        assert (
            np.abs(kernel[mask == 0]).max() <= np.abs(kernel[mask == 1]).min()
        )
        wrapped = _numpy(pruned.get_layer(name).layer.kernel)
        np.testing.assert_array_equal(wrapped, kernel * mask)
    np.testing.assert_array_equal(_kernels(model)["hidden"], original["hidden"])

    # The pruned model computes the MLP with the masked kernels.
    x, y = _data(seed=1)
    layers = {layer.name: layer for layer in model.layers}
    hidden = np.maximum(
        x @ (original["hidden"] * masks["hidden"])
        + _numpy(layers["hidden"].bias),
        0,
    )
    expected = hidden @ (original["out"] * masks["out"]) + _numpy(
        layers["out"].bias
    )
    np.testing.assert_allclose(
        pruned.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-5
    )

    pruned.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = {
        name: _numpy(pruned.get_layer(name).layer.kernel) for name in masks
    }
    pruned.fit(x, y, epochs=3, batch_size=8, verbose=0)
    report = sparsity_report(pruned)
    assert abs(report["zeros"] - 36) <= 1
    for name, mask in masks.items():
        kernel = _numpy(pruned.get_layer(name).layer.kernel)
        assert np.all(kernel[mask == 0] == 0)  # still pruned
        assert not np.array_equal(kernel, before[name])  # fine-tuned
        np.testing.assert_array_equal(_numpy(pruned.get_layer(name).mask), mask)


def test_global_scope_uses_one_threshold():
    model = tiny_mlp()
    original = _kernels(model)
    pruned = prune_by_magnitude(model, 0.6, scope="global")
    report = sparsity_report(pruned)
    assert report["zeros"] == round(0.6 * 72)
    masks = _masks(pruned)
    pruned_values = np.concatenate(
        [np.abs(original[n][masks[n] == 0]) for n in masks]
    )
    kept_values = np.concatenate(
        [np.abs(original[n][masks[n] == 1]) for n in masks]
    )
    assert pruned_values.max() <= kept_values.min()


def test_rounding_of_the_pruned_count():
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(3, name="odd")]
    )
    for sparsity, zeros in [(0.5, 8), (0.1, 2), (0.0, 0), (0.99, 15)]:
        report = sparsity_report(prune_by_magnitude(model, sparsity))
        assert report["layers"]["odd"]["zeros"] == zeros, sparsity


def test_pruning_again_keeps_earlier_masks():
    model = tiny_mlp()
    half = prune_by_magnitude(model, 0.5)
    three_quarters = prune_by_magnitude(half, 0.75)
    assert sparsity_report(three_quarters)["sparsity"] == 0.75
    for name, mask in _masks(half).items():
        later = _masks(three_quarters)[name]
        assert np.all(later[mask == 0] == 0)
    # A lower target cannot bring pruned weights back.
    quarter = prune_by_magnitude(three_quarters, 0.25)
    assert sparsity_report(quarter)["sparsity"] == 0.75


def _conv_model():
    keras.utils.set_random_seed(1)
    head = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="fc")], name="head"
    )
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, strides=2, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = head(x)
    model = keras.Model(inputs, outputs, name="convnet")
    bn = model.get_layer("bn")
    bn.moving_mean.assign(np.arange(4, dtype="float32"))
    bn.moving_variance.assign(np.full(4, 2.0, "float32"))
    return model


def test_functional_model_with_a_nested_model():
    model = _conv_model()
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
    # sparsity 0 only wraps: every weight (batch-norm statistics included)
    # is copied, so the outputs are the original ones.
    same = prune_by_magnitude(model, 0.0)
    np.testing.assert_allclose(
        same.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    pruned = prune_by_magnitude(model, 0.5)
    report = sparsity_report(pruned)
    assert set(report["layers"]) == {"conv", "head/fc"}
    assert report["layers"]["conv"]["zeros"] == 36
    assert report["layers"]["head/fc"]["zeros"] == 4
    assert isinstance(pruned.get_layer("head").get_layer("fc"), WeightMask)


def test_layer_types_selects_what_is_pruned():
    model = _conv_model()
    pruned = prune_by_magnitude(model, 0.5, layer_types=keras.layers.Dense)
    assert isinstance(pruned.get_layer("conv"), keras.layers.Conv2D)
    report = sparsity_report(pruned)
    assert report["layers"]["conv"]["zeros"] == 0
    assert report["layers"]["head/fc"]["zeros"] == 4


def test_einsum_dense_can_be_pruned():
    inputs = keras.Input((3, 4))
    outputs = keras.layers.EinsumDense(
        "abc,cd->abd", output_shape=(None, 5), name="proj"
    )(inputs)
    model = keras.Model(inputs, outputs)
    pruned = prune_by_magnitude(
        model, 0.25, layer_types=(keras.layers.EinsumDense,)
    )
    assert sparsity_report(pruned)["layers"]["proj"]["zeros"] == 5


def test_pruned_model_survives_a_keras_archive(tmp_path):
    pruned = prune_by_magnitude(tiny_mlp(train=False), 0.5)
    path = tmp_path / "pruned.keras"
    pruned.save(path)
    restored = keras.saving.load_model(path)
    assert isinstance(restored.get_layer("hidden"), WeightMask)
    x, _ = _data(seed=2)
    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), pruned.predict(x, verbose=0)
    )
    for name, mask in _masks(pruned).items():
        np.testing.assert_array_equal(_masks(restored)[name], mask)


@pytest.mark.parametrize("sparsity", [-0.1, 1.0, 1.5, "half", True])
def test_invalid_sparsity(sparsity):
    with pytest.raises(ValueError, match="sparsity"):
        prune_by_magnitude(tiny_mlp(train=False), sparsity)


def test_invalid_scope():
    with pytest.raises(ValueError, match="scope"):
        prune_by_magnitude(tiny_mlp(train=False), 0.5, scope="model")


@pytest.mark.parametrize(
    "layer_types",
    [
        (keras.layers.LSTM,),
        (keras.layers.Dense, DropConnectDense),
        keras.layers.DepthwiseConv2D,
        "Dense",
    ],
)
def test_unsupported_layer_types(layer_types):
    with pytest.raises(TypeError, match="layer_types"):
        prune_by_magnitude(tiny_mlp(train=False), 0.5, layer_types=layer_types)


def test_no_target_layer():
    with pytest.raises(ValueError, match="no layer of type Conv2D"):
        prune_by_magnitude(
            tiny_mlp(train=False), 0.5, layer_types=keras.layers.Conv2D
        )


def test_unbuilt_model():
    model = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="built"):
        prune_by_magnitude(model, 0.5)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(2)

    def call(self, x):
        return self.dense(x)


def test_subclassed_and_non_models_are_rejected():
    model = Subclassed()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match="Functional or Sequential"):
        prune_by_magnitude(model, 0.5)
    with pytest.raises(TypeError, match="Functional or Sequential"):
        prune_by_magnitude(keras.layers.Dense(2), 0.5)
    with pytest.raises(TypeError, match="keras.Model"):
        sparsity_report("model")
