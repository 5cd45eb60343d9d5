import math

import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d
from test_equalized_dense import lrelu

from hadamard_zoo.layers.modulation.style.equalized_conv2d import (
    EqualizedConv2D,
)


def equalized_conv_reference(
    inputs,
    weights,
    strides=(1, 1),
    padding="same",
    lr_multiplier=1.0,
    gain=1.0,
    activation=None,
):
    """act(conv(x, W gain λ / sqrt(kh kw C_in)) + λ b)."""
    x = inputs[0].astype("float64")
    kernel = weights["kernel"].astype("float64")
    kh, kw, channels = kernel.shape[:3]
    scale = gain * lr_multiplier / math.sqrt(kh * kw * channels)
    y = conv2d(x, kernel * scale, strides=strides, padding=padding)
    if "bias" in weights:
        y = y + lr_multiplier * weights["bias"]
    return lrelu(y) if activation == "lrelu" else y


CASES = [
    LayerCase(
        name="equalized_conv2d_k3_same",
        layer_cls=EqualizedConv2D,
        init_kwargs=dict(filters=3, kernel_size=3),
        input_shapes=(2, 4, 5, 2),
        reference=equalized_conv_reference,
    ),
    LayerCase(
        name="equalized_conv2d_k2x3_stride2_valid_lr05_lrelu",
        layer_cls=EqualizedConv2D,
        init_kwargs=dict(
            filters=2,
            kernel_size=(2, 3),
            strides=2,
            padding="valid",
            lr_multiplier=0.5,
            gain=math.sqrt(2.0),
            activation="lrelu",
        ),
        input_shapes=(2, 5, 6, 3),
        reference=lambda x, w: equalized_conv_reference(
            x,
            w,
            strides=(2, 2),
            padding="valid",
            lr_multiplier=0.5,
            gain=math.sqrt(2.0),
            activation="lrelu",
        ),
    ),
    LayerCase(
        name="equalized_conv2d_k1_nobias_stride2_same",
        layer_cls=EqualizedConv2D,
        init_kwargs=dict(filters=4, kernel_size=1, strides=2, use_bias=False),
        input_shapes=(2, 5, 4, 3),
        reference=lambda x, w: equalized_conv_reference(x, w, strides=(2, 2)),
    ),
]

test_harness = layer_tests(CASES)


def test_effective_kernel_has_he_scale():
    layer = EqualizedConv2D(64, 3)
    layer.build((None, 8, 8, 32))
    kernel = keras.ops.convert_to_numpy(layer.kernel)
    assert abs(kernel.std() - 1.0) < 0.05, kernel.std()
    assert layer.weight_gain == pytest.approx(1.0 / math.sqrt(9 * 32))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=(3, 3, 3)), "kernel_size"),
        (dict(strides=(1, 2, 1)), "strides"),
        (dict(padding="causal"), "padding"),
        (dict(lr_multiplier=0), "lr_multiplier"),
        (dict(activation=3), "activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs = {"filters": 2, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        EqualizedConv2D(**kwargs)


def test_input_without_spatial_axes_rejected():
    with pytest.raises(ValueError, match="rank 4|ndim=4|expected ndim"):
        EqualizedConv2D(2, 3)(np.zeros((2, 5), "float32"))
