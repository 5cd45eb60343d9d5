"""Nested CP decomposition (NCP) polynomial layer."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class NCP(DenseWeightsLayer):
    """Degree-N polynomial of the input with nested CP factors (Π-Nets NCP).

    The nested CP decomposition builds a degree-N polynomial of `z` by
    multiplying, at every degree, a fresh projection of the input with a
    linear map of the previous degree's expansion:

    ```
    x_1 = A_1ᵀ z + a_1
    x_n = (A_nᵀ z + a_n) * (S_nᵀ x_{n-1} + s_n),            n = 2..N
    x_n = (A_nᵀ z + a_n) * (S_nᵀ x_{n-1} + s_n) + x_{n-1}   (skip=True)
    y   = C x_N + β          (only when `output_units` is set)
    ```

    where `*` is the Hadamard product. This is the survey's listing
    (`out = A_i(h) * S_i(out)`, with the bias `b_n` of the paper's form
    folded into `S_n`'s bias `s_n`): the factors are shared through the
    recursion, so the layer has Θ(N·(d·k + k²)) parameters. Without `skip`,
    and with `use_bias=False`, `x_N` is a homogeneous polynomial of degree
    N; the biases add the lower degrees. `skip=True` adds the identity skip
    `+ x_{n-1}` (NCP-Skip), which keeps every lower degree explicitly as
    CCP does. With `activation` set, it is applied to `x_1 .. x_{N-1}`
    before they enter the next degree (the activated `x_{n-1}` is also what
    the skip adds); `x_N` stays linear.

    Args:
        rank: int, the width `k` of every factor `A_n`, `S_n` (the CP rank).
        degree: int >= 1, the polynomial degree `N`.
        output_units: optional int. If set, a final linear map `C` (with
            bias β) projects the rank-`k` expansion to this many outputs, as
            the survey's `fc_out` does. Defaults to `None` (output width
            `rank`).
        activation: optional activation applied between terms. Defaults to
            `None` (a pure polynomial).
        skip: bool, whether to add the identity skip `x_{n-1}` at every
            degree (NCP-Skip). Defaults to `False`.
        use_bias: bool, whether `A_n`, `S_n` and `C` have biases
            (`a_n`, `s_n`, β). Defaults to `True`.
        kernel_initializer: initializer of the `A_n`, `S_n` and `C`
            kernels. Defaults to `"glorot_uniform"`.
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
    >>> layer = NCP(rank=16, degree=4, output_units=10, skip=True)
    >>> tuple(layer(np.ones((2, 784), "float32")).shape)
    (2, 10)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Deep Polynomial Neural Networks", TPAMI 2021;
        Chrysos et al., "Hadamard product in deep learning", section S.2.2.
    """

    def __init__(
        self,
        rank,
        degree,
        output_units=None,
        activation=None,
        skip=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rank = check_int("rank", rank)
        self.degree = check_int("degree", degree)
        self.output_units = check_optional_int("output_units", output_units)
        self.activation = get_activation(activation)
        check_bool("skip", skip)
        self.skip = skip

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        factors = [
            self.add_dense_weights(f"a{n}", (input_dim, self.rank))
            for n in range(1, self.degree + 1)
        ]
        self.a_kernels = [kernel for kernel, _ in factors]
        self.a_biases = [bias for _, bias in factors]
        self.s_weights = [
            self.add_dense_weights(f"s{n}", (self.rank, self.rank))
            for n in range(2, self.degree + 1)
        ]
        self.c_kernel = self.c_bias = None
        if self.output_units is not None:
            self.c_kernel, self.c_bias = self.add_dense_weights(
                "c", (self.rank, self.output_units)
            )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # All A_n z are independent of each other: one matmul computes them.
        kernel = ops.concatenate(self.a_kernels, axis=-1)
        bias = ops.concatenate(self.a_biases) if self.use_bias else None
        projections = self.dense(inputs, kernel, bias)
        projections = ops.split(projections, self.degree, axis=-1)
        out = projections[0]
        for projection, (s_kernel, s_bias) in zip(
            projections[1:], self.s_weights, strict=True
        ):
            if self.activation is not None:
                out = self.activation(out)
            product = projection * self.dense(out, s_kernel, s_bias)
            out = product + out if self.skip else product
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
                "skip": self.skip,
            }
        )
        return config
