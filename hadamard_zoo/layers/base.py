"""A base class for layers whose weights are dense kernels and biases."""

import numbers

import keras
from keras import ops

from hadamard_zoo.utils.validation import check_bool


def get_activation(identifier, name="activation"):
    """Like `keras.activations.get`, but keeps `None` as "no activation".

    An unknown identifier raises a `ValueError` naming the argument `name`.
    """
    if identifier is None:
        return None
    try:
        return keras.activations.get(identifier)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"`{name}` must be None, a callable or the name of a Keras "
            f"activation. Received: {name}={identifier!r}."
        ) from error


def get_initializer(identifier, name):
    """A number becomes `Constant(number)`; anything else goes to Keras.

    An identifier Keras does not know raises a `ValueError` naming `name`.
    """
    if isinstance(identifier, numbers.Real) and not isinstance(
        identifier, bool
    ):
        return keras.initializers.Constant(float(identifier))
    message = (
        f"`{name}` must be a number (a constant) or a Keras initializer. "
        f"Received: {name}={identifier!r}."
    )
    try:
        initializer = keras.initializers.get(identifier)
    except (ValueError, TypeError) as error:
        raise ValueError(message) from error
    if initializer is None:
        raise ValueError(message)
    return initializer


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
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = get_initializer(
            kernel_initializer, "kernel_initializer"
        )
        self.bias_initializer = get_initializer(
            bias_initializer, "bias_initializer"
        )
        self._seed_offset = 0
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
            initializer=self._reseeded(
                kernel_initializer or self.kernel_initializer
            ),
            regularizer=self.kernel_regularizer,
        )
        bias = None
        if use_bias:
            bias = self.add_weight(
                name=f"{prefix}_bias",
                shape=tuple(shape[-1:]),
                initializer=self._reseeded(
                    bias_initializer or self.bias_initializer
                ),
                regularizer=self.bias_regularizer,
            )
        return kernel, bias

    def _reseeded(self, initializer):
        """A fresh copy of `initializer`, with a seed of its own if seeded.

        A Keras 3 initializer instance returns the same values at every
        call, seeded or not, so sharing one across the factors U_1..U_N
        would make them identical at initialisation. Each weight gets a new
        instance; a seeded one gets `seed + k`, so the layer stays
        reproducible.
        """
        initializer = keras.initializers.get(initializer)
        config = initializer.get_config()
        seed = config.get("seed")
        if isinstance(seed, int):
            self._seed_offset += 1
            config["seed"] = seed + self._seed_offset
        return type(initializer).from_config(config)

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
