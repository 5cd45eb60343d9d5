"""gMLP's spatial gating unit: one half gates the other, mixed over tokens."""

import keras
from keras import ops

from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_float

INIT_SCALE = 1e-3  # gMLP's near-zero W_s: U(±1e-3 / n)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SpatialGatingUnit(keras.layers.Layer):
    """gMLP's spatial gating unit: `Z1 * (W_s LN(Z2) + b)` across tokens.

    The channels are split in two halves; the second is normalised, mixed
    along the sequence by a learned `n x n` matrix and then gates the first
    by a Hadamard product, the only token interaction in a gMLP block:

    ```
    Z1, Z2 = split(Z, 2, axis=channels)        (Z: n x 2d)
    Z2     = LN(Z2)
    G      = W_s Z2 + b                        (W_s: n x n, b: n)
    out    = Z1 * G                            (n x d)
    ```

    where `*` is the Hadamard product and `b` is broadcast over channels.
    `W_s` starts near zero, `U(±1e-3 / n)`, and `b` at one, so the unit
    starts close to the identity on `Z1` (the paper's recommendation for
    stable training). With `causal=True` token `m` mixes only tokens `<=
    m`: `W_s` is multiplied by a lower-triangular mask of ones (its upper
    triangle stays in the weights but never acts).

    The sequence length `n` is fixed when the layer is built, from the
    input's axis 1; calling the layer on another length raises a
    `ValueError`.

    Args:
        causal: bool, whether the spatial mixing is causal (autoregressive
            language modelling). Defaults to `False`.
        epsilon: float, ε of the layer normalization. Defaults to `1e-5`.
        kernel_initializer: initializer of `W_s`. Defaults to `None`:
            `U(±1e-3 / n)`.
        bias_initializer: initializer of `b`. Defaults to `"ones"`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, n, 2d)`.

    Returns:
        Tensor of shape `(batch, n, d)`.

    Example:

    >>> import numpy as np
    >>> layer = SpatialGatingUnit(causal=True)
    >>> tuple(layer(np.ones((2, 16, 12), "float32")).shape)
    (2, 16, 6)

    Reference:
        Liu et al., "Pay Attention to MLPs", NeurIPS 2021.
    """

    def __init__(
        self,
        causal=False,
        epsilon=1e-5,
        kernel_initializer=None,
        bias_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.causal = check_bool("causal", causal)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.kernel_initializer = None
        if kernel_initializer is not None:
            self.kernel_initializer = get_initializer(
                kernel_initializer, "kernel_initializer"
            )
        self.bias_initializer = get_initializer(
            bias_initializer, "bias_initializer"
        )
        self.sequence_length = None
        self.input_spec = keras.InputSpec(ndim=3)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (SpatialGatingUnit) expects inputs of "
                "rank 3 (batch, sequence, channels). Received input with "
                f"shape {shape}."
            )
        length, channels = shape[1], shape[2]
        if length is None or channels is None:
            raise ValueError(
                f"Layer '{self.name}' (SpatialGatingUnit) needs the "
                "sequence length and the channel count of its input to be "
                "defined: W_s is a (length x length) weight. Received "
                f"input with shape {shape}."
            )
        if channels % 2:
            raise ValueError(
                f"Layer '{self.name}' (SpatialGatingUnit) splits the "
                "channels into two equal halves, so their count must be "
                f"even. Received input with {channels} channels."
            )
        self.sequence_length = int(length)
        kernel_initializer = self.kernel_initializer
        if kernel_initializer is None:
            bound = INIT_SCALE / self.sequence_length
            kernel_initializer = keras.initializers.RandomUniform(-bound, bound)
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=self.dtype_policy, name="norm"
        )
        self.norm.build(shape[:-1] + (channels // 2,))
        self.spatial_kernel = self.add_weight(
            name="spatial_kernel",
            shape=(self.sequence_length, self.sequence_length),
            initializer=kernel_initializer,
        )
        self.spatial_bias = self.add_weight(
            name="spatial_bias",
            shape=(self.sequence_length,),
            initializer=self.bias_initializer,
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: channels})

    def call(self, inputs):
        length = inputs.shape[1]
        if length is not None and length != self.sequence_length:
            raise ValueError(
                f"Layer '{self.name}' (SpatialGatingUnit) was built for "
                f"sequences of length {self.sequence_length} (W_s is "
                f"{self.sequence_length} x {self.sequence_length}). "
                f"Received input with shape {tuple(inputs.shape)}."
            )
        z1, z2 = ops.split(inputs, 2, axis=-1)
        z2 = self.norm(z2)
        kernel = self.spatial_kernel
        if self.causal:
            kernel = ops.tril(kernel)
        gate = ops.einsum("mn,bnd->bmd", kernel, z2)
        gate = gate + ops.expand_dims(self.spatial_bias, -1)
        return z1 * gate

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        channels = None if shape[-1] is None else shape[-1] // 2
        return shape[:-1] + (channels,)

    def get_config(self):
        config = super().get_config()
        kernel_initializer = None
        if self.kernel_initializer is not None:
            kernel_initializer = keras.initializers.serialize(
                self.kernel_initializer
            )
        config.update(
            {
                "causal": self.causal,
                "epsilon": self.epsilon,
                "kernel_initializer": kernel_initializer,
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
