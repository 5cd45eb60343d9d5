"""A base class for layers whose weights are dense kernels and biases."""

import keras
from keras import ops


def get_activation(identifier):
    """Like `keras.activations.get`, but keeps `None` as "no activation"."""
    return None if identifier is None else keras.activations.get(identifier)


def serialize_activation(activation):
    """Inverse of `get_activation`, for `get_config()`."""
    if activation is None:
        return None
    return keras.activations.serialize(activation)


class DenseWeightsLayer(keras.layers.Layer):
    """Holds the initializer/regularizer arguments that dense layers share.

    Subclasses create their factor matrices with `add_dense_weights()` and
    apply them with `dense()`; `get_config()` already returns the shared
    arguments, so a subclass only adds its own.

    Args:
        use_bias: bool, whether dense maps have a bias.
        kernel_initializer: initializer of the kernels.
        bias_initializer: initializer of the biases.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(
        self,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def add_dense_weights(
        self,
        prefix,
        shape,
        use_bias=None,
        kernel_initializer=None,
        bias_initializer=None,
    ):
        """Adds `{prefix}_kernel` of `shape` and, if used, `{prefix}_bias`.

        The bias has shape `shape[-1:]`. Returns `(kernel, bias_or_None)`.
        """
        use_bias = self.use_bias if use_bias is None else use_bias
        kernel = self.add_weight(
            name=f"{prefix}_kernel",
            shape=tuple(shape),
            initializer=kernel_initializer or self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        bias = None
        if use_bias:
            bias = self.add_weight(
                name=f"{prefix}_bias",
                shape=tuple(shape[-1:]),
                initializer=bias_initializer or self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        return kernel, bias

    @staticmethod
    def dense(inputs, kernel, bias=None):
        """`inputs @ kernel + bias` over the last axis."""
        outputs = ops.matmul(inputs, kernel)
        return outputs if bias is None else outputs + bias

    def get_config(self):
        config = super().get_config()
        serialize = keras.initializers.serialize
        config.update(
            {
                "use_bias": self.use_bias,
                "kernel_initializer": serialize(self.kernel_initializer),
                "bias_initializer": serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(
                    self.bias_regularizer
                ),
            }
        )
        return config
