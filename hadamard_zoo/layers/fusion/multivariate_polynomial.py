"""Multivariate polynomial of several inputs (CoPE, survey Eq. 4)."""

import numbers

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.fusion._inputs import check_call_inputs
from hadamard_zoo.layers.fusion._inputs import input_shapes
from hadamard_zoo.layers.fusion._inputs import input_specs
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


def _check_indices(name, value):
    """A tuple of distinct ints >= 0 (an int alone is one index)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    message = (
        f"`{name}` must be a tuple of distinct input indices (integers "
        f">= 0). Received: {name}={value!r}."
    )
    if not isinstance(value, (tuple, list)):
        raise ValueError(message)
    for index in value:
        if (
            isinstance(index, bool)
            or not isinstance(index, numbers.Integral)
            or index < 0
        ):
            raise ValueError(message)
    if len(set(value)) != len(value):
        raise ValueError(message)
    return tuple(sorted(int(i) for i in value))


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MultivariatePolynomial(DenseWeightsLayer):
    """Degree-N polynomial of M inputs with a nested factorisation (CoPE).

    The survey's Eq. 4 (the CoPE recursion) extends the NCP polynomial to
    several inputs `z_0 .. z_{M-1}`: every degree adds one more factor that
    sums a projection of every input,

    ```
    y_1 = Σ_m A_{1,m}ᵀ z_m + b_1
    y_n = (Σ_m A_{n,m}ᵀ z_m) * (S_nᵀ y_{n-1} + b_n),   n = 2..N
    y   = C y_N + β          (only when `output_units` is set)
    ```

    where `*` is the Hadamard product, so `y_N` holds products of up to N
    of the inputs' projections: self- and cross-interactions of every
    input. Inputs listed in `first_degree_only` enter `y_1` only
    (`A_{n,m} = 0` for `n >= 2`, and those weights are not created), as
    SPADE-like and text-guided variants do for a conditioning input that
    should not be raised to higher powers.

    Every input is projected once: its `A_{1,m} .. A_{N,m}` are applied
    by one matmul over the concatenated kernels.

    Args:
        rank: int, the width `k` of every `A_{n,m}` and `S_n`.
        degree: int >= 1, the polynomial degree `N`.
        output_units: optional int. If set, a final linear map `C` (with
            bias β) projects `y_N` to this many outputs. Defaults to `None`
            (output width `rank`).
        first_degree_only: tuple of input indices (0-based positions in
            the input list) whose factors are switched off after the first
            degree. At least one input must remain when `degree >= 2`.
            Defaults to `()`.
        use_bias: bool, whether `b_1`, the `b_n` and β exist. Defaults to
            `True`.
        kernel_initializer: initializer of the `A`, `S` and `C` kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of M >= 1 tensors of shapes `(..., d_m)` with the
            same leading axes.

    Returns:
        Tensor of shape `(..., rank)`, or `(..., output_units)` when set.

    Weights:
        `a{n}_{m}_kernel` `A_{n,m}` `(d_m, rank)`; `b1` `(rank,)`;
        `s{n}_kernel` `S_n` `(rank, rank)` and `s{n}_bias` `b_n` for
        n >= 2; `c_kernel`, `c_bias` `(rank, output_units)`.

    Example:

    >>> import numpy as np
    >>> noise, label = np.ones((2, 16), "float32"), np.ones((2, 10), "f4")
    >>> layer = MultivariatePolynomial(rank=8, degree=3, output_units=4)
    >>> tuple(layer([noise, label]).shape)
    (2, 4)
    >>> label_once = MultivariatePolynomial(
    ...     rank=8, degree=3, first_degree_only=(1,))
    >>> tuple(label_once([noise, label]).shape)
    (2, 8)

    Reference:
        Chrysos et al., "Conditional Generation Using Polynomial
        Expansions", NeurIPS 2021 (CoPE); Chrysos et al., "Hadamard product
        in deep learning", Eq. 4.
    """

    def __init__(
        self,
        rank,
        degree,
        output_units=None,
        first_degree_only=(),
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rank = check_int("rank", rank)
        self.degree = check_int("degree", degree)
        self.output_units = check_optional_int("output_units", output_units)
        self.first_degree_only = _check_indices(
            "first_degree_only", first_degree_only
        )

    def _degrees_of(self, m):
        """The degrees n whose A_{n,m} exists for input m."""
        if m in self.first_degree_only:
            return [1]
        return list(range(1, self.degree + 1))

    def build(self, input_shape):
        shapes, _ = input_shapes(self, input_shape, minimum=1)
        count = len(shapes)
        out_of_range = [i for i in self.first_degree_only if i >= count]
        if out_of_range:
            raise ValueError(
                f"`first_degree_only` holds indices {out_of_range} but layer "
                f"'{self.name}' received {count} input(s) (indices 0.."
                f"{count - 1}). Received: first_degree_only="
                f"{self.first_degree_only}."
            )
        if self.degree >= 2 and len(self.first_degree_only) == count:
            raise ValueError(
                "`first_degree_only` switches off every input after the "
                f"first degree, so degrees 2..{self.degree} would be zero. "
                "Leave at least one input out of it. Received: "
                f"first_degree_only={self.first_degree_only} with {count} "
                "input(s)."
            )
        self.a_kernels = []  # a_kernels[m][j] = A_{degrees[j], m}
        for m, shape in enumerate(shapes):
            self.a_kernels.append(
                [
                    self.add_dense_weights(
                        f"a{n}_{m}", (int(shape[-1]), self.rank), use_bias=False
                    )[0]
                    for n in self._degrees_of(m)
                ]
            )
        self.b1 = None
        if self.use_bias:
            self.b1 = self.add_weight(
                name="b1",
                shape=(self.rank,),
                initializer=self._reseeded(self.bias_initializer),
                regularizer=self.bias_regularizer,
            )
        factors = [
            self.add_dense_weights(f"s{n}", (self.rank, self.rank))
            for n in range(2, self.degree + 1)
        ]
        self.s_kernels = [kernel for kernel, _ in factors]
        self.s_biases = [bias for _, bias in factors]
        self.c_kernel = self.c_bias = None
        if self.output_units is not None:
            self.c_kernel, self.c_bias = self.add_dense_weights(
                "c", (self.rank, self.output_units)
            )
        self.input_spec = input_specs(shapes)

    def call(self, inputs):
        check_call_inputs(self, inputs)
        # sums[n - 1] = Σ_m A_{n,m}ᵀ z_m, over the inputs that have degree n.
        sums = [None] * self.degree
        for m, z in enumerate(inputs):
            degrees = self._degrees_of(m)
            kernels = self.a_kernels[m]
            if len(kernels) == 1:
                parts = [ops.matmul(z, kernels[0])]
            else:
                # One matmul per input for all its degrees.
                projected = ops.matmul(z, ops.concatenate(kernels, axis=-1))
                parts = ops.split(projected, len(kernels), axis=-1)
            for n, part in zip(degrees, parts, strict=True):
                sums[n - 1] = (
                    part if sums[n - 1] is None else sums[n - 1] + part
                )
        out = sums[0]
        if self.b1 is not None:
            out = out + self.b1
        for n in range(2, self.degree + 1):
            s = self.dense(out, self.s_kernels[n - 2], self.s_biases[n - 2])
            out = sums[n - 1] * s
        if self.c_kernel is not None:
            out = self.dense(out, self.c_kernel, self.c_bias)
        return out

    def compute_output_shape(self, input_shape):
        _, leading = input_shapes(self, input_shape, minimum=1)
        return leading + (self.output_units or self.rank,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "rank": self.rank,
                "degree": self.degree,
                "output_units": self.output_units,
                "first_degree_only": list(self.first_degree_only),
            }
        )
        return config
