"""Dense layer of quadratic neurons (Fan et al.)."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class QuadraticDense(DenseWeightsLayer):
    """Dense layer of quadratic neurons: a Hadamard product of two affine maps.

    Every unit replaces the inner product of a dense neuron by a quadratic
    function of the input (Fan et al.'s quadratic neuron):

    ```
    y = σ((W_1ᵀ z + b_1) * (W_2ᵀ z + b_2) + W_3ᵀ (z * z) + b_3)
    ```

    where `*` is the Hadamard product. It costs three times the parameters
    of a `Dense` layer and can represent, e.g., an XOR or a ball with a
    single neuron.

    Initialisation follows Fan et al.'s "ReLinear" scheme so that the
    neuron starts as an ordinary linear neuron and the quadratic part grows
    from zero during training: `W_1` uses `kernel_initializer` and `b_1`,
    `b_3` use `bias_initializer` (zeros by default), `W_2` and `W_3` use
    `quadratic_initializer` (zeros by default) and `b_2` is initialised to
    ones. At initialisation `y = σ(W_1ᵀ z + b_1)`, exactly a `Dense` layer.
    With `use_bias=False` there is no `b_1, b_2, b_3`, so the neuron is a
    homogeneous quadratic form (and the default initialisation makes it
    zero at the start, though `W_2` and `W_3` still get gradients).

    Args:
        units: int, the number of quadratic neurons.
        activation: optional activation σ. Defaults to `None` (linear).
        quadratic_initializer: initializer of `W_2` and `W_3`. Defaults to
            `"zeros"` (ReLinear).
        use_bias: bool, whether the layer has `b_1, b_2, b_3`. Defaults to
            `True`.
        kernel_initializer: initializer of `W_1`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b_1` and `b_3` (`b_2` always
            starts at ones). Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = QuadraticDense(units=4, activation="relu")
    >>> tuple(layer(np.ones((2, 8), "float32")).shape)
    (2, 4)

    Reference:
        Fan, Cong & Wang, "A new type of neurons for machine learning",
        Int. J. Numer. Method. Biomed. Eng. 2018;
        Fan et al., "On Expressivity and Trainability of Quadratic
        Networks", IEEE TNNLS 2023 (ReLinear);
        Chrysos et al., "Hadamard product in deep learning", section 6.
    """

    def __init__(
        self,
        units,
        activation=None,
        quadratic_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.activation = get_activation(activation)
        try:
            self.quadratic_initializer = keras.initializers.get(
                quadratic_initializer
            )
        except ValueError as error:
            raise ValueError(
                "`quadratic_initializer` must be a Keras initializer or its "
                f"name. Received: quadratic_initializer="
                f"{quadratic_initializer!r}."
            ) from error

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        shape = (input_dim, self.units)
        self.w1_kernel, self.w1_bias = self.add_dense_weights("w1", shape)
        self.w2_kernel, self.w2_bias = self.add_dense_weights(
            "w2",
            shape,
            kernel_initializer=self.quadratic_initializer,
            bias_initializer="ones",
        )
        self.w3_kernel, self.w3_bias = self.add_dense_weights(
            "w3", shape, kernel_initializer=self.quadratic_initializer
        )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # Both factors see the same input: one matmul computes them.
        kernel = ops.concatenate([self.w1_kernel, self.w2_kernel], axis=-1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.w1_bias, self.w2_bias])
        first, second = ops.split(self.dense(inputs, kernel, bias), 2, axis=-1)
        power = self.dense(ops.square(inputs), self.w3_kernel, self.w3_bias)
        out = first * second + power
        if self.activation is not None:
            out = self.activation(out)
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "activation": serialize_activation(self.activation),
                "quadratic_initializer": keras.initializers.serialize(
                    self.quadratic_initializer
                ),
            }
        )
        return config
