"""Polynomial layer with one CP decomposition per degree (no sharing)."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class CPPolynomial(DenseWeightsLayer):
    """Degree-N polynomial with a separate CP factorisation of every degree.

    The survey's Eq. 2 writes each degree-n term of the full polynomial
    (Eq. 1) as a rank-`o` CP decomposition of its own, with no factor shared
    between degrees:

    ```
    y = β + C_{1,[1]}ᵀ z + (C_{1,[2]}ᵀ z) * (C_{2,[2]}ᵀ z) + ...
          + Π_{i=1..N} (C_{i,[N]}ᵀ z)
      = β + Σ_{n=1..N} Π_{i=1..n} (C_{i,[n]}ᵀ z)
    ```

    where `*` (and Π) is the Hadamard product and every `C_{i,[n]}` maps
    `d → units`: Θ(N²·d·o) parameters. With `rank=k` the factors map
    `d → k` instead and every degree gets its own output matrix `W_[n]`
    (`k → units`), decoupling the CP rank from the output width:

    ```
    y = β + Σ_{n=1..N} W_[n]ᵀ Π_{i=1..n} (C_{i,[n]}ᵀ z)
    ```

    The factors have no bias (a bias inside a factor would mix degrees);
    β is the only bias and carries the degree-0 term.

    Args:
        units: int, the output width `o`.
        degree: int >= 1, the polynomial degree `N`.
        rank: optional int, the CP rank `k` of every degree. Defaults to
            `None`: the factors map straight to `units` (Eq. 2 literally).
        use_bias: bool, whether the output has the bias β. Defaults to
            `True`.
        kernel_initializer: initializer of the factors `C_{i,[n]}` and of
            the `W_[n]`. Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of β. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of β.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Example:

    >>> import numpy as np
    >>> layer = CPPolynomial(units=10, degree=3, rank=8)
    >>> tuple(layer(np.ones((2, 784), "float32")).shape)
    (2, 10)

    Reference:
        Chrysos et al., "Hadamard product in deep learning", Eq. 2;
        Chrysos et al., "Augmenting Deep Classifiers with Polynomial Neural
        Networks", ECCV 2022.
    """

    def __init__(self, units, degree, rank=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.degree = check_int("degree", degree)
        self.rank = check_optional_int("rank", rank)

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        width = self.units if self.rank is None else self.rank
        self.factor_kernels = []
        for n in range(1, self.degree + 1):
            for i in range(1, n + 1):
                kernel, _ = self.add_dense_weights(
                    f"degree{n}_factor{i}", (input_dim, width), use_bias=False
                )
                self.factor_kernels.append(kernel)
        self.output_kernels = []
        if self.rank is not None:
            self.output_kernels = [
                self.add_dense_weights(
                    f"degree{n}_output", (self.rank, self.units), use_bias=False
                )[0]
                for n in range(1, self.degree + 1)
            ]
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        # All N(N+1)/2 factors see the same input: one matmul computes them.
        kernel = ops.concatenate(self.factor_kernels, axis=-1)
        projections = ops.matmul(inputs, kernel)
        projections = ops.split(projections, len(self.factor_kernels), axis=-1)
        terms = []
        start = 0
        for n in range(1, self.degree + 1):
            term = projections[start]
            for projection in projections[start + 1 : start + n]:
                term = term * projection
            terms.append(term)
            start += n
        if self.rank is None:
            out = terms[0]
            for term in terms[1:]:
                out = out + term
        else:
            # Σ_n W_[n]ᵀ t_n is one matmul of the stacked terms.
            out = ops.matmul(
                ops.concatenate(terms, axis=-1),
                ops.concatenate(self.output_kernels, axis=0),
            )
        if self.bias is not None:
            out = out + self.bias
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "degree": self.degree,
                "rank": self.rank,
            }
        )
        return config
