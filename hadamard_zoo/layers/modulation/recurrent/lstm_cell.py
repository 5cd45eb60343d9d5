"""LSTM cell: input, forget and output gates as Hadamard products."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.recurrent._fused_gate_cell import (
    _FusedGateCell,
)
from hadamard_zoo.utils.validation import check_float


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class LSTMCell(_FusedGateCell):
    """One step of a long short-term memory (LSTM) network.

    With `x_t` the input, `h_{t-1}` the output and `c_{t-1}` the memory of
    the previous step:

    ```
    i_t = σ(W_i x_t + U_i h_{t-1} + b_i)              input gate
    f_t = σ(W_f x_t + U_f h_{t-1} + b_f + forget_bias) forget gate
    g_t = tanh(W_c x_t + U_c h_{t-1} + b_c)            candidate
    o_t = σ(W_o x_t + U_o h_{t-1} + b_o)              output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)
    ```

    where `*` is the Hadamard product: each gate scales its signal unit by
    unit. (The survey writes the forget gate `ν_t`, the input gate `r_t`
    and the memory `ĥ_t`.) Use it inside `keras.layers.RNN`, which runs
    the cell over the time axis.

    The weights have the layout of `keras.layers.LSTM`: `kernel` holds
    `[W_i, W_f, W_c, W_o]` side by side, `recurrent_kernel` the `U`s and
    `bias` the `b`s in the same order, so `set_weights(lstm.get_weights())`
    copies a Keras LSTM. Unlike Keras' `unit_forget_bias=True`, the forget
    gate gets no +1 at initialisation; `forget_bias` adds a constant to
    its pre-activation at every step instead (TensorFlow's
    `BasicLSTMCell`), which is not a weight and is not trained.

    Args:
        units: int >= 1, the size of `h_t` and `c_t`.
        forget_bias: float added to the forget gate's pre-activation.
            Defaults to `0.0` (Zaremba et al.'s PTB configurations).
        activation: the activation of the candidate `g_t` and of `c_t`
            before the output gate. Defaults to `"tanh"`; `None` is
            linear.
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
        states: list `[h, c]` of two tensors of shape `(batch, units)`.

    Returns:
        `(h_t, [h_t, c_t])`.

    Example:

    >>> import numpy as np
    >>> rnn = keras.layers.RNN(LSTMCell(4), return_sequences=True)
    >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 4)

    Reference:
        Hochreiter & Schmidhuber, "Long Short-Term Memory", Neural
        Computation 1997; Gers et al., "Learning to Forget: Continual
        Prediction with LSTM", 2000; Zaremba et al., "Recurrent Neural
        Network Regularization", 2014; Chrysos et al., "Hadamard product
        in deep learning", section on recurrent networks.
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(
        self,
        units,
        forget_bias=0.0,
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
        self.forget_bias = check_float("forget_bias", forget_bias)

    def call(self, inputs, states):
        h_prev, c_prev = self.check_states(states)
        # All four gates' pre-activations in one pair of matmuls.
        z = ops.matmul(inputs, self.kernel)
        z = z + ops.matmul(h_prev, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f + self.forget_bias)
        g = self.activation(z_c)
        o = self.recurrent_activation(z_o)
        # c_t = f_t * c_{t-1} + i_t * g_t: the forget gate keeps part of the
        # memory, the input gate admits part of the candidate.
        c = f * c_prev + i * g
        # h_t = o_t * tanh(c_t): the output gate exposes part of the memory.
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "forget_bias": self.forget_bias,
            }
        )
        return config
