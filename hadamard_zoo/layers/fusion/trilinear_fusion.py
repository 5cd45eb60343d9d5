"""Three-input Hadamard fusion `(A z_I) * (B z_II) * (C z_III)`."""

import keras

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.fusion._inputs import check_call_inputs
from hadamard_zoo.layers.fusion._inputs import input_shapes
from hadamard_zoo.layers.fusion._inputs import input_specs
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class TrilinearFusion(DenseWeightsLayer):
    """Fuses three inputs by the Hadamard product of their projections.

    Each input is projected to a common width `k` and the three
    projections are multiplied elementwise:

    ```
    y = (Aᵀ z_I + b_A) * (Bᵀ z_II + b_B) * (Cᵀ z_III + b_C)
    out = Pᵀ y + b_P        (only when `output_units` is set)
    ```

    where `*` is the Hadamard product. Every output unit is a rank-1
    trilinear form of the three inputs, so `P` mixes `k` of them into a
    rank-`k` CP decomposition of a third-order interaction tensor.

    Args:
        units: int, the width `k` of the projections `A`, `B` and `C`.
        output_units: optional int, the width of the output projection
            `P`. Defaults to `None` (output width `units`).
        use_bias: bool, whether `A`, `B`, `C` and `P` have biases.
            Defaults to `True`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list `[z_I, z_II, z_III]` of tensors of shapes
            `(..., d_I)`, `(..., d_II)`, `(..., d_III)` with the same
            leading axes.

    Returns:
        Tensor of shape `(..., units)`, or `(..., output_units)` when set.

    Weights:
        `a_kernel` `(d_I, k)`, `b_kernel` `(d_II, k)`, `c_kernel`
        `(d_III, k)`, `p_kernel` `(k, output_units)`, each with a `_bias`
        when `use_bias`.

    Example:

    >>> import numpy as np
    >>> audio, video, text = (np.ones((2, d), "float32") for d in (6, 8, 4))
    >>> layer = TrilinearFusion(units=16, output_units=3)
    >>> tuple(layer([audio, video, text]).shape)
    (2, 3)

    Reference:
        Chrysos et al., "Hadamard product in deep learning", section on
        multimodal fusion; Kim et al., "Hadamard Product for Low-rank
        Bilinear Pooling", ICLR 2017 (the two-input form).
    """

    def __init__(self, units, output_units=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.output_units = check_optional_int("output_units", output_units)

    def build(self, input_shape):
        shapes, _ = input_shapes(self, input_shape, count=3)
        self.projections = [
            self.add_dense_weights(prefix, (int(shape[-1]), self.units))
            for prefix, shape in zip("abc", shapes, strict=True)
        ]
        self.p_kernel = self.p_bias = None
        if self.output_units is not None:
            self.p_kernel, self.p_bias = self.add_dense_weights(
                "p", (self.units, self.output_units)
            )
        self.input_spec = input_specs(shapes)

    def call(self, inputs):
        check_call_inputs(self, inputs)
        out = None
        for z, (kernel, bias) in zip(inputs, self.projections, strict=True):
            projected = self.dense(z, kernel, bias)
            out = projected if out is None else out * projected
        if self.p_kernel is not None:
            out = self.dense(out, self.p_kernel, self.p_bias)
        return out

    def compute_output_shape(self, input_shape):
        _, leading = input_shapes(self, input_shape, count=3)
        return leading + (self.output_units or self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "output_units": self.output_units})
        return config
