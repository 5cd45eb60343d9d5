import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.drop_connect import DropConnectDense
from hadamard_zoo.layers.modulation.weight_mask import WeightMask


def relu(x):
    return np.maximum(x, 0.0)


def same_pads(length, kernel, stride):
    """TF/Keras 'same' padding: (before, after) along one axis."""
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def conv2d_same(x, kernel, stride):
    """'same' cross-correlation of NHWC `x` with an HWIO kernel, by loops."""
    kh, kw = kernel.shape[:2]
    pads = same_pads(x.shape[1], kh, stride), same_pads(x.shape[2], kw, stride)
    x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[
                :, i * stride : i * stride + kh, j * stride : j * stride + kw
            ]
            out[:, i, j, :] = np.einsum("bhwc,hwco->bo", patch, kernel)
    return out


def conv1d_causal(x, kernel, dilation):
    """Causal dilated 1D cross-correlation: y_t = Σ_k x_{t-(K-1-k)d} W_k."""
    size = kernel.shape[0]
    out = np.zeros(x.shape[:2] + (kernel.shape[-1],))
    for t in range(x.shape[1]):
        for k in range(size):
            source = t - (size - 1 - k) * dilation
            if source >= 0:
                out[:, t, :] += x[:, source, :] @ kernel[k]
    return out


def masked(weights, prefix):
    return weights[f"{prefix}/kernel"] * weights["mask"]


def dense_reference(inputs, weights):
    """y = relu(x (W * M) + b)."""
    (x,) = inputs
    return relu(x @ masked(weights, "dense") + weights["dense/bias"])


def conv2d_reference(inputs, weights):
    """y = (W * M) ⊛ x + b ('same', stride 2)."""
    (x,) = inputs
    return conv2d_same(x, masked(weights, "conv"), 2) + weights["conv/bias"]


def einsum_reference(inputs, weights):
    """y = tanh(einsum('abc,cd->abd', x, W * M) + b)."""
    (x,) = inputs
    y = np.einsum("abc,cd->abd", x, masked(weights, "einsum"))
    return np.tanh(y + weights["einsum/bias"])


def conv1d_reference(inputs, weights):
    """y = (W * M) ⊛ x, causal, dilation 2, no bias."""
    (x,) = inputs
    return conv1d_causal(x, masked(weights, "conv1d"), 2)


def binary(rng, shape):
    return rng.integers(0, 2, shape).astype("float32")


def case(name, layer, input_shapes, reference):
    return LayerCase(
        name=name,
        layer_cls=WeightMask,
        init_kwargs=dict(layer=keras.layers.serialize(layer)),
        input_shapes=input_shapes,
        reference=reference,
        weight_overrides={"mask": binary},
    )


