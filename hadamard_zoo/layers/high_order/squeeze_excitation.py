"""Squeeze-and-excitation (SE) channel gating."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SqueezeExcitation(DenseWeightsLayer):
    """Squeeze-and-excitation block: channels rescaled by a learned gate.

    A feature map `u` of shape `(B, ..., C)` (channels last) is squeezed
    to one descriptor per channel by global average pooling over every
    spatial axis, passed through a bottleneck of two dense maps and
    multiplied back into `u` channel by channel (survey Eq. 3):

    ```
    z = GAP(u)                      z ∈ R^C
    s = σ(W_2 δ(W_1 z + b_1) + b_2)   W_1: C → C/r,  W_2: C/r → C
    y = u * s                       (s broadcast over the spatial axes)
    ```

    where `δ` is `activation` (ReLU in the paper), `σ` is `gate_activation`
    (the sigmoid) and `*` is the Hadamard product. The bottleneck width is
    `max(min_units, C // ratio)`. The gate depends on the whole input, so
    the block models channel interdependencies at a cost of Θ(C²/r)
    parameters; in SENet it sits on the residual branch, before the add.

    Args:
        ratio: int >= 1, the reduction ratio `r`. Defaults to `16`, the
            paper's choice.
        min_units: int >= 1, the smallest bottleneck width, used when
            `C // ratio` would be smaller (e.g. `C < ratio`). Defaults to
            `1`.
        activation: activation `δ` of the bottleneck. Defaults to `"relu"`.
            `None` means linear.
        gate_activation: activation `σ` of the gate. Defaults to
            `"sigmoid"`, which keeps `s` in (0, 1). `None` means linear.
        use_bias: bool, whether `W_1` and `W_2` have biases. Defaults to
            `True` (the paper's fully connected layers have biases).
        kernel_initializer: initializer of `W_1` and `W_2`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(B, ..., C)` with at least one spatial
            axis (rank >= 3), channels last.

    Returns:
        Tensor of the input's shape.

    Weights:
        `squeeze_kernel` `(C, C/r)`, `squeeze_bias` `(C/r,)`,
        `excite_kernel` `(C/r, C)`, `excite_bias` `(C,)`.

    Example:

    >>> import numpy as np
    >>> layer = SqueezeExcitation(ratio=4)
    >>> tuple(layer(np.ones((2, 8, 8, 32), "float32")).shape)
    (2, 8, 8, 32)

    Reference:
        Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018;
        Chrysos et al., "Hadamard product in deep learning", Eq. 3.
    """

    def __init__(
        self,
        ratio=16,
        min_units=1,
        activation="relu",
        gate_activation="sigmoid",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.ratio = check_int("ratio", ratio)
        self.min_units = check_int("min_units", min_units)
        self.activation = get_activation(activation, "activation")
        self.gate_activation = get_activation(
            gate_activation, "gate_activation"
        )

    def squeeze_units(self, channels):
        """The bottleneck width for `channels` input channels."""
        return max(self.min_units, channels // self.ratio)

    def build(self, input_shape):
        channels = last_axis(self, input_shape, min_rank=3)
        units = self.squeeze_units(channels)
        self.squeeze_kernel, self.squeeze_bias = self.add_dense_weights(
            "squeeze", (channels, units)
        )
        self.excite_kernel, self.excite_bias = self.add_dense_weights(
            "excite", (units, channels)
        )
        self.input_spec = keras.InputSpec(min_ndim=3, axes={-1: channels})

    def call(self, inputs):
        spatial_axes = tuple(range(1, len(inputs.shape) - 1))
        # Keeping the pooled axes lets `s` broadcast straight back onto u.
        z = ops.mean(inputs, axis=spatial_axes, keepdims=True)
        hidden = self.dense(z, self.squeeze_kernel, self.squeeze_bias)
        if self.activation is not None:
            hidden = self.activation(hidden)
        gate = self.dense(hidden, self.excite_kernel, self.excite_bias)
        if self.gate_activation is not None:
            gate = self.gate_activation(gate)
        return inputs * gate

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "min_units": self.min_units,
                "activation": serialize_activation(self.activation),
                "gate_activation": serialize_activation(self.gate_activation),
            }
        )
        return config
