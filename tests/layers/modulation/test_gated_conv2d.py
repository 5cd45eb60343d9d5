import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d

from hadamard_zoo.layers.modulation.gated_conv2d import GatedConv2D


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))


def gated_conv_reference(
    inputs,
    weights,
    activation=elu,
    strides=(1, 1),
    padding="same",
    dilation=(1, 1),
):
    """y = φ(W_f ⊛ x + b_f) * σ(W_g ⊛ x + b_g)."""
    (x,) = inputs
    x = x.astype("float64")

    def conv(prefix):
        kernel = weights[f"{prefix}_kernel"].astype("float64")
        out = conv2d(x, kernel, strides, padding, dilation)
        return out + weights.get(f"{prefix}_bias", 0.0)

    feature = conv("feature")
    if activation is not None:
        feature = activation(feature)
    return feature * sigmoid(conv("gate"))


CASES = [
    LayerCase(
        name="gated_conv2d_elu",
        layer_cls=GatedConv2D,
        init_kwargs=dict(filters=4, kernel_size=3),
        input_shapes=(2, 6, 6, 3),
        reference=gated_conv_reference,
    ),
    LayerCase(
        name="gated_conv2d_linear_stride2_valid_nobias",
        layer_cls=GatedConv2D,
        init_kwargs=dict(
            filters=3,
            kernel_size=(3, 2),
            strides=2,
            padding="valid",
            activation=None,
            use_bias=False,
        ),
        input_shapes=(2, 7, 6, 2),
        reference=lambda x, w: gated_conv_reference(
            x, w, None, (2, 2), "valid"
        ),
    ),
    LayerCase(
        name="gated_conv2d_tanh_dilated",
        layer_cls=GatedConv2D,
        init_kwargs=dict(
            filters=2, kernel_size=3, dilation_rate=2, activation="tanh"
        ),
        input_shapes=(1, 7, 7, 2),
        reference=lambda x, w: gated_conv_reference(
            x, w, np.tanh, dilation=(2, 2)
        ),
    ),
    LayerCase(
        name="gated_conv2d_stride2_same_even_kernel",
        layer_cls=GatedConv2D,
        init_kwargs=dict(filters=2, kernel_size=4, strides=2),
        input_shapes=(2, 7, 7, 2),
        reference=lambda x, w: gated_conv_reference(x, w, strides=(2, 2)),
    ),
]

test_harness = layer_tests(CASES)


def test_closed_gate_silences_the_output():
    # A very negative gate bias closes the gate: y ≈ 0 whatever x.
    layer = GatedConv2D(filters=2, kernel_size=1, bias_initializer=-50.0)
    y = layer(np.random.default_rng(0).normal(size=(1, 4, 4, 3)))
    assert np.max(np.abs(keras.ops.convert_to_numpy(y))) < 1e-10


def test_feature_and_gate_start_different():
    layer = GatedConv2D(filters=3)
    layer.build((None, 5, 5, 2))
    feature = keras.ops.convert_to_numpy(layer.feature_kernel)
    gate = keras.ops.convert_to_numpy(layer.gate_kernel)
    assert not np.allclose(feature, gate)


def test_wrong_input_rank_is_rejected():
    with pytest.raises(ValueError, match="ndim=4"):
        GatedConv2D(filters=2)(np.zeros((2, 5, 3), "float32"))


def test_wrong_channels_after_build():
    layer = GatedConv2D(filters=2)
    layer(np.zeros((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((1, 5, 5, 3), "float32"))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(filters=2, kernel_size=(3,)), "kernel_size"),
        (dict(filters=2, strides=0), "strides"),
        (dict(filters=2, padding="full"), "padding"),
        (dict(filters=2, strides=2, dilation_rate=2), "dilation_rate"),
        (dict(filters=2, activation="nope"), "activation"),
        (dict(filters=2, bias_initializer="nope"), "bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GatedConv2D(**kwargs)
