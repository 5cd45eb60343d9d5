"""Recurrent layers that carry their state across batches, on every backend.

`keras.layers.RNN(stateful=True)` keeps its states in variables it hides
from Keras' variable tracking, so under the JAX backend's stateless
`fit()` the states are never carried: every batch starts from the zeros
captured when the step was traced (measured: after `fit()` the states are
still zero on JAX, non-zero on TensorFlow and PyTorch). The layers here
keep them as ordinary non-trainable weights, which every trainer threads
through its compiled step.
"""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.recurrent import HGRN
from hadamard_zoo.utils.validation import check_bool


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StatefulHGRN(HGRN):
    """`HGRN` that can carry its state from one batch to the next.

    With `stateful=False` this is `HGRN`. With `stateful=True` it behaves
    like `keras.layers.RNN(..., stateful=True)`: the state after the last
    step of a batch is kept in a non-trainable variable of shape
    `(batch_size, d_model)` and is the initial state of the next call, so
    a long text cut into consecutive windows is read as one sequence
    (truncated back-propagation through time: gradients stop at the window
    boundary, the state does not). `reset_state()` zeroes it. The batch
    size must then be fixed, i.e. known when the layer is built.

    ```
    h_t = f_t * h_{t−1} + (1 − f_t) * i_t,   h_0 = last batch's h_T
    ```

    Args:
        stateful: bool, whether to carry the state across calls. Defaults
            to `False`.
        **kwargs: the arguments of `HGRN` (`lower_bound`, `mode`,
            `chunk_size`, ...) and base `Layer` arguments.

    Call arguments:
        inputs: tensor of shape `(batch, time, d_model)`.
        initial_state: optional `[h]`; not allowed with `stateful=True`
            (the carried state is the initial state).
        return_state: bool, whether to also return the final state.

    Example:

    >>> import numpy as np
    >>> layer = StatefulHGRN(stateful=True, chunk_size=4)
    >>> x = np.ones((2, 6, 8), "float32")
    >>> whole = StatefulHGRN.from_config(
    ...     dict(layer.get_config(), stateful=False)
    ... )
    >>> _ = layer(x[:, :3]); whole.build(x.shape)
    >>> whole.set_weights(layer.get_weights()[:-1])
    >>> layer.reset_state()
    >>> to_np = keras.ops.convert_to_numpy
    >>> parts = [to_np(layer(x[:, :3])), to_np(layer(x[:, 3:]))]
    >>> parts = np.concatenate(parts, axis=1)
    >>> bool(np.allclose(parts, to_np(whole(x)), atol=1e-5))
    True

    Reference:
        Qin, Yang and Zhong, "Hierarchically Gated Recurrent Neural Network
        for Sequence Modeling", NeurIPS 2023; Williams and Peng, "An
        Efficient Gradient-Based Algorithm for On-Line Training of
        Recurrent Network Trajectories", Neural Computation 1990 (TBPTT).
    """

    def __init__(self, stateful=False, **kwargs):
        super().__init__(**kwargs)
        self.stateful = check_bool("stateful", stateful)
        self.state = None

    def build(self, input_shape):
        super().build(input_shape)
        if self.stateful:
            batch_size = input_shape[0]
            if batch_size is None:
                raise ValueError(
                    f"Layer '{self.name}' (StatefulHGRN) with stateful=True "
                    "needs a fixed batch size, e.g. "
                    "`keras.Input(shape=..., batch_size=20)`. Received "
                    f"inputs with shape {tuple(input_shape)}."
                )
            self.state = self.add_weight(
                name="state",
                shape=(int(batch_size), self.d_model),
                initializer="zeros",
                trainable=False,
                dtype="float32",
            )

    def reset_state(self):
        """Zeroes the carried state (a new text begins)."""
        if self.state is not None:
            self.state.assign(ops.zeros_like(self.state.value))

    def step(self, inputs, state):
        """`(outputs, h)` from `state` `h`, ignoring the carried state.

        What generation calls: `inputs` `(batch, time, d_model)` (often one
        step), `state` `(batch, d_model)`; the carried state is untouched.
        """
        return HGRN.call(self, inputs, initial_state=[state], return_state=True)

    def call(self, inputs, initial_state=None, return_state=False):
        if not self.stateful:
            return super().call(
                inputs, initial_state=initial_state, return_state=return_state
            )
        if initial_state is not None:
            raise ValueError(
                f"Layer '{self.name}' (StatefulHGRN) with stateful=True "
                "starts from its carried state; call `reset_state()` "
                "instead of passing `initial_state`."
            )
        # A copy: PyTorch's autograd keeps the initial state for the
        # backward pass, and the assign below changes the variable in place.
        outputs, h = super().call(
            inputs,
            initial_state=[ops.copy(self.state.value)],
            return_state=True,
        )
        self.state.assign(ops.cast(h, self.state.dtype))
        return [outputs, h] if return_state else outputs

    def get_config(self):
        config = super().get_config()
        config["stateful"] = self.stateful
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StatefulRNN(keras.layers.RNN):
    """`keras.layers.RNN` whose `stateful=True` works under JAX's `fit()`.

    Identical to `keras.layers.RNN` (same arguments, config and outputs)
    except where the carried states live: non-trainable weights named
    `state_<i>`, tracked like any other, instead of untracked variables.
    JAX's compiled training step then reads and updates them, as it does
    on TensorFlow and PyTorch, and checkpoints save them.

    ```
    s_0 of batch k+1 = s_T of batch k        (stateful=True)
    ```

    Args:
        cell: a recurrent cell (e.g. `hadamard_zoo.layers.LSTMCell`).
        **kwargs: the other arguments of `keras.layers.RNN`
            (`return_sequences`, `stateful`, ...).

    Example:

    >>> import numpy as np
    >>> from hadamard_zoo.layers import GRUCell
    >>> rnn = StatefulRNN(GRUCell(4), return_sequences=True, stateful=True)
    >>> x = np.ones((2, 3, 5), "float32")
    >>> first = keras.ops.convert_to_numpy(rnn(x))
    >>> second = keras.ops.convert_to_numpy(rnn(x))
    >>> bool(np.allclose(first, second))  # the second call goes on
    False
    >>> [w.name for w in rnn.non_trainable_weights]
    ['state_0']

    Reference:
        Williams and Peng, "An Efficient Gradient-Based Algorithm for
        On-Line Training of Recurrent Network Trajectories", Neural
        Computation 1990 (truncated back-propagation through time).
    """

    def _create_state_variables(self, batch_size):
        sizes = self.cell.state_size
        if not isinstance(sizes, (list, tuple)):
            sizes = [sizes]
        self.states = [
            self.add_weight(
                name=f"state_{i}",
                shape=(batch_size, size),
                initializer="zeros",
                trainable=False,
                dtype=self.variable_dtype,
            )
            for i, size in enumerate(sizes)
        ]
