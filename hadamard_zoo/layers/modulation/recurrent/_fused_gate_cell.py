"""What the LSTM, GRU, MGU and Li-GRU cells share: fused gate weights.

Each cell computes `G` pre-activation blocks of `units` values from one
`kernel` `(input_dim, G·units)`, one `recurrent_kernel` `(units, G·units)`
and one `bias` `(G·units,)`, the layout of Keras' LSTM and GRU; only the
gate equations in `call` differ.
"""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_int


class _FusedGateCell(DenseWeightsLayer):
    """Base of the fused-weight recurrent cells (not used on its own).

    Subclasses set `gates` (the number of `units`-wide blocks) and
    `state_names` (`("h",)` or `("h", "c")`) and implement `call`.
    """

    gates = None
    state_names = ("h",)

    def __init__(
        self,
        units,
        activation,
        recurrent_activation,
        recurrent_initializer,
        recurrent_regularizer,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = get_activation(activation) or keras.activations.linear
        self.recurrent_activation = (
            get_activation(recurrent_activation, "recurrent_activation")
            or keras.activations.linear
        )
        self.recurrent_initializer = get_initializer(
            recurrent_initializer, "recurrent_initializer"
        )
        self.recurrent_regularizer = keras.regularizers.get(
            recurrent_regularizer
        )
        count = len(self.state_names)
        self.state_size = self.units if count == 1 else [self.units] * count
        self.output_size = self.units

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 2 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects "
                "`inputs` of shape (batch, input_dim) with a defined "
                "input_dim: one time step (wrap the cell in "
                f"keras.layers.RNN for sequences). Received inputs with "
                f"shape {shape}."
            )
        input_dim = int(shape[-1])
        width = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, width),
            initializer=self._reseeded(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=(self.units, width),
            initializer=self._reseeded(self.recurrent_initializer),
            regularizer=self.recurrent_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(width,),
                initializer=self._reseeded(self.bias_initializer),
                regularizer=self.bias_regularizer,
            )
        self.input_spec = keras.InputSpec(ndim=2, axes={-1: input_dim})

    def get_initial_state(self, batch_size=None):
        """Zero states (`state_names`) for `batch_size` sequences."""
        return [
            ops.zeros((batch_size, self.units), self.compute_dtype)
            for _ in self.state_names
        ]

    def check_states(self, states):
        """`states` as a list of tensors of shape `(batch, units)`."""
        if not isinstance(states, (list, tuple)):
            states = [states]
        states = list(states)
        count = len(self.state_names)
        shapes = [tuple(getattr(s, "shape", ())) for s in states]
        if len(states) != count or any(
            len(s) != 2 or s[-1] not in (None, self.units) for s in shapes
        ):
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects "
                f"`states` to be [{', '.join(self.state_names)}]: {count} "
                f"tensor(s) of shape (batch, {self.units}). Received states "
                f"with shapes {shapes}."
            )
        return states

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
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
