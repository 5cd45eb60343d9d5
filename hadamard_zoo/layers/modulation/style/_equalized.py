"""Equalized learning rate: weights stored N(0, 1) and scaled at run time.

ProGAN's trick, kept by StyleGAN and StyleGAN2: a kernel is stored with a
unit-variance (or `1 / lr_multiplier`) initialisation and multiplied at
every call by the He constant `gain * lr_multiplier / sqrt(fan_in)`.
Adaptive optimizers (Adam) normalise each weight's step by its own gradient
scale, so storing all weights at the same scale gives every layer the same
effective learning rate; `lr_multiplier` then slows chosen layers down
(StyleGAN's mapping network uses 0.01).
"""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_float

LRELU = "lrelu"


def lrelu(x):
    """StyleGAN2's `"lrelu"`: `leaky_relu(x, 0.2) * sqrt(2)`.

    The `sqrt(2)` gain keeps the second moment of a zero-mean, unit-variance
    input near 1 through the activation, which equalized weights (scaled by
    `1 / sqrt(fan_in)` only) do not do by themselves.
    """
    return ops.leaky_relu(x, negative_slope=0.2) * math.sqrt(2.0)


def get_style_activation(identifier, name="activation"):
    """`"lrelu"` (StyleGAN2's gained leaky ReLU) or any Keras activation."""
    if identifier == LRELU:
        return lrelu
    return get_activation(identifier, name)


def serialize_style_activation(activation):
    """Inverse of `get_style_activation`, for `get_config()`."""
    if activation is lrelu:
        return LRELU
    return serialize_activation(activation)


def check_positive_float(name, value):
    """Returns `value` as a float if it is a number > 0, else raises."""
    value = check_float(name, value, minimum=0.0)
    if value <= 0.0:
        raise ValueError(
            f"`{name}` must be a number > 0. Received: {name}={value}."
        )
    return value


def equalized_initializer(lr_multiplier):
    """`N(0, 1 / lr_multiplier)`: the stored (unscaled) kernel's init."""
    return keras.initializers.RandomNormal(stddev=1.0 / lr_multiplier)


def weight_gain(fan_in, gain=1.0, lr_multiplier=1.0):
    """The run-time scale `gain * lr_multiplier / sqrt(fan_in)`."""
    return gain * lr_multiplier / math.sqrt(fan_in)


class _EqualizedLayer(keras.layers.Layer):
    """Arguments, weights and the fused bias + activation of equalized layers.

    Subclasses create their kernel and bias with `add_equalized_weights()`,
    apply `self.kernel * self.weight_gain`, then `bias_act()`;
    `get_config()` already returns the shared arguments.

    Args:
        lr_multiplier: float > 0, slows the layer's effective learning rate
            by this factor. Defaults to `1.0`.
        gain: float > 0, the `gain` of the He constant. Defaults to `1.0`.
        bias_init: float, the initial value of the effective bias
            `lr_multiplier * b`. Defaults to `0.0`.
        activation: `"lrelu"` (see `lrelu`), a Keras activation or `None`.
            Defaults to `None` (linear).
        use_bias: bool, whether the layer has a bias. Defaults to `True`.
        kernel_regularizer: optional regularizer of the stored kernel.
        bias_regularizer: optional regularizer of the stored bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).
    """

    def __init__(
        self,
        lr_multiplier=1.0,
        gain=1.0,
        bias_init=0.0,
        activation=None,
        use_bias=True,
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.lr_multiplier = check_positive_float(
            "lr_multiplier", lr_multiplier
        )
        self.gain = check_positive_float("gain", gain)
        self.bias_init = check_float("bias_init", bias_init)
        self.activation = get_style_activation(activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)

    def add_equalized_weights(self, kernel_shape, fan_in):
        """Adds `kernel` of `kernel_shape` and, if used, `bias`."""
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=equalized_initializer(self.lr_multiplier),
            regularizer=self.kernel_regularizer,
        )
        self.weight_gain = weight_gain(fan_in, self.gain, self.lr_multiplier)
        self.bias = None
        if self.use_bias:
            # Stored so that the effective bias starts at bias_init.
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(kernel_shape[-1:]),
                initializer=keras.initializers.Constant(
                    self.bias_init / self.lr_multiplier
                ),
                regularizer=self.bias_regularizer,
            )

    def bias_act(self, outputs):
        """`act(outputs + lr_multiplier * b)`."""
        if self.bias is not None:
            outputs = outputs + self.bias * self.lr_multiplier
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "lr_multiplier": self.lr_multiplier,
                "gain": self.gain,
                "bias_init": self.bias_init,
                "activation": serialize_style_activation(self.activation),
                "use_bias": self.use_bias,
                "kernel_regularizer": keras.regularizers.serialize(
                    self.kernel_regularizer
                ),
                "bias_regularizer": keras.regularizers.serialize(
                    self.bias_regularizer
                ),
            }
        )
        return config
