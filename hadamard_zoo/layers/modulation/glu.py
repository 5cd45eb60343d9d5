"""Gated linear units: GLU and its GEGLU / SwiGLU / ReGLU variants."""

import functools

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GLU(DenseWeightsLayer):
    """Gated linear unit: a linear map modulated by a learned gate.

    Two dense maps of the same input; one is passed through the gate
    activation `σ` and multiplies the other element-wise:

    ```
    GLU(x) = (x W + b) * σ(x V + c)
    ```

    where `*` is the Hadamard product. With the sigmoid this is the GLU
    of gated CNNs (Dauphin et al.): the gate in (0, 1) decides, per unit,
    how much of the linear value passes, and the gradient keeps a linear
    path `σ(x V + c) ∇(x W + b)` that does not vanish. Other `σ` give the
    variants of Shazeer (2020), who writes the same product with the roles
    of `W` and `V` swapped (`σ(x W + b) * (x V + c)`); `activation=None`
    gives his "Bilinear" unit. Both maps are computed with one matmul on
    the concatenated kernels `[W, V]`.

    Args:
        units: int >= 1, the output width (that of `W` and of `V`).
        activation: the gate activation `σ`. Defaults to `"sigmoid"`.
            `None` means linear (the bilinear variant).
        use_bias: bool, whether the two maps have biases `b`, `c`.
            Defaults to `True`. (Shazeer's feed-forward variants have
            none.)
        kernel_initializer: initializer of `W` and `V`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b` and `c`. Defaults to
            `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Weights:
        `value_kernel` `W` and `gate_kernel` `V`, both `(d, units)`;
        `value_bias` `b` and `gate_bias` `c`, both `(units,)`.

    Example:

    >>> import numpy as np
    >>> layer = GLU(units=8)
    >>> tuple(layer(np.ones((2, 10, 16), "float32")).shape)
    (2, 10, 8)

    Reference:
        Dauphin et al., "Language Modeling with Gated Convolutional
        Networks", ICML 2017;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(self, units, activation="sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = get_activation(activation, "activation")

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        shape = (input_dim, self.units)
        self.value_kernel, self.value_bias = self.add_dense_weights(
            "value", shape
        )
        self.gate_kernel, self.gate_bias = self.add_dense_weights("gate", shape)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        kernel = ops.concatenate([self.value_kernel, self.gate_kernel], -1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.value_bias, self.gate_bias], -1)
        value, gate = ops.split(self.dense(inputs, kernel, bias), 2, axis=-1)
        if self.activation is not None:
            gate = self.activation(gate)
        return value * gate

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        if not isinstance(self, _FixedGateGLU):
            config["activation"] = serialize_activation(self.activation)
        return config


class _FixedGateGLU(GLU):
    """A `GLU` whose gate activation is part of its definition."""

    def __init__(self, units, gate_activation, **kwargs):
        if "activation" in kwargs:
            raise ValueError(
                f"{type(self).__name__} fixes its gate activation; use "
                "`GLU(activation=...)` for another one. Received: "
                f"activation={kwargs['activation']!r}."
            )
        super().__init__(units, activation=gate_activation, **kwargs)

    # `GLU.get_config` leaves `activation` out for these classes: it is
    # not an argument of theirs, so `from_config` must not receive it.


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GEGLU(_FixedGateGLU):
    """GLU with a GELU gate: `(x W + b) * GELU(x V + c)`.

    Shazeer (2020) defines `GELU(x) = x Φ(x)` with `Φ` the standard normal
    CDF, the exact form, and that is the default here (it is also what
    Keras's `"gelu"` activation computes). His Mesh TensorFlow code, and
    so T5 v1.1's "gated-gelu", uses the tanh approximation
    `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))` instead; set
    `approximate=True` to reproduce those checkpoints.

    Args:
        units: int >= 1, the output width.
        approximate: bool, whether to use the tanh approximation of GELU.
            Defaults to `False` (the exact `x Φ(x)`).
        **kwargs: the other arguments of `GLU` (`use_bias`, initializers,
            regularizers) and base `Layer` arguments; not `activation`.

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = GEGLU(units=8, use_bias=False)
    >>> tuple(layer(np.ones((2, 16), "float32")).shape)
    (2, 8)

    Reference:
        Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, 2020.
    """

    def __init__(self, units, approximate=False, **kwargs):
        check_bool("approximate", approximate)
        self.approximate = approximate
        gelu = functools.partial(
            keras.activations.gelu, approximate=approximate
        )
        super().__init__(units, gate_activation=gelu, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["approximate"] = self.approximate
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SwiGLU(_FixedGateGLU):
    """GLU with a Swish gate: `(x W + b) * Swish(x V + c)`.

    Swish is Shazeer's `Swish_1(x) = x σ(x)`, i.e. SiLU (Keras's `"silu"`),
    as in the feed-forward blocks of PaLM and LLaMA.

    Args:
        units: int >= 1, the output width.
        **kwargs: the other arguments of `GLU` (`use_bias`, initializers,
            regularizers) and base `Layer` arguments; not `activation`.

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = SwiGLU(units=8, use_bias=False)
    >>> tuple(layer(np.ones((2, 16), "float32")).shape)
    (2, 8)

    Reference:
        Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, 2020.
    """

    def __init__(self, units, **kwargs):
        super().__init__(units, gate_activation="silu", **kwargs)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ReGLU(_FixedGateGLU):
    """GLU with a ReLU gate: `(x W + b) * max(0, x V + c)`.

    Args:
        units: int >= 1, the output width.
        **kwargs: the other arguments of `GLU` (`use_bias`, initializers,
            regularizers) and base `Layer` arguments; not `activation`.

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = ReGLU(units=8, use_bias=False)
    >>> tuple(layer(np.ones((2, 16), "float32")).shape)
    (2, 8)

    Reference:
        Shazeer, "GLU Variants Improve Transformer", arXiv:2002.05202, 2020.
    """

    def __init__(self, units, **kwargs):
        super().__init__(units, gate_activation="relu", **kwargs)
