"""Minimal gated unit: one forget gate both resets and updates the state."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.recurrent._fused_gate_cell import (
    _FusedGateCell,
)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MGUCell(_FusedGateCell):
    """One step of a minimal gated unit (MGU): a GRU with a single gate.

    With `x_t` the input and `h_{t-1}` the previous state:

    ```
    f_t = σ(W_f x_t + U_f h_{t-1} + b_f)               forget gate
    h̃_t = tanh(W_h x_t + U_h (f_t * h_{t-1}) + b_h)    candidate
    h_t = (1 - f_t) * h_{t-1} + f_t * h̃_t
    ```

    where `*` is the Hadamard product. The one gate plays both GRU roles:
    it resets the state that enters the candidate and mixes the old state
    with the candidate, so the cell has two weight blocks where the GRU has
    three. Note the direction of the mix: `f_t` weighs the *candidate*
    (Zhou et al.), where a GRU's update gate `z_t` weighs the old state.
    Use it inside `keras.layers.RNN`, which runs the cell over the time
    axis.

    Args:
        units: int >= 1, the size of `h_t`.
        activation: the activation of the candidate `h̃_t`. Defaults to
            `"tanh"`; `None` is linear.
        recurrent_activation: the activation `σ` of the gate. Defaults to
            `"sigmoid"`; `None` is linear.
        use_bias: bool, whether the gate and the candidate have biases.
            Defaults to `True`.
        kernel_initializer: initializer of `kernel` (the `W`s). Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of `recurrent_kernel` (the `U`s).
            Defaults to `"orthogonal"`.
        bias_initializer: initializer of `bias`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `kernel`.
        recurrent_regularizer: optional regularizer of `recurrent_kernel`.
        bias_regularizer: optional regularizer of `bias`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, input_dim)`, the step's input.
        states: `[h]` (or `h`), a tensor of shape `(batch, units)`.

    Returns:
        `(h_t, [h_t])`.

    Weights:
        `kernel` `(input_dim, 2 · units)` holds `[W_f, W_h]` side by side,
        `recurrent_kernel` `(units, 2 · units)` holds `[U_f, U_h]`, `bias`
        `(2 · units,)` holds `[b_f, b_h]` (the Keras GRU layout, one gate
        fewer).

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(MGUCell(4), return_sequences=True)
    >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 4)

    Reference:
        Zhou et al., "Minimal Gated Unit for Recurrent Neural Networks",
        International Journal of Automation and Computing 2016;
        Chrysos et al., "Hadamard product in deep learning", section on
        recurrent networks.
    """

    gates = 2

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        recurrent_initializer="orthogonal",
        recurrent_regularizer=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation,
            recurrent_activation,
            recurrent_initializer,
            recurrent_regularizer,
            **kwargs,
        )

    def call(self, inputs, states):
        (h_prev,) = self.check_states(states)
        units = self.units
        x = ops.matmul(inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        x_f, x_h = ops.split(x, 2, axis=-1)
        f = self.recurrent_activation(
            x_f + ops.matmul(h_prev, self.recurrent_kernel[:, :units])
        )
        # h̃_t = tanh(W_h x_t + U_h (f_t * h_{t-1}) + b_h): f_t as reset gate.
        reset = f * h_prev
        candidate = self.activation(
            x_h + ops.matmul(reset, self.recurrent_kernel[:, units:])
        )
        # h_t = (1 - f_t) * h_{t-1} + f_t * h̃_t: f_t as update gate.
        h = (1.0 - f) * h_prev + f * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update({})
        return config
