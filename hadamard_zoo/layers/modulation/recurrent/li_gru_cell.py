"""Light GRU cell: a GRU without reset gate and with a ReLU candidate."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.recurrent._fused_gate_cell import (
    _FusedGateCell,
)
from hadamard_zoo.utils.validation import check_bool

# Keras' LayerNormalization default.
_EPSILON = 1e-3


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class LiGRUCell(_FusedGateCell):
    """One step of a light GRU (Li-GRU): update gate only, ReLU candidate.

    With `x_t` the input and `h_{t-1}` the previous state:

    ```
    z_t = σ(N(W_z x_t) + U_z h_{t-1} + b_z)        update gate
    h̃_t = ReLU(N(W_h x_t) + U_h h_{t-1} + b_h)     candidate
    h_t = z_t * h_{t-1} + (1 - z_t) * h̃_t
    ```

    where `*` is the Hadamard product. Ravanelli et al. drop the GRU's
    reset gate (speech frames change slowly, so forgetting the whole state
    rarely helps) and use a ReLU candidate, which needs the input
    projections normalised to stay stable.

    `N` is the identity by default. Ravanelli et al. batch-normalise the
    projections `W x` with statistics over batch *and time*, computed for
    the whole sequence before the recurrence; a cell sees one step, and
    a batch norm's moving averages cannot be updated from inside the scan
    that `keras.layers.RNN` runs on JAX. With `normalize_inputs=True`, `N`
    instead normalises each projection over its `units` features, per
    example and step (layer normalisation, the per-step alternative that
    pytorch-kaldi and SpeechBrain offer for Li-GRU):

    ```
    N(a) = γ * (a - mean(a)) / sqrt(var(a) + 1e-3)
    ```

    with a learned gain `γ` (initialised to ones) and the bias `b` in the
    role of the shift. It does not depend on the batch, so training and
    inference compute the same function.

    Args:
        units: int >= 1 (>= 2 with `normalize_inputs=True`), the size of
            `h_t`.
        normalize_inputs: bool, whether to apply `N` to `W_z x_t` and
            `W_h x_t`. Defaults to `False`.
        activation: the activation of the candidate `h̃_t`. Defaults to
            `"relu"` (Ravanelli et al.); `None` is linear.
        recurrent_activation: the activation `σ` of the gate. Defaults to
            `"sigmoid"`; `None` is linear.
        use_bias: bool, whether the gate and the candidate have biases.
            Defaults to `True`.
        kernel_initializer: initializer of `kernel` (the `W`s). Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of `recurrent_kernel` (the `U`s).
            Defaults to `"orthogonal"`, as Ravanelli et al. use to keep the
            unbounded ReLU recurrence stable.
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
        `kernel` `(input_dim, 2 · units)` holds `[W_z, W_h]` side by side,
        `recurrent_kernel` `(units, 2 · units)` holds `[U_z, U_h]`, `bias`
        `(2 · units,)` holds `[b_z, b_h]`; with `normalize_inputs=True`,
        `input_norm_gamma` `(2 · units,)` holds `[γ_z, γ_h]`.

    Example:

    >>> import numpy as np
    >>> cell = LiGRUCell(4, normalize_inputs=True)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True)
    >>> tuple(rnn(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 4)

    Reference:
        Ravanelli et al., "Light Gated Recurrent Units for Speech
        Recognition", IEEE Transactions on Emerging Topics in
        Computational Intelligence 2018; Chrysos et al., "Hadamard product
        in deep learning", section on recurrent networks.
    """

    gates = 2

    def __init__(
        self,
        units,
        normalize_inputs=False,
        activation="relu",
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
        self.normalize_inputs = check_bool("normalize_inputs", normalize_inputs)
        if self.normalize_inputs and self.units < 2:
            raise ValueError(
                "`units` must be >= 2 when normalize_inputs=True: the "
                "normalisation over a single feature always gives 0. "
                f"Received: units={units}, normalize_inputs=True."
            )

    def build(self, input_shape):
        super().build(input_shape)
        self.input_norm_gamma = None
        if self.normalize_inputs:
            self.input_norm_gamma = self.add_weight(
                name="input_norm_gamma",
                shape=(2 * self.units,),
                initializer="ones",
            )

    def call(self, inputs, states):
        (h_prev,) = self.check_states(states)
        x = ops.matmul(inputs, self.kernel)
        if self.normalize_inputs:
            x = self._normalize(x) * self.input_norm_gamma
        # No reset gate: both blocks see the whole h_{t-1}, one matmul.
        x = x + ops.matmul(h_prev, self.recurrent_kernel)
        if self.bias is not None:
            x = x + self.bias
        x_z, x_h = ops.split(x, 2, axis=-1)
        z = self.recurrent_activation(x_z)
        candidate = self.activation(x_h)
        # h_t = z_t * h_{t-1} + (1 - z_t) * h̃_t: a per-unit convex mix.
        h = z * h_prev + (1.0 - z) * candidate
        return h, [h]

    def _normalize(self, x):
        """(a - mean(a)) / sqrt(var(a) + ε) for each gate's block `a`."""
        dtype = x.dtype
        # Moments in float32: bfloat16 loses the small differences a - mean.
        units = self.units
        blocks = ops.reshape(ops.cast(x, "float32"), (-1, 2, units))
        mean = ops.mean(blocks, axis=-1, keepdims=True)
        variance = ops.var(blocks, axis=-1, keepdims=True)
        blocks = (blocks - mean) * ops.rsqrt(variance + _EPSILON)
        return ops.cast(ops.reshape(blocks, (-1, 2 * units)), dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "normalize_inputs": self.normalize_inputs,
            }
        )
        return config
