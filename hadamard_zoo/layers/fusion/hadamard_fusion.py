"""Hadamard fusion of two inputs (MLB / MRN style)."""

import keras

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.layers.fusion._inputs import check_call_inputs
from hadamard_zoo.layers.fusion._inputs import check_units_pair
from hadamard_zoo.layers.fusion._inputs import input_shapes
from hadamard_zoo.layers.fusion._inputs import input_specs
from hadamard_zoo.utils.validation import check_optional_int


def _activation_pair(identifier):
    """One activation for both inputs, or a list/tuple of two."""
    if isinstance(identifier, (list, tuple)):
        if len(identifier) != 2:
            raise ValueError(
                "`activation` must be None, one activation or a list of two "
                f"(one per input). Received: activation={identifier!r}."
            )
        return tuple(get_activation(a, "activation") for a in identifier)
    return (get_activation(identifier, "activation"),) * 2


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class HadamardFusion(DenseWeightsLayer):
    """Fuses two inputs by the Hadamard product of their projections.

    The survey's basic multimodal fusion `f_1(z_I) * f_2(z_II)`, with the
    low-rank bilinear pooling of MLB / MRN as its parametric form:

    ```
    f_1(z_I)  = σ_1(Uᵀ z_I + b_U)      (U only when `units[0]` is set)
    f_2(z_II) = σ_2(Vᵀ z_II + b_V)     (V only when `units[1]` is set)
    y = Pᵀ(f_1(z_I) * f_2(z_II)) + b_P (P only when `output_units` is set)
    ```

    where `*` is the Hadamard product. Each output unit of the product is a
    rank-1 bilinear form `z_Iᵀ (u_i v_iᵀ) z_II`; `P` mixes them into a
    rank-`k` bilinear map of the two inputs (MLB). Without a projection an
    input enters as it is, so both sides must then have the same width.

    Args:
        units: the width `k` of the projections `U` and `V`: an int for
            both, or a pair `(k_I, k_II)` whose entries may be `None` (that
            input is used as it is). Both sides must end up with the same
            width. Defaults to `None` (no projections: `z_I * z_II`).
        output_units: optional int, the width of the output projection `P`.
            Defaults to `None` (output width `k`).
        activation: activation `σ` of each (projected) input: `None`, one
            activation for both or a pair `(σ_1, σ_2)`. MLB uses `"tanh"`.
            Defaults to `None`.
        use_bias: bool, whether `U`, `V` and `P` have biases. Defaults to
            `True`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list `[z_I, z_II]` of tensors of shapes `(..., d_I)` and
            `(..., d_II)` with the same leading axes.

    Returns:
        Tensor of shape `(..., k)`, or `(..., output_units)` when set.

    Weights:
        `u_kernel` `(d_I, k)`, `v_kernel` `(d_II, k)`, `p_kernel`
        `(k, output_units)`, each with a `_bias` when `use_bias`.

    Example:

    >>> import numpy as np
    >>> question, image = np.ones((2, 12), "float32"), np.ones((2, 20), "f4")
    >>> mlb = HadamardFusion(units=8, activation="tanh", output_units=5)
    >>> tuple(mlb([question, image]).shape)
    (2, 5)

    Reference:
        Kim et al., "Hadamard Product for Low-rank Bilinear Pooling",
        ICLR 2017 (MLB); Kim et al., "Multimodal Residual Learning for
        Visual QA", NeurIPS 2016 (MRN); Chrysos et al., "Hadamard product in
        deep learning", section on multimodal fusion.
    """

    def __init__(
        self,
        units=None,
        output_units=None,
        activation=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_units_pair("units", units)
        self._units_is_pair = isinstance(units, (list, tuple))
        self.output_units = check_optional_int("output_units", output_units)
        self.activations = _activation_pair(activation)
        self._activation_is_pair = isinstance(activation, (list, tuple))

    def build(self, input_shape):
        shapes, _ = input_shapes(self, input_shape, count=2)
        widths = [
            units or int(shape[-1])
            for units, shape in zip(self.units, shapes, strict=True)
        ]
        if widths[0] != widths[1]:
            raise ValueError(
                f"Layer '{self.name}' (HadamardFusion) multiplies its two "
                "(projected) inputs elementwise, so their widths must "
                f"match; got {widths[0]} and {widths[1]} from input shapes "
                f"{shapes} and units={self._units_config()!r}. Set `units` "
                "to project the inputs to a common width."
            )
        self.u_kernel = self.u_bias = self.v_kernel = self.v_bias = None
        if self.units[0] is not None:
            self.u_kernel, self.u_bias = self.add_dense_weights(
                "u", (int(shapes[0][-1]), widths[0])
            )
        if self.units[1] is not None:
            self.v_kernel, self.v_bias = self.add_dense_weights(
                "v", (int(shapes[1][-1]), widths[1])
            )
        self.p_kernel = self.p_bias = None
        if self.output_units is not None:
            self.p_kernel, self.p_bias = self.add_dense_weights(
                "p", (widths[0], self.output_units)
            )
        self.input_spec = input_specs(shapes)

    def call(self, inputs):
        check_call_inputs(self, inputs)
        z_1, z_2 = inputs
        if self.u_kernel is not None:
            z_1 = self.dense(z_1, self.u_kernel, self.u_bias)
        if self.v_kernel is not None:
            z_2 = self.dense(z_2, self.v_kernel, self.v_bias)
        sigma_1, sigma_2 = self.activations
        if sigma_1 is not None:
            z_1 = sigma_1(z_1)
        if sigma_2 is not None:
            z_2 = sigma_2(z_2)
        out = z_1 * z_2
        if self.p_kernel is not None:
            out = self.dense(out, self.p_kernel, self.p_bias)
        return out

    def compute_output_shape(self, input_shape):
        shapes, leading = input_shapes(self, input_shape, count=2)
        units = self.output_units or self.units[0] or int(shapes[0][-1])
        return leading + (units,)

    def _units_config(self):
        return list(self.units) if self._units_is_pair else self.units[0]

    def get_config(self):
        config = super().get_config()
        activations = [serialize_activation(a) for a in self.activations]
        config.update(
            {
                "units": self._units_config(),
                "output_units": self.output_units,
                "activation": (
                    activations if self._activation_is_pair else activations[0]
                ),
            }
        )
        return config
