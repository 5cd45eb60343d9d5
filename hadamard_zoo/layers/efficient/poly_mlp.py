"""MONet's Mu-layer (PolyMlp): a second-order multilinear MLP."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.efficient.spatial_shift import GROUPS
from hadamard_zoo.layers.efficient.spatial_shift import spatial_shift
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolyMlp(DenseWeightsLayer):
    """MONet's Mu-layer: a degree-2 polynomial of the input, no activation.

    Two projections of the input, one full-rank and one low-rank, meet in a
    Hadamard product; a learnable scalar α weighs that second-order term
    against the first-order one before the output map:

    ```
    o1 = U1 x                               (d -> k)
    o2 = U2 x                               (d -> k / r, low rank)
    o1, o2 = shift(o1), shift(o2)           (only when use_spatial=True)
    o2 = U3 o2                              (k / r -> k)
    o1, o2 = LN_1(o1), LN_2(o2)
    y  = C (o1 + α · (o1 * o2))             (k -> output_units)
    ```

    where `*` is the Hadamard product, `k = hidden_units`, `r =
    low_rank_ratio`, `shift` is `SpatialShift` (four channel groups moved
    one pixel up, down, left and right, edges replicated) and `LN` are
    layer normalizations over the channels with ε = `epsilon`. α starts
    at 1. Every map has a bias. As in the reference code, `U1`, `U2` and
    `U3` start with biases of ones (`bias_initializer`), which makes the
    second-order term non-zero from the first step, and `C` starts with a
    zero bias.

    Args:
        hidden_units: int, the width `k` of the hidden expansion. With
            `use_spatial=True`, `k` and `k // low_rank_ratio` must be
            divisible by 4 (the four shift groups).
        output_units: optional int, the output width. Defaults to `None`
            (the input width).
        use_spatial: bool, whether `o1` and `o2` are spatially shifted
            (token mixing; inputs must then be images `(batch, height,
            width, channels)`). Defaults to `False`.
        low_rank_ratio: int, `r`: the low-rank branch is `k // r` wide.
            Defaults to `8`, as in MONet.
        epsilon: float, ε of both layer normalizations. Defaults to `1e-6`.
        use_bias: bool, whether `U1`, `U2`, `U3` and `C` have biases.
            Defaults to `True`.
        kernel_initializer: initializer of the four kernels. Defaults to
            `"he_normal"` (the variance of PyTorch's `kaiming_normal_`,
            which the reference uses for every map).
        bias_initializer: initializer of the biases of `U1`, `U2` and `U3`
            (the bias of `C` starts at zero). Defaults to `"ones"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`; `(batch, height, width, d)`
            when `use_spatial=True`.

    Returns:
        Tensor of shape `(..., output_units)` (`(..., d)` by default).

    Example:

    >>> import numpy as np
    >>> layer = PolyMlp(hidden_units=64, use_spatial=True)
    >>> tuple(layer(np.ones((2, 8, 8, 32), "float32")).shape)
    (2, 8, 8, 32)

    Reference:
        Cheng et al., "Multilinear Operator Networks", ICLR 2024;
        Chrysos et al., "Hadamard product in deep learning", section S.2.2.
    """

    def __init__(
        self,
        hidden_units,
        output_units=None,
        use_spatial=False,
        low_rank_ratio=8,
        epsilon=1e-6,
        use_bias=True,
        kernel_initializer="he_normal",
        bias_initializer="ones",
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            **kwargs,
        )
        self.hidden_units = check_int("hidden_units", hidden_units)
        self.output_units = check_optional_int("output_units", output_units)
        self.use_spatial = check_bool("use_spatial", use_spatial)
        self.low_rank_ratio = check_int("low_rank_ratio", low_rank_ratio)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.low_rank_units = self.hidden_units // self.low_rank_ratio
        if self.low_rank_units < 1:
            raise ValueError(
                "`low_rank_ratio` must be <= `hidden_units` so the low-rank "
                "branch has at least one unit. Received: "
                f"hidden_units={self.hidden_units}, "
                f"low_rank_ratio={self.low_rank_ratio}."
            )
        if self.use_spatial:
            self._check_shift_groups()
        self.input_spec = keras.InputSpec(
            ndim=4 if self.use_spatial else None,
            min_ndim=None if self.use_spatial else 2,
        )

    def _check_shift_groups(self):
        for name, units in (
            ("hidden_units", self.hidden_units),
            ("hidden_units // low_rank_ratio", self.low_rank_units),
        ):
            if units % GROUPS:
                raise ValueError(
                    f"With `use_spatial=True`, `{name}` must be divisible "
                    f"by {GROUPS} (the spatial shift moves {GROUPS} equal "
                    f"channel groups). Received: {name}={units} "
                    f"(hidden_units={self.hidden_units}, "
                    f"low_rank_ratio={self.low_rank_ratio})."
                )

    def _layer_norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(shape)
        return norm

    def build(self, input_shape):
        shape = tuple(input_shape)
        if self.use_spatial and len(shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' (PolyMlp) with use_spatial=True "
                "expects inputs of rank 4 (batch, height, width, channels). "
                f"Received input with shape {shape}."
            )
        input_dim = last_axis(self, shape)
        output_dim = self.output_units or input_dim
        k, low = self.hidden_units, self.low_rank_units
        self.u1_kernel, self.u1_bias = self.add_dense_weights(
            "u1", (input_dim, k)
        )
        self.u2_kernel, self.u2_bias = self.add_dense_weights(
            "u2", (input_dim, low)
        )
        self.u3_kernel, self.u3_bias = self.add_dense_weights("u3", (low, k))
        self.c_kernel, self.c_bias = self.add_dense_weights(
            "c", (k, output_dim), bias_initializer="zeros"
        )
        hidden_shape = shape[:-1] + (k,)
        self.norm1 = self._layer_norm("norm1", hidden_shape)
        self.norm2 = self._layer_norm("norm2", hidden_shape)
        self.alpha = self.add_weight(name="alpha", shape=(), initializer="ones")
        self.input_spec = keras.InputSpec(
            ndim=4 if self.use_spatial else None,
            min_ndim=None if self.use_spatial else 2,
            axes={-1: input_dim},
        )

    def call(self, inputs):
        # U1 x and U2 x read the same input: one matmul computes both.
        kernel = ops.concatenate([self.u1_kernel, self.u2_kernel], axis=-1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.u1_bias, self.u2_bias])
        o1, o2 = ops.split(
            self.dense(inputs, kernel, bias), [self.hidden_units], axis=-1
        )
        if self.use_spatial:
            # o2 is shifted in its low-rank width, before U3 expands it.
            o1, o2 = spatial_shift(o1), spatial_shift(o2)
        o2 = self.dense(o2, self.u3_kernel, self.u3_bias)
        o1, o2 = self.norm1(o1), self.norm2(o2)
        o1 = o1 + self.alpha * (o1 * o2)
        return self.dense(o1, self.c_kernel, self.c_bias)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:-1] + (self.output_units or shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "output_units": self.output_units,
                "use_spatial": self.use_spatial,
                "low_rank_ratio": self.low_rank_ratio,
                "epsilon": self.epsilon,
            }
        )
        return config
