"""Coupled CP decomposition (CCP) polynomial layer."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class CCP(DenseWeightsLayer):
    """Degree-N polynomial of the input with coupled CP factors (Π-Nets CCP).

    The coupled CP decomposition expands a degree-N polynomial of `z` with
    one factor matrix per degree, shared through the recursion

    ```
    x_1 = U_1ᵀ z
    x_n = (U_nᵀ z) * x_{n-1} + x_{n-1},   n = 2..N
    y   = C x_N + β          (only when `output_units` is set)
    ```

    where `*` is the Hadamard product. The `+ x_{n-1}` term keeps every
    lower degree, so `x_N` holds all monomials of degree 1..N through a
    rank-`rank` factorisation: Θ(N·d·k) parameters instead of the Θ(d^N) of
    the full tensor form. With `activation` set, it is applied to
    `x_1 .. x_{N-1}` before they enter the next degree (an activation
    between terms, which the survey notes helps stability); `x_N` stays
    linear.

    Args:
        rank: int, the width `k` of every factor `U_n` (the CP rank).
        degree: int >= 1, the polynomial degree `N`.
        output_units: optional int. If set, a final linear map `C` (with
            bias β) projects the rank-`k` expansion to this many outputs, as
            the survey's `fc_out` does. Defaults to `None` (output width
            `rank`).
        activation: optional activation applied between terms. Defaults to
            `None` (a pure polynomial).
        use_bias: bool, whether `U_n` and `C` have biases. Defaults to
            `True`, as `nn.Linear` in the survey's listing.
        kernel_initializer: initializer of the `U_n` and `C` kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., rank)`, or `(..., output_units)` when set.

    Example:

    >>> import numpy as np
    >>> layer = CCP(rank=16, degree=4, output_units=10)
    >>> tuple(layer(np.ones((2, 784), "float32")).shape)
    (2, 10)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Hadamard product in deep learning", section S.2.2.
    """

    def __init__(
        self,
        rank,
        degree,
        output_units=None,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rank = check_int("rank", rank)
        self.degree = check_int("degree", degree)
        self.output_units = check_optional_int("output_units", output_units)
        self.activation = get_activation(activation)

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        factors = [
            self.add_dense_weights(f"u{n}", (input_dim, self.rank))
            for n in range(1, self.degree + 1)
        ]
        self.u_kernels = [kernel for kernel, _ in factors]
        self.u_biases = [bias for _, bias in factors]
        self.c_kernel = self.c_bias = None
        if self.output_units is not None:
            self.c_kernel, self.c_bias = self.add_dense_weights(
                "c", (self.rank, self.output_units)
            )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # All U_n z are independent of each other: one matmul computes them.
        kernel = ops.concatenate(self.u_kernels, axis=-1)
        bias = ops.concatenate(self.u_biases) if self.use_bias else None
        projections = self.dense(inputs, kernel, bias)
        projections = ops.split(projections, self.degree, axis=-1)
        out = projections[0]
        for projection in projections[1:]:
            if self.activation is not None:
                out = self.activation(out)
            out = projection * out + out
        if self.c_kernel is not None:
            out = self.dense(out, self.c_kernel, self.c_bias)
        return out

    def compute_output_shape(self, input_shape):
        units = self.output_units or self.rank
        return tuple(input_shape[:-1]) + (units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rank": self.rank,
                "degree": self.degree,
                "output_units": self.output_units,
                "activation": serialize_activation(self.activation),
            }
        )
        return config
