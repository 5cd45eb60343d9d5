"""IndRNN cell: a recurrence in which each unit only sees its own past."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int


def _check_max_abs(name, value):
    if value is None:
        return None
    value = check_float(name, value)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(
            f"`{name}` must be None or a finite number > 0. "
            f"Received: {name}={value}."
        )
    return value


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MaxAbsClip(keras.constraints.Constraint):
    """Constraint that clips every weight into `[-max_abs, max_abs]`.

    Unlike `keras.constraints.MaxNorm`, which rescales whole rows, this acts
    on each entry alone, which is what a vector of independent recurrent
    weights needs.

    Args:
        max_abs: positive float, the largest absolute value allowed.

    Example:

    >>> import numpy as np
    >>> clip = MaxAbsClip(1.0)
    >>> np.asarray(clip(np.array([-3.0, 0.5, 2.0], "float32"))).tolist()
    [-1.0, 0.5, 1.0]
    """

    def __init__(self, max_abs):
        self.max_abs = _check_max_abs("max_abs", max_abs)
        if self.max_abs is None:
            raise ValueError(
                "`max_abs` must be a finite number > 0. Received: max_abs=None."
            )

    def __call__(self, w):
        return ops.clip(w, -self.max_abs, self.max_abs)

    def get_config(self):
        return {"max_abs": self.max_abs}


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class IndRNNCell(DenseWeightsLayer):
    """Independently recurrent cell (IndRNN): a Hadamard recurrence.

    A plain RNN multiplies the previous state by a full matrix `U`; IndRNN
    replaces that matrix product by a Hadamard product with a vector `u`:

    ```
    h_t = act(W x_t + u * h_{t-1} + b)
    ```

    where `*` is the Hadamard product. Each unit only sees its own past, so
    its gradient through time is `∏ u_i act'(·)`, which stays bounded when
    `|u_i|` is. Li et al. therefore bound `|u|` (e.g. by `2^{1/T}` for
    sequences of length `T`: `recurrent_max_abs`); units mix through `W`
    when IndRNN layers are stacked.

    Args:
        units: int >= 1, the size of the state `h`.
        activation: activation `act`. Defaults to `"relu"`, as in the
            paper. `None` means linear.
        recurrent_max_abs: optional positive float. When set, the
            constraint `MaxAbsClip(recurrent_max_abs)` keeps every `|u_i|`
            at most this value after each optimizer update, and the initial
            values are clipped the same way. Defaults to `None` (no bound).
        recurrent_initializer: initializer of `u`. Defaults to `None`:
            uniform in `[-m, m]` with `m = min(1, recurrent_max_abs)`, as in
            the public TensorFlow IndRNN cell (batzner/indrnn).
        use_bias: bool, whether there is a bias `b`. Defaults to `True`.
        kernel_initializer: initializer of `W`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`.
        recurrent_regularizer: optional regularizer of `u`.
        bias_regularizer: optional regularizer of `b`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, d)`, the input `x_t` of one step.
        states: list `[h_{t-1}]` with `h_{t-1}` of shape `(batch, units)`
            (a bare tensor is accepted too).
        training: unused, part of the Keras cell contract.

    Returns:
        `(h_t, [h_t])` (`(h_t, h_t)` when `states` was a bare tensor).
        Wrap the cell in `keras.layers.RNN` to run it over a sequence
        `(batch, time, d)`.

    Weights:
        `kernel` `W` `(d, units)`, `recurrent_kernel` `u` `(units,)`,
        `bias` `b` `(units,)` (the names of `keras.layers.SimpleRNN`).

    Example:

    >>> import keras
    >>> import numpy as np
    >>> cell = IndRNNCell(8, recurrent_max_abs=2 ** (1 / 10))
    >>> layer = keras.layers.RNN(cell, return_sequences=True)
    >>> tuple(layer(np.ones((2, 10, 3), "float32")).shape)
    (2, 10, 8)

    Reference:
        Li et al., "Independently Recurrent Neural Network (IndRNN):
        Building A Longer and Deeper RNN", CVPR 2018;
        Chrysos et al., "Hadamard product in deep learning", section on
        recurrent networks.
    """

    def __init__(
        self,
        units,
        activation="relu",
        recurrent_max_abs=None,
        recurrent_initializer=None,
        recurrent_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = get_activation(activation, "activation")
        self.recurrent_max_abs = _check_max_abs(
            "recurrent_max_abs", recurrent_max_abs
        )
        self.recurrent_initializer = None
        if recurrent_initializer is not None:
            self.recurrent_initializer = get_initializer(
                recurrent_initializer, "recurrent_initializer"
            )
        self.recurrent_regularizer = keras.regularizers.get(
            recurrent_regularizer
        )
        self.recurrent_constraint = None
        if self.recurrent_max_abs is not None:
            self.recurrent_constraint = MaxAbsClip(self.recurrent_max_abs)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (IndRNNCell) expects `inputs` of shape "
                "(batch, d) with d defined: one time step (wrap the cell in "
                "keras.layers.RNN for sequences). Received `inputs` with "
                f"shape {shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(shape[-1], self.units),
            initializer=self._reseeded(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units,),
            initializer=self._recurrent_init(),
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self._reseeded(self.bias_initializer),
                regularizer=self.bias_regularizer,
            )
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: shape[-1]})

    def _recurrent_init(self):
        initializer = self.recurrent_initializer
        if initializer is None:
            bound = min(1.0, self.recurrent_max_abs or 1.0)
            initializer = keras.initializers.RandomUniform(-bound, bound)
        initializer = self._reseeded(initializer)
        if self.recurrent_constraint is None:
            return initializer
        constraint = self.recurrent_constraint

        # Optimizers apply the constraint only after an update: clip the
        # starting values too, so |u| <= recurrent_max_abs from step one.
        def clipped(shape, dtype=None):
            return constraint(initializer(shape, dtype=dtype))

        return clipped

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        h_prev = states[0] if nested else states
        _check_state(self, h_prev)
        # h_t = act(W x_t + b + u * h_{t-1}): the Hadamard product u * h
        # stands where a plain RNN has the matrix product U h.
        h = self.dense(inputs, self.kernel, self.bias)
        h = h + self.recurrent_kernel * h_prev
        if self.activation is not None:
            h = self.activation(h)
        return h, ([h] if nested else h)

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, self.units), dtype=self.compute_dtype)]

    def get_config(self):
        config = super().get_config()
        initializer = self.recurrent_initializer
        if initializer is not None:
            initializer = keras.initializers.serialize(initializer)
        config.update(
            {
                "units": self.units,
                "activation": serialize_activation(self.activation),
                "recurrent_max_abs": self.recurrent_max_abs,
                "recurrent_initializer": initializer,
                "recurrent_regularizer": keras.regularizers.serialize(
                    self.recurrent_regularizer
                ),
            }
        )
        return config


def _check_state(cell, state):
    """Raises if a state's statically known shape is not (batch, units)."""
    shape = tuple(state.shape)
    if len(shape) != 2 or shape[-1] not in (None, cell.units):
        raise ValueError(
            f"Layer '{cell.name}' ({type(cell).__name__}) expects `states` "
            f"[h] with h of shape (batch, {cell.units}). Received h with "
            f"shape {shape}."
        )
