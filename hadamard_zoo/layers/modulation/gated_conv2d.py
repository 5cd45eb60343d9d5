"""Gated convolution: a convolution modulated by a learned soft mask."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.layers.modulation.partial_conv2d import check_conv_arguments
from hadamard_zoo.layers.modulation.partial_conv2d import conv_output_shape
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GatedConv2D(DenseWeightsLayer):
    """Gated convolution: features times a learned sigmoid gate (DeepFill v2).

    Two convolutions of the same input; one, through a sigmoid, is a soft
    mask learned per channel and position that multiplies the other:

    ```
    Gating  = W_g ⊛ x + b_g
    Feature = W_f ⊛ x + b_f
    y       = φ(Feature) * σ(Gating)
    ```

    where `*` is the Hadamard product and `⊛` the convolution. It replaces
    the hand-made binary mask update of the partial convolution with a
    learned one, so free-form masks (and user sketches fed as extra input
    channels) need no rule. Both convolutions share `kernel_size`,
    `strides`, `padding` and `dilation_rate` and are computed as one
    convolution with the concatenated kernels, then split (as Yu et al.'s
    `gen_conv`).

    Args:
        filters: int >= 1, the number of output channels.
        kernel_size: int or tuple of 2 ints. Defaults to `3`.
        strides: int or tuple of 2 ints. Defaults to `1`.
        padding: `"same"` or `"valid"` (Keras semantics). Defaults to
            `"same"`.
        dilation_rate: int or tuple of 2 ints (DeepFill v2 uses dilated
            gated convolutions in its bottleneck); cannot exceed 1 together
            with `strides`. Defaults to `1`.
        activation: the feature activation `φ`. Defaults to `"elu"`, as in
            Yu et al.; `None` means linear.
        use_bias: bool, whether the convolutions have biases. Defaults to
            `True`.
        kernel_initializer: initializer of `W_f` and `W_g`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b_f` and `b_g`. Defaults to
            `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.

    Returns:
        Tensor of shape `(batch, new_height, new_width, filters)`.

    Weights:
        `feature_kernel` `W_f` and `gate_kernel` `W_g`, both
        `(kh, kw, channels, filters)`; `feature_bias` `b_f` and `gate_bias`
        `b_g`, both `(filters,)`.

    Example:

    >>> import numpy as np
    >>> layer = GatedConv2D(filters=8, kernel_size=5, strides=2)
    >>> tuple(layer(np.ones((2, 32, 32, 5), "float32")).shape)
    (2, 16, 16, 8)

    Reference:
        Yu et al., "Free-Form Image Inpainting with Gated Convolution",
        ICCV 2019;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation: masks and gates).
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        dilation_rate=1,
        activation="elu",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        (
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
        ) = check_conv_arguments(kernel_size, strides, padding, dilation_rate)
        self.activation = get_activation(activation, "activation")
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (GatedConv2D) expects inputs of rank 4 "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received input with shape {shape}."
            )
        channels = int(shape[-1])
        kernel_shape = self.kernel_size + (channels, self.filters)
        self.feature_kernel, self.feature_bias = self.add_dense_weights(
            "feature", kernel_shape
        )
        self.gate_kernel, self.gate_bias = self.add_dense_weights(
            "gate", kernel_shape
        )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        # Feature and gate read the same input: one convolution computes
        # both.
        kernel = ops.concatenate([self.feature_kernel, self.gate_kernel], -1)
        outputs = ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )
        if self.use_bias:
            outputs = outputs + ops.concatenate(
                [self.feature_bias, self.gate_bias], -1
            )
        feature, gate = ops.split(outputs, 2, axis=-1)
        if self.activation is not None:
            feature = self.activation(feature)
        return feature * ops.sigmoid(gate)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
                "activation": serialize_activation(self.activation),
            }
        )
        return config
