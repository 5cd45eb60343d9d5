"""ConvLSTM cell: LSTM gates on feature maps, with Hadamard peepholes."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ConvLSTM2DCell(DenseWeightsLayer):
    """One step of a convolutional LSTM (ConvLSTM) on 2D feature maps.

    The LSTM of Shi et al.: inputs `X_t`, outputs `H_t` and memories `C_t`
    are `(height, width, channels)` maps, the matrix products become
    convolutions `⊛` ('same' padding, stride 1) and the peepholes from the
    memory into the gates are Hadamard products with weight maps `W_c·`:

    ```
    i_t = σ(W_xi ⊛ X_t + W_hi ⊛ H_{t-1} + W_ci * C_{t-1} + b_i)
    f_t = σ(W_xf ⊛ X_t + W_hf ⊛ H_{t-1} + W_cf * C_{t-1} + b_f)
    C_t = f_t * C_{t-1} + i_t * tanh(W_xc ⊛ X_t + W_hc ⊛ H_{t-1} + b_c)
    o_t = σ(W_xo ⊛ X_t + W_ho ⊛ H_{t-1} + W_co * C_t + b_o)
    H_t = o_t * tanh(C_t)
    ```

    where `*` is the Hadamard product. As in the paper, each peephole map
    has the shape of the memory, `(height, width, filters)`: every position
    has its own weight, so the cell only runs on the frame size it was built
    for. The peepholes start at zero (`peephole_initializer`), which makes
    a fresh cell the peephole-free ConvLSTM of `keras.layers.ConvLSTM2D`.

    The convolution weights have the layout of Keras' `ConvLSTM2D`:
    `kernel` holds `[W_xi, W_xf, W_xc, W_xo]` along the last axis,
    `recurrent_kernel` the `W_h·` and `bias` the `b·` in the same order, so
    a Keras ConvLSTM2D's weights copy over with the peepholes left at zero.

    Args:
        filters: int >= 1, the channels of `H_t` and `C_t`.
        kernel_size: int or tuple of 2 ints, the window of every
            convolution.
        activation: the activation of the candidate and of `C_t` before
            the output gate (`tanh` above). Defaults to `"tanh"`; `None` is
            linear.
        recurrent_activation: the activation `σ` of the gates. Defaults
            to `"sigmoid"`; `None` is linear.
        unit_forget_bias: bool, whether `b_f` starts at one (Jozefowicz et
            al.), as in Keras. Defaults to `True`; `bias_initializer` then
            only sets `b_i`, `b_c`, `b_o`.
        use_bias: bool, whether the gates have biases. Defaults to `True`.
        kernel_initializer: initializer of `kernel`. Defaults to
            `"glorot_uniform"`.
        recurrent_initializer: initializer of `recurrent_kernel`. Defaults
            to `"orthogonal"`.
        peephole_initializer: initializer of the peephole maps `W_ci`,
            `W_cf`, `W_co`. Defaults to `"zeros"`.
        bias_initializer: initializer of `bias`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `kernel`.
        recurrent_regularizer: optional regularizer of `recurrent_kernel`.
        bias_regularizer: optional regularizer of `bias`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`, the
            frame `X_t` of one step; `height` and `width` must be known.
        states: list `[H, C]` of two tensors of shape
            `(batch, height, width, filters)`.
        training: unused, part of the Keras cell contract.

    Returns:
        `(H_t, [H_t, C_t])`. Run it over frames `(batch, time, height,
        width, channels)` with `keras.layers.RNN`. Like Keras' own conv
        cells it has `state_size = -1` (its state is not a vector), so
        `keras.layers.RNN` runs it on concrete tensors but cannot infer
        symbolic output shapes (the same holds for Keras' `ConvLSTMCell`;
        `keras.layers.ConvLSTM2D` overrides `compute_output_shape` for
        that); `get_initial_state` and `compute_output_shape` give the
        state shapes.

    Weights:
        `kernel` `(kh, kw, channels, 4 · filters)`, `recurrent_kernel`
        `(kh, kw, filters, 4 · filters)`, `bias` `(4 · filters,)`;
        `input_peephole` `W_ci`, `forget_peephole` `W_cf`,
        `output_peephole` `W_co`, each `(height, width, filters)`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> cell = ConvLSTM2DCell(filters=6, kernel_size=3)
    >>> layer = keras.layers.RNN(cell, return_sequences=True)
    >>> tuple(layer(np.ones((2, 4, 8, 8, 1), "float32")).shape)
    (2, 4, 8, 8, 6)
    >>> [tuple(s.shape) for s in cell.get_initial_state(batch_size=2)]
    [(2, 8, 8, 6), (2, 8, 8, 6)]

    Reference:
        Shi et al., "Convolutional LSTM Network: A Machine Learning
        Approach for Precipitation Nowcasting", NeurIPS 2015;
        Chrysos et al., "Hadamard product in deep learning", section on
        recurrent networks.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        activation="tanh",
        recurrent_activation="sigmoid",
        unit_forget_bias=True,
        recurrent_initializer="orthogonal",
        peephole_initializer="zeros",
        recurrent_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
        self.activation = get_activation(activation) or keras.activations.linear
        self.recurrent_activation = (
            get_activation(recurrent_activation, "recurrent_activation")
            or keras.activations.linear
        )
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        self.recurrent_initializer = get_initializer(
            recurrent_initializer, "recurrent_initializer"
        )
        self.peephole_initializer = get_initializer(
            peephole_initializer, "peephole_initializer"
        )
        self.recurrent_regularizer = keras.regularizers.get(
            recurrent_regularizer
        )
        # As Keras' ConvLSTMCell: the state is a stack of maps whose size
        # is known only once built; get_initial_state() gives it.
        self.state_size = -1
        self.spatial_dims = None

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or None in shape[1:]:
            raise ValueError(
                f"Layer '{self.name}' (ConvLSTM2DCell) expects `inputs` of "
                "shape (batch, height, width, channels) with height, width "
                "and channels defined: one frame (wrap the cell in "
                "keras.layers.RNN for sequences of frames). Received "
                f"`inputs` with shape {shape}."
            )
        self.spatial_dims = tuple(int(d) for d in shape[1:3])
        channels = int(shape[-1])
        gates = 4 * self.filters
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels, gates),
            initializer=self._reseeded(self.kernel_initializer),
            regularizer=self.kernel_regularizer,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel",
            shape=self.kernel_size + (self.filters, gates),
            initializer=self._reseeded(self.recurrent_initializer),
            regularizer=self.recurrent_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(gates,),
                initializer=self._bias_init(),
                regularizer=self.bias_regularizer,
            )
        peephole_shape = self.spatial_dims + (self.filters,)
        self.input_peephole, self.forget_peephole, self.output_peephole = (
            self.add_weight(
                name=f"{gate}_peephole",
                shape=peephole_shape,
                initializer=self._reseeded(self.peephole_initializer),
            )
            for gate in ("input", "forget", "output")
        )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def _bias_init(self):
        initializer = self._reseeded(self.bias_initializer)
        if not self.unit_forget_bias:
            return initializer
        filters = self.filters

        def with_unit_forget_bias(shape, dtype=None):
            return ops.concatenate(
                [
                    initializer((filters,), dtype),
                    ops.ones((filters,), dtype),
                    initializer((2 * filters,), dtype),
                ]
            )

        return with_unit_forget_bias

    def _state_shape(self, batch_size):
        if self.spatial_dims is None:
            raise ValueError(
                f"Layer '{self.name}' (ConvLSTM2DCell) knows its state shape "
                "only once built: call it (or keras.layers.RNN around it) "
                "on frames first, or build it with build(input_shape)."
            )
        return (batch_size,) + self.spatial_dims + (self.filters,)

    def get_initial_state(self, batch_size=None):
        """Zero `[H, C]`, each `(batch_size, height, width, filters)`."""
        shape = self._state_shape(batch_size)
        return [ops.zeros(shape, self.compute_dtype) for _ in range(2)]

    def _conv(self, x, kernel):
        return ops.conv(x, kernel, strides=1, padding="same")

    def call(self, inputs, states, training=False):
        h_prev, c_prev = self._check_states(states)
        # All four gates' convolutions at once, in Keras' order i, f, c, o.
        z = self._conv(inputs, self.kernel)
        z = z + self._conv(h_prev, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=-1)
        # Peepholes: the gates see the memory through a Hadamard product
        # with a weight map, W_c· * C, one weight per position and channel.
        i = self.recurrent_activation(z_i + self.input_peephole * c_prev)
        f = self.recurrent_activation(z_f + self.forget_peephole * c_prev)
        # C_t = f_t * C_{t-1} + i_t * tanh(·): forget part of the memory,
        # admit part of the candidate.
        c = f * c_prev + i * self.activation(z_c)
        # The output gate peeks at the new memory C_t, not C_{t-1}.
        o = self.recurrent_activation(z_o + self.output_peephole * c)
        h = o * self.activation(c)
        return h, [h, c]

    def _check_states(self, states):
        if not isinstance(states, (list, tuple)):
            states = [states]
        expected = (None,) + self.spatial_dims + (self.filters,)
        shapes = [tuple(getattr(s, "shape", ())) for s in states]

        def matches(shape):
            return len(shape) == 4 and all(
                e is None or d is None or d == e
                for d, e in zip(shape, expected, strict=True)
            )

        if len(states) != 2 or not all(matches(s) for s in shapes):
            raise ValueError(
                f"Layer '{self.name}' (ConvLSTM2DCell) expects `states` "
                f"[H, C]: 2 tensors of shape (batch, {expected[1]}, "
                f"{expected[2]}, {self.filters}). Received states with "
                f"shapes {shapes}."
            )
        return states

    def compute_output_shape(self, inputs_shape, states_shape=None):
        shape = tuple(inputs_shape[:-1]) + (self.filters,)
        return shape, [shape, shape]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "activation": serialize_activation(self.activation),
                "recurrent_activation": serialize_activation(
                    self.recurrent_activation
                ),
                "unit_forget_bias": self.unit_forget_bias,
                "recurrent_initializer": keras.initializers.serialize(
                    self.recurrent_initializer
                ),
                "peephole_initializer": keras.initializers.serialize(
                    self.peephole_initializer
                ),
                "recurrent_regularizer": keras.regularizers.serialize(
                    self.recurrent_regularizer
                ),
            }
        )
        return config
