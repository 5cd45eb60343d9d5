"""Convolutional CCP / NCP polynomial layer."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple

MODES = ("ccp", "ncp")
PADDINGS = ("same", "valid")


def conv_output_length(length, kernel_size, stride, padding):
    """Output length of a convolution along one axis (Keras semantics)."""
    if length is None:
        return None
    if padding == "same":
        return math.ceil(length / stride)
    return (length - kernel_size) // stride + 1


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolyConv2D(DenseWeightsLayer):
    """Degree-N polynomial of an image with convolutional CCP / NCP factors.

    The Π-Nets recursions with every factor `U_nᵀ z` / `A_nᵀ z` replaced by
    a 2D convolution `⊛` of the input `z` (channels last):

    ```
    mode="ccp":
        x_1 = U_1 ⊛ z
        x_n = (U_n ⊛ z) * x_{n-1} + x_{n-1},                   n = 2..N
    mode="ncp":
        x_1 = A_1 ⊛ z
        x_n = (A_n ⊛ z) * (S_n x_{n-1} + s_n),                 n = 2..N
        x_n = (A_n ⊛ z) * (S_n x_{n-1} + s_n) + x_{n-1}        (skip=True)
    ```

    where `*` is the Hadamard product, every `U_n ⊛ z` / `A_n ⊛ z` is a
    `kernel_size` convolution with `filters` outputs (and a bias when
    `use_bias`), and `S_n` is a 1x1 convolution, i.e. the `k x k` channel
    mixing matrix of the dense NCP, with bias `s_n`. All degrees share
    `kernel_size`, `strides` and `padding`, so every `x_n` has the same
    shape; the layer computes the N input convolutions as one convolution
    with the concatenated kernels. With `activation` set, it is applied to
    `x_1 .. x_{N-1}` before they enter the next degree (the activated
    `x_{n-1}` is also what the skip adds); `x_N` stays linear. With
    `degree=1` the layer is a plain `Conv2D`.

    Args:
        filters: int, the number of output channels `k` of every factor.
        degree: int >= 1, the polynomial degree `N`.
        kernel_size: int or tuple of 2 ints, the size of the convolutions
            on `z`. Defaults to `3`.
        strides: int or tuple of 2 ints, their strides. Defaults to `1`.
        padding: `"same"` or `"valid"` (Keras semantics). Defaults to
            `"same"`.
        mode: `"ccp"` (coupled CP) or `"ncp"` (nested CP). Defaults to
            `"ccp"`.
        skip: bool, whether NCP adds the identity skip `x_{n-1}` at every
            degree (NCP-Skip). Only valid with `mode="ncp"` (CCP always has
            it). Defaults to `False`.
        activation: optional activation applied between terms. Defaults to
            `None` (a pure polynomial).
        use_bias: bool, whether the convolutions and `S_n` have biases.
            Defaults to `True`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.

    Returns:
        Tensor of shape `(batch, new_height, new_width, filters)`.

    Example:

    >>> import numpy as np
    >>> layer = PolyConv2D(filters=8, degree=3, strides=2, mode="ncp")
    >>> tuple(layer(np.ones((2, 28, 28, 1), "float32")).shape)
    (2, 14, 14, 8)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Deep Polynomial Neural Networks", TPAMI 2021;
        Chrysos et al., "Hadamard product in deep learning" (polynomial
        networks; the convolutional variant of its introductory notebooks,
        github.com/polynomial-nets/tutorial-2022-intro-polynomial-nets).
    """

    def __init__(
        self,
        filters,
        degree,
        kernel_size=3,
        strides=1,
        padding="same",
        mode="ccp",
        skip=False,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.degree = check_int("degree", degree)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
        self.strides = check_int_tuple("strides", strides, 2)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.mode = check_choice("mode", mode, MODES)
        check_bool("skip", skip)
        if skip and self.mode != "ncp":
            raise ValueError(
                "`skip=True` is only valid with mode='ncp' (CCP always "
                f"adds x_{{n-1}}). Received: skip={skip}, mode={mode!r}."
            )
        self.skip = skip
        self.activation = get_activation(activation)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (PolyConv2D) expects inputs of rank 4 "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received input with shape {shape}."
            )
        channels = int(shape[-1])
        prefix = "u" if self.mode == "ccp" else "a"
        factors = [
            self._add_factor(
                f"{prefix}{n}", self.kernel_size + (channels, self.filters)
            )
            for n in range(1, self.degree + 1)
        ]
        self.factor_kernels = [kernel for kernel, _ in factors]
        self.factor_biases = [bias for _, bias in factors]
        self.s_weights = []
        if self.mode == "ncp":
            self.s_weights = [
                self._add_factor(f"s{n}", (1, 1, self.filters, self.filters))
                for n in range(2, self.degree + 1)
            ]
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def _add_factor(self, prefix, shape):
        # add_dense_weights gives every weight its own initializer instance,
        # which keeps the degrees' factors distinct at initialisation.
        return self.add_dense_weights(prefix, shape)

    def call(self, inputs):
        # All U_n ⊛ z are independent of each other: one conv computes them.
        kernel = ops.concatenate(self.factor_kernels, axis=-1)
        projections = ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
        )
        if self.use_bias:
            projections = projections + ops.concatenate(self.factor_biases)
        projections = ops.split(projections, self.degree, axis=-1)
        out = projections[0]
        for n, projection in enumerate(projections[1:]):
            if self.activation is not None:
                out = self.activation(out)
            if self.mode == "ccp":
                out = projection * out + out
                continue
            # S_n is a 1x1 convolution: a matmul over the channel axis.
            s_kernel, s_bias = self.s_weights[n]
            s_kernel = ops.reshape(s_kernel, (self.filters, self.filters))
            product = projection * self.dense(out, s_kernel, s_bias)
            out = product + out if self.skip else product
        return out

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        height = conv_output_length(
            height, self.kernel_size[0], self.strides[0], self.padding
        )
        width = conv_output_length(
            width, self.kernel_size[1], self.strides[1], self.padding
        )
        return (batch, height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "degree": self.degree,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "mode": self.mode,
                "skip": self.skip,
                "activation": serialize_activation(self.activation),
            }
        )
        return config
