"""Pi-sigma network layer: a product of summing units."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PiSigma(DenseWeightsLayer):
    """Pi-sigma layer: the Hadamard product of K affine maps, then σ.

    Every output unit multiplies the outputs of `K = degree` linear summing
    units and passes the product through a nonlinearity:

    ```
    h_j = W_jᵀ z + θ_j,        j = 1..K
    y   = σ(h_1 * h_2 * ... * h_K)
    ```

    where `*` is the Hadamard product. The product is a degree-K polynomial
    of `z` given by a rank-1 (per output unit) CP decomposition, so the
    layer has only K·(d + 1)·units parameters; the summing units' weights
    are the only trainable ones (Shin & Ghosh keep the product unit
    weights fixed to 1).

    Args:
        units: int, the number of output (pi) units.
        degree: int >= 1, the number `K` of summing units multiplied per
            output unit (the polynomial degree).
        activation: activation σ of the product. Defaults to `"sigmoid"`,
            as in the paper; `None` gives a linear output (a pure
            polynomial).
        use_bias: bool, whether the summing units have thresholds `θ_j`.
            Defaults to `True`.
        kernel_initializer: initializer of the `W_j`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the `θ_j`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = PiSigma(units=3, degree=2)
    >>> tuple(layer(np.ones((2, 8), "float32")).shape)
    (2, 3)

    Reference:
        Shin & Ghosh, "The Pi-Sigma Network: An Efficient Higher-Order Neural
        Network for Pattern Classification and Function Approximation",
        IJCNN 1991; Chrysos et al., "Hadamard product in deep learning"
        (high-order interactions).
    """

    def __init__(self, units, degree, activation="sigmoid", **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.degree = check_int("degree", degree)
        self.activation = get_activation(activation)

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        sums = [
            self.add_dense_weights(f"sum{j}", (input_dim, self.units))
            for j in range(1, self.degree + 1)
        ]
        self.sum_kernels = [kernel for kernel, _ in sums]
        self.sum_biases = [bias for _, bias in sums]
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # All summing units see the same input: one matmul computes them.
        kernel = ops.concatenate(self.sum_kernels, axis=-1)
        bias = ops.concatenate(self.sum_biases) if self.use_bias else None
        sums = self.dense(inputs, kernel, bias)
        sums = ops.split(sums, self.degree, axis=-1)
        out = sums[0]
        for h in sums[1:]:
            out = out * h
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
                "degree": self.degree,
                "activation": serialize_activation(self.activation),
            }
        )
        return config