CASES = [
    case(
        "weight_mask_dense_relu",
        keras.layers.Dense(3, activation="relu", name="dense"),
        (4, 5),
        dense_reference,
    ),
    case(
        "weight_mask_conv2d_stride2_same",
        keras.layers.Conv2D(3, 3, strides=2, padding="same", name="conv"),
        (2, 5, 6, 2),
        conv2d_reference,
    ),
    case(
        "weight_mask_einsum_dense_tanh",
        keras.layers.EinsumDense(
            "abc,cd->abd",
            output_shape=(None, 4),
            bias_axes="d",
            activation="tanh",
            name="einsum",
        ),
        (2, 3, 5),
        einsum_reference,
    ),
    case(
        "weight_mask_conv1d_causal_dilated_nobias",
        keras.layers.Conv1D(
            3,
            3,
            padding="causal",
            dilation_rate=2,
            use_bias=False,
            name="conv1d",
        ),
        (2, 7, 2),
        conv1d_reference,
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


INNER_LAYERS = [
    (lambda: keras.layers.Dense(4, activation="relu"), (3, 5)),
    (lambda: keras.layers.Dense(4, use_bias=False), (2, 3, 5)),
    (lambda: keras.layers.EinsumDense("ab,bc->ac", output_shape=4), (3, 5)),
    (lambda: keras.layers.Conv1D(4, 3, strides=2, padding="valid"), (2, 9, 3)),
    (lambda: keras.layers.Conv1D(4, 2, padding="causal"), (2, 6, 3)),
    (
        lambda: keras.layers.Conv2D(4, (2, 3), dilation_rate=2, padding="same"),
        (2, 7, 6, 3),
    ),
]


@pytest.mark.parametrize("make, shape", INNER_LAYERS)
def test_all_ones_mask_matches_the_wrapped_layer(make, shape):
    wrapper = WeightMask(make())
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    np.testing.assert_allclose(
        _numpy(wrapper(x)), _numpy(wrapper.layer(x)), rtol=1e-5, atol=1e-6
    )


def _pruned_dense(rng):
    wrapper = WeightMask(keras.layers.Dense(3, name="fc"), name="masked_fc")
    model = keras.Sequential([keras.Input((6,)), wrapper])
    mask = binary(rng, (6, 3))
    mask[0, 0], mask[1, 1] = 0.0, 1.0  # at least one of each
    wrapper.set_mask(mask)
    return model, wrapper, mask


def test_set_mask_zeroes_the_masked_weights():
    model, wrapper, mask = _pruned_dense(np.random.default_rng(0))
    kernel = _numpy(wrapper.layer.kernel)
    assert np.all(kernel[mask == 0] == 0)
    assert np.all(kernel[mask == 1] != 0)
    np.testing.assert_array_equal(_numpy(wrapper.mask), mask)
    np.testing.assert_array_equal(_numpy(wrapper.masked_kernel), kernel)


def test_masked_weights_stay_zero_during_fine_tuning():
    rng = np.random.default_rng(1)
    model, wrapper, mask = _pruned_dense(rng)
    before = _numpy(wrapper.layer.kernel)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    x = rng.normal(size=(32, 6)).astype("float32")
    y = rng.normal(size=(32, 3)).astype("float32")
    model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    after = _numpy(wrapper.layer.kernel)
    assert np.all(after[mask == 0] == 0)
    assert np.all(after[mask == 1] != before[mask == 1])
    assert len(wrapper.trainable_weights) == 2  # the mask is not trained
    np.testing.assert_array_equal(_numpy(wrapper.mask), mask)


def test_set_mask_before_build_is_rejected():
    with pytest.raises(ValueError, match="built"):
        WeightMask(keras.layers.Dense(2)).set_mask(np.ones((3, 2)))


def test_set_mask_of_a_wrong_shape_is_rejected():
    wrapper = WeightMask(keras.layers.Dense(2))
    wrapper(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"kernel's shape \(3, 2\)"):
        wrapper.set_mask(np.ones((2, 3)))


def test_set_mask_with_non_binary_values_is_rejected():
    wrapper = WeightMask(keras.layers.Dense(2))
    wrapper(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="only 0 and 1"):
        wrapper.set_mask(np.full((3, 2), 0.5))


class MyDense(keras.layers.Dense):
    pass


@pytest.mark.parametrize(
    "layer",
    [
        keras.layers.LSTM(3),
        keras.layers.DepthwiseConv2D(3),
        MyDense(2),
        DropConnectDense(2),
        "dense",
    ],
    ids=["lstm", "depthwise", "dense_subclass", "drop_connect", "string"],
)
def test_unsupported_layers_are_rejected(layer):
    with pytest.raises(TypeError, match="`layer` must be"):
        WeightMask(layer)


def test_lora_layers_are_rejected():
    dense = keras.layers.Dense(2)
    dense.build((None, 4))
    dense.enable_lora(1)
    with pytest.raises(TypeError, match="LoRA"):
        WeightMask(dense)


def test_wrong_input_shape_is_rejected():
    wrapper = WeightMask(keras.layers.Dense(2))
    wrapper(np.zeros((1, 3), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        wrapper(np.zeros((1, 4), "float32"))


def test_serialize_round_trip_keeps_the_wrapped_layer():
    wrapper = WeightMask(
        keras.layers.Conv2D(2, 3, strides=2, name="conv"), name="masked"
    )
    x = np.random.default_rng(0).normal(size=(1, 6, 6, 2)).astype("float32")
    wrapper(x)
    wrapper.set_mask(binary(np.random.default_rng(1), (3, 3, 2, 2)))
    clone = keras.layers.deserialize(keras.layers.serialize(wrapper))
    assert isinstance(clone, WeightMask)
    assert isinstance(clone.layer, keras.layers.Conv2D)
    assert clone.layer.strides == (2, 2) and clone.name == "masked"
    clone(x)
    clone.set_weights(wrapper.get_weights())
    np.testing.assert_array_equal(_numpy(clone(x)), _numpy(wrapper(x)))
