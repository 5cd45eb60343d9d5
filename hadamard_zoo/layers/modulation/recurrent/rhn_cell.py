"""Recurrent highway network cell: a stack of highway layers per step."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class RHNCell(DenseWeightsLayer):
    """Recurrent highway network (RHN) cell: `depth` highway layers a step.

    The state passes through `L = depth` highway layers at every time step;
    the input enters the first one only. With `s^0 = s_{t-1}` (the previous
    step's `s^L`) and `1[l=1]` one for the first layer, zero otherwise:

    ```
    h^l = act(W_H x_t 1[l=1] + R_H^l s^{l-1} + b_H^l)    transform
    t^l = σ(W_T x_t 1[l=1] + R_T^l s^{l-1} + b_T^l)      transform gate
    s^l = h^l * t^l + s^{l-1} * (1 - t^l),  l = 1..L
    s_t = s^L
    ```

    where `*` is the Hadamard product. The carry gate is coupled to the
    transform gate (`c = 1 - t`), the survey's gated average (Eq. 8). Each
    step is `L` non-linear layers deep, yet a layer with `t^l → 0` passes
    its state unchanged, so depth does not block gradients. As in the
    paper the gate biases `b_T^l` start negative (`transform_bias`), so
    the cell starts close to carrying its state.

    Args:
        units: int >= 1, the size of the state `s`.
        depth: int >= 1, the number `L` of highway layers per time step.
            Defaults to 1.
        transform_bias: float, the initial value of every gate bias
            `b_T^l`. Defaults to `-2.0`. Unused when `use_bias=False`.
        activation: activation `act` of the transforms `h^l`. Defaults to
            `"tanh"`. `None` means linear.
        recurrent_activation: activation `σ` of the gates `t^l`. Defaults
            to `"sigmoid"`. `None` means linear.
        use_bias: bool, whether the layers have biases `b_H^l`, `b_T^l`.
            Defaults to `True`.
        kernel_initializer: initializer of `W_H`, `W_T`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of the `R_H^l`, `R_T^l`.
            Defaults to `"orthogonal"`.
        bias_initializer: initializer of the transform biases `b_H^l`.
            Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W_H`, `W_T`.
        recurrent_regularizer: optional regularizer of the `R`s.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, d)`, the input `x_t` of one step.
        states: list `[s_{t-1}]` with `s_{t-1}` of shape `(batch, units)`
            (a bare tensor is accepted too).
        training: unused, part of the Keras cell contract.

    Returns:
        `(s_t, [s_t])` (`(s_t, s_t)` when `states` was a bare tensor).
        Wrap the cell in `keras.layers.RNN` to run it over a sequence
        `(batch, time, d)`.

    Weights:
        `kernel` `(d, 2 · units)`: `[W_H, W_T]` side by side;
        `recurrent_kernel_{l}` `(units, 2 · units)`: `[R_H^l, R_T^l]`;
        `bias_{l}` `(2 · units,)`: `[b_H^l, b_T^l]`, for `l = 1..depth`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> cell = RHNCell(8, depth=3)
    >>> layer = keras.layers.RNN(cell, return_sequences=True)
    >>> tuple(layer(np.ones((2, 10, 3), "float32")).shape)
    (2, 10, 8)

    Reference:
        Zilly, Srivastava, Koutník and Schmidhuber, "Recurrent Highway
        Networks", ICML 2017;
        Chrysos et al., "Hadamard product in deep learning", Eq. 8 and
        section on recurrent networks.
    """

    def __init__(
        self,
        units,
        depth=1,
        transform_bias=-2.0,
        activation="tanh",
        recurrent_activation="sigmoid",
        recurrent_initializer="orthogonal",
        recurrent_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.depth = check_int("depth", depth)
        self.transform_bias = check_float("transform_bias", transform_bias)
        self.activation = get_activation(activation, "activation")
        self.recurrent_activation = get_activation(
            recurrent_activation, "recurrent_activation"
        )
        self.recurrent_initializer = get_initializer(
            recurrent_initializer, "recurrent_initializer"
        )
        self.recurrent_regularizer = keras.regularizers.get(
            recurrent_regularizer
        )
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (RHNCell) expects `inputs` of shape "
                "(batch, d) with d defined: one time step (wrap the cell in "
                "keras.layers.RNN for sequences). Received `inputs` with "
                f"shape {shape}."
            )
        width = 2 * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(shape[-1], width),
            initializer=self._reseeded(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernels = []
        self.biases = []
        for layer in range(1, self.depth + 1):
            self.recurrent_kernels.append(
                self.add_weight(
                    name=f"recurrent_kernel_{layer}",
                    shape=(self.units, width),
                    initializer=self._reseeded(self.recurrent_initializer),
                    regularizer=self.recurrent_regularizer,
                )
            )
            if self.use_bias:
                self.biases.append(
                    self.add_weight(
                        name=f"bias_{layer}",
                        shape=(width,),
                        initializer=self._bias_init(),
                        regularizer=self.bias_regularizer,
                    )
                )
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: shape[-1]})

    def _bias_init(self):
        """`[b_H, b_T]` with `b_H` from `bias_initializer`, `b_T` constant."""
        transform_init = self._reseeded(self.bias_initializer)
        gate_init = keras.initializers.Constant(self.transform_bias)

        def initializer(shape, dtype=None):
            half = (shape[0] // 2,)
            return ops.concatenate(
                [transform_init(half, dtype), gate_init(half, dtype)]
            )

        return initializer

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        s = states[0] if nested else states
        _check_state(self, s)
        # The input enters the first layer only (the 1[l=1] term).
        x = ops.matmul(inputs, self.kernel)
        for layer in range(self.depth):
            z = ops.matmul(s, self.recurrent_kernels[layer])
            if layer == 0:
                z = z + x
            if self.use_bias:
                z = z + self.biases[layer]
            h, t = ops.split(z, 2, axis=-1)
            if self.activation is not None:
                h = self.activation(h)
            if self.recurrent_activation is not None:
                t = self.recurrent_activation(t)
            # s^l = h^l * t^l + s^{l-1} * (1 - t^l): the coupled carry gate
            # keeps what the transform gate does not replace.
            s = h * t + s * (1.0 - t)
        return s, ([s] if nested else s)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "depth": self.depth,
                "transform_bias": self.transform_bias,
                "activation": serialize_activation(self.activation),
                "recurrent_activation": serialize_activation(
                    self.recurrent_activation
                ),
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
                "recurrent_regularizer": keras.regularizers.serialize(
                    self.recurrent_regularizer
                ),
            }
        )
        return config


def _check_state(cell, state):
    """Raises if the state's statically known shape is not (batch, units)."""
    shape = tuple(state.shape)
    if len(shape) != 2 or shape[-1] not in (None, cell.units):
        raise ValueError(
            f"Layer '{cell.name}' (RHNCell) expects `states` [s] with s of "
            f"shape (batch, {cell.units}). Received s with shape {shape}."
        )
