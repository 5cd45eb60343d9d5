"""Highway layer: a gated average of a transform and the identity."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class Highway(DenseWeightsLayer):
    """Highway layer: a learned gate mixes a transform with the input.

    A transform `H` of the input and the input itself are averaged with
    weights given by a sigmoid gate `T` computed from the same input:

    ```
    H = act(x W_H + b_H)           the transform
    T = σ(x W_T + b_T)             the transform gate, in (0, 1)
    y = H * T + x * (1 - T)
    ```

    where `*` is the Hadamard product. This is the survey's gated average
    (Eq. 8) `Y = R * A + (1 - R) * B` with `R = T`, `A = H`, `B = x`;
    `1 - T` is what Srivastava et al. call the carry gate. Where `T → 0`
    the layer passes `x` through unchanged, so a deep stack still
    propagates information and gradients. The paper initialises `b_T`
    negative (-1 to -3) so that layers start close to carrying their
    input: `gate_bias_initializer` defaults to `-1.0`. The output has
    the input's width (`W_H`, `W_T` are square).

    Args:
        activation: activation `act` of the transform `H`. Defaults to
            `"relu"`. `None` means linear.
        gate_bias_initializer: initializer of the gate bias `b_T`: a number
            (used as a constant) or any Keras initializer. Defaults to
            `-1.0`. Unused when `use_bias=False`.
        use_bias: bool, whether `H` and `T` have biases. Defaults to `True`.
        kernel_initializer: initializer of `W_H` and `W_T`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the transform bias `b_H`.
            Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., d)`.

    Weights:
        `transform_kernel` `W_H` and `gate_kernel` `W_T`, both `(d, d)`;
        `transform_bias` `b_H` and `gate_bias` `b_T`, both `(d,)`.

    Example:

    >>> import numpy as np
    >>> layer = Highway(activation="tanh", gate_bias_initializer=-2.0)
    >>> tuple(layer(np.ones((2, 16), "float32")).shape)
    (2, 16)

    Reference:
        Srivastava, Greff and Schmidhuber, "Training Very Deep Networks",
        NeurIPS 2015 (and "Highway Networks", arXiv:1505.00387);
        Chrysos et al., "Hadamard product in deep learning", Eq. 8.
    """

    def __init__(
        self,
        activation="relu",
        gate_bias_initializer=-1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.activation = get_activation(activation, "activation")
        self.gate_bias_initializer = get_initializer(
            gate_bias_initializer, "gate_bias_initializer"
        )

    def build(self, input_shape):
        units = last_axis(self, input_shape)
        self.transform_kernel, self.transform_bias = self.add_dense_weights(
            "transform", (units, units)
        )
        self.gate_kernel, self.gate_bias = self.add_dense_weights(
            "gate",
            (units, units),
            bias_initializer=self.gate_bias_initializer,
        )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: units})

    def call(self, inputs):
        # H and T read the same input: one matmul computes both.
        kernel = ops.concatenate([self.transform_kernel, self.gate_kernel], -1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.transform_bias, self.gate_bias], -1)
        transform, gate = ops.split(
            self.dense(inputs, kernel, bias), 2, axis=-1
        )
        if self.activation is not None:
            transform = self.activation(transform)
        gate = ops.sigmoid(gate)
        return transform * gate + inputs * (1.0 - gate)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "activation": serialize_activation(self.activation),
                "gate_bias_initializer": keras.initializers.serialize(
                    self.gate_bias_initializer
                ),
            }
        )
        return config
