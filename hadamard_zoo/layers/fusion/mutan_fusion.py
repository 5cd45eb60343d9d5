"""MUTAN: Tucker fusion whose core is a sum of R Hadamard products."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.layers.fusion._inputs import check_call_inputs
from hadamard_zoo.layers.fusion._inputs import check_units_pair
from hadamard_zoo.layers.fusion._inputs import input_shapes
from hadamard_zoo.layers.fusion._inputs import input_specs
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MUTANFusion(DenseWeightsLayer):
    """MUTAN fusion: a Tucker decomposition with a rank-R Hadamard core.

    MUTAN writes the bilinear interaction of a question `q` and an image
    `v` as a Tucker decomposition `T = ((T_c ×_1 W_q') ×_2 W_v') ×_3 W_o`
    and constrains the core `T_c` to rank `R`, which turns the core into a
    sum of `R` Hadamard products:

    ```
    q̃ = σ(W_q'ᵀ q + b_q'),  ṽ = σ(W_v'ᵀ v + b_v')   (optional projections)
    z = Σ_{r=1..R} (W_q^rᵀ q̃ + b_q^r) * (W_v^rᵀ ṽ + b_v^r)
    y = W_oᵀ z + b_o         (only when `output_units` is set)
    ```

    where `*` is the Hadamard product. The R factor maps of each input are
    applied by one matmul over their concatenated kernels.

    Args:
        rank: int, the rank `R` of the core (the number of products).
        units: int, the width `t_o` of each product and of `z`.
        input_units: the widths `(t_q, t_v)` of the input projections
            `W_q'`, `W_v'`: an int for both, or a pair whose entries may be
            `None` (that input is used as it is). Defaults to `None` (no
            input projections).
        input_activation: activation `σ` applied to `q̃` and `ṽ` (after the
            projection, or to the raw input when there is none). MUTAN uses
            `"tanh"`. Defaults to `None`.
        output_units: optional int, the width of the output map `W_o`.
            Defaults to `None` (output width `units`).
        use_bias: bool, whether every map has a bias. Defaults to `True`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list `[q, v]` of tensors of shapes `(..., d_q)` and
            `(..., d_v)` with the same leading axes.

    Returns:
        Tensor of shape `(..., units)`, or `(..., output_units)` when set.

    Weights:
        `q_projection_kernel` `(d_q, t_q)` and `v_projection_kernel`
        `(d_v, t_v)` when projected; `q_factors_kernel` `(t_q, R·units)`
        and `v_factors_kernel` `(t_v, R·units)`, whose column block `r`
        is `W_q^r` / `W_v^r`; `output_kernel` `(units, output_units)`;
        each with a `_bias` when `use_bias`.

    Example:

    >>> import numpy as np
    >>> question, image = np.ones((2, 12), "float32"), np.ones((2, 20), "f4")
    >>> mutan = MUTANFusion(rank=5, units=16, input_units=(10, 14),
    ...                     input_activation="tanh", output_units=3)
    >>> tuple(mutan([question, image]).shape)
    (2, 3)

    Reference:
        Ben-younes et al., "MUTAN: Multimodal Tucker Fusion for Visual
        Question Answering", ICCV 2017.
    """

    def __init__(
        self,
        rank,
        units,
        input_units=None,
        input_activation=None,
        output_units=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.rank = check_int("rank", rank)
        self.units = check_int("units", units)
        self.input_units = check_units_pair("input_units", input_units)
        self._input_units_is_pair = isinstance(input_units, (list, tuple))
        self.input_activation = get_activation(
            input_activation, "input_activation"
        )
        self.output_units = check_optional_int("output_units", output_units)

    def build(self, input_shape):
        shapes, _ = input_shapes(self, input_shape, count=2)
        self.projections = []
        self.factors = []
        for prefix, units, shape in zip(
            ("q", "v"), self.input_units, shapes, strict=True
        ):
            width = int(shape[-1])
            projection = (None, None)
            if units is not None:
                projection = self.add_dense_weights(
                    f"{prefix}_projection", (width, units)
                )
                width = units
            self.projections.append(projection)
            self.factors.append(
                self.add_dense_weights(
                    f"{prefix}_factors", (width, self.rank * self.units)
                )
            )
        self.output_kernel = self.output_bias = None
        if self.output_units is not None:
            self.output_kernel, self.output_bias = self.add_dense_weights(
                "output", (self.units, self.output_units)
            )
        self.input_spec = input_specs(shapes)

    def call(self, inputs):
        check_call_inputs(self, inputs)
        factors = []
        for x, (p_kernel, p_bias), (f_kernel, f_bias) in zip(
            inputs, self.projections, self.factors, strict=True
        ):
            if p_kernel is not None:
                x = self.dense(x, p_kernel, p_bias)
            if self.input_activation is not None:
                x = self.input_activation(x)
            factors.append(self.dense(x, f_kernel, f_bias))
        # Column block r of the product is (W_q^rᵀ q̃) * (W_v^rᵀ ṽ).
        products = ops.split(factors[0] * factors[1], self.rank, axis=-1)
        out = products[0]
        for product in products[1:]:
            out = out + product
        if self.output_kernel is not None:
            out = self.dense(out, self.output_kernel, self.output_bias)
        return out

    def compute_output_shape(self, input_shape):
        _, leading = input_shapes(self, input_shape, count=2)
        return leading + (self.output_units or self.units,)

    def get_config(self):
        config = super().get_config()
        input_units = self.input_units
        config.update(
            {
                "rank": self.rank,
                "units": self.units,
                "input_units": (
                    list(input_units)
                    if self._input_units_is_pair
                    else input_units[0]
                ),
                "input_activation": serialize_activation(self.input_activation),
                "output_units": self.output_units,
            }
        )
        return config
