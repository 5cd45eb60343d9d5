"""GRU cell: update and reset gates as Hadamard products (Cho et al.)."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.recurrent._fused_gate_cell import (
    _FusedGateCell,
)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GRUCell(_FusedGateCell):
    """One step of a gated recurrent unit (GRU), reset gate before `U_h`.

    With `x_t` the input and `h_{t-1}` the previous state:

    ```
    z_t = σ(W_z x_t + U_z h_{t-1} + b_z)               update gate
    r_t = σ(W_r x_t + U_r h_{t-1} + b_r)               reset gate
    h̃_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)    candidate
    h_t = z_t * h_{t-1} + (1 - z_t) * h̃_t
    ```

    where `*` is the Hadamard product. The reset gate masks the old state
    *before* the recurrent matrix `U_h`, as in Cho et al. and the survey
    (Keras' `GRU(reset_after=False)`; the cuDNN form, Keras' default,
    gates `U_h h_{t-1}` instead). The survey calls the update gate `ν_t`
    and writes `ĥ_t` for the candidate. Use it inside
    `keras.layers.RNN`, which runs the cell over the time axis.

    The weights have the layout of `keras.layers.GRU(reset_after=False)`:
    `kernel` holds `[W_z, W_r, W_h]` side by side, `recurrent_kernel` the
    `U`s and `bias` the `b`s in the same order, so
    `set_weights(gru.get_weights())` copies such a Keras GRU.

    Args:
        units: int >= 1, the size of `h_t`.
        activation: the activation of the candidate `h̃_t`. Defaults to
            `"tanh"`; `None` is linear.
        recurrent_activation: the activation `σ` of the gates. Defaults
            to `"sigmoid"`; `None` is linear.
        use_bias: bool, whether the gates have biases `b`. Defaults to
            `True`.
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

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(GRUCell(4), return_state=True)
    >>> y, h = rnn(np.ones((2, 5, 3), "float32"))
    >>> tuple(y.shape), tuple(h.shape)
    ((2, 4), (2, 4))

    Reference:
        Cho et al., "Learning Phrase Representations using RNN
        Encoder-Decoder for Statistical Machine Translation", EMNLP 2014;
        Chrysos et al., "Hadamard product in deep learning", section on
        recurrent networks.
    """

    gates = 3

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
        x_z, x_r, x_h = ops.split(x, 3, axis=-1)
        # Only the gates see U h_{t-1} directly; the candidate's U_h acts
        # on the reset state, so it is a second, later matmul.
        u_zr = ops.matmul(h_prev, self.recurrent_kernel[:, : 2 * units])
        u_z, u_r = ops.split(u_zr, 2, axis=-1)
        z = self.recurrent_activation(x_z + u_z)
        r = self.recurrent_activation(x_r + u_r)
        # h̃_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
        reset = r * h_prev
        candidate = self.activation(
            x_h + ops.matmul(reset, self.recurrent_kernel[:, 2 * units :])
        )
        # h_t = z_t * h_{t-1} + (1 - z_t) * h̃_t: a per-unit convex mix.
        h = z * h_prev + (1.0 - z) * candidate
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update({})
        return config
