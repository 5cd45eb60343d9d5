"""StyleGAN2's modulated convolution: a style scales the kernel per sample."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation.style._equalized import (
    equalized_initializer,
)
from hadamard_zoo.layers.modulation.style._equalized import weight_gain
from hadamard_zoo.layers.modulation.style._images import doubled
from hadamard_zoo.layers.modulation.style._images import style_input_shapes
from hadamard_zoo.layers.modulation.style._images import upsample_nearest_2x
from hadamard_zoo.layers.modulation.style.equalized_dense import EqualizedDense
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int


def check_odd_kernel_size(kernel_size):
    """`kernel_size` as an odd int >= 1, else a `ValueError` naming it."""
    value = check_int("kernel_size", kernel_size)
    if value % 2 == 0:
        raise ValueError(
            "`kernel_size` must be odd (a 'same' convolution then pads "
            "kernel_size // 2 on every side, as StyleGAN2). "
            f"Received: kernel_size={kernel_size}."
        )
    return value


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ModulatedConv2D(keras.layers.Layer):
    """Modulated convolution (StyleGAN2): a style scales the kernel.

    A learned affine map `A` turns the latent `w` into one scale per input
    channel, which multiplies the kernel (a Hadamard product, broadcast
    over the kernel's positions and output channels), sample by sample;
    demodulation then rescales each output channel of each sample's kernel
    to unit norm:

    ```
    s       = A(w) = w (c_A W_A) + b_A      (batch, C_in), b_A starts at 1
    w'_b    = s_b * (c W)                   w'_b[k, i, o] = s_b,i c W[k, i, o]
    d_b,o   = 1 / sqrt(sum_{k, i} w'_b[k, i, o]² + ε)
    w''_b   = d_b * w'_b                    w''_b[k, i, o] = d_b,o w'_b[k, i, o]
    y_b     = w''_b ⊛ x_b
    ```

    `⊛` is a stride-1 `"same"` convolution, `c = 1 / sqrt(k² C_in)` and
    `c_A = 1 / sqrt(d_w)` are the equalized-learning-rate constants, `W`
    is stored `N(0, 1)` and `A` is an `EqualizedDense` with `bias_init=1`
    that this layer owns (the StyleGAN2 convention: it takes `w`, not the
    styles). Where StyleGAN's AdaIN normalises the activations by their
    statistics, demodulation normalises the weights by the statistics the
    outputs would have for unit-variance inputs, which removes the
    "droplet" artefacts. Without demodulation (`ToRGB`) `y_b = w'_b ⊛ x_b`.

    The kernel is never materialised per sample: as StyleGAN2's
    `fused_modconv=False` path, the layer computes the mathematically
    identical `y_b = d_b * ((c W) ⊛ (s_b * x_b))` (the style scales the
    input channels, the demodulation the output channels) with one
    ordinary convolution for the whole batch, and
    `sum_{k,i} w'_b[k,i,o]² = sum_i s_b,i² sum_k (cW)[k,i,o]²` as one
    matmul. With `upsample=True` the (modulated) input is doubled by
    nearest-neighbour repetition before the convolution; StyleGAN2 uses a
    stride-2 transposed convolution followed by a `[1, 3, 3, 1]` blur,
    which this simplification replaces.

    Args:
        filters: int >= 1, the number of output channels.
        kernel_size: odd int >= 1, the size of the square kernel. Defaults
            to `3`.
        demodulate: bool, whether to demodulate. Defaults to `True`.
        upsample: bool, whether to double the height and width (nearest)
            before the convolution. Defaults to `False`.
        epsilon: float >= 0, the `ε` of the demodulation. Defaults to
            `1e-8` (as StyleGAN2).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, w]`: features `x` of shape
            `(batch, height, width, C_in)` and latents `w` of shape
            `(batch, d_w)`.

    Returns:
        Tensor of shape `(batch, height, width, filters)`, or
        `(batch, 2 height, 2 width, filters)` with `upsample=True`.

    Weights:
        `kernel` `W` of shape `(k, k, C_in, filters)`; the affine map's
        `affine/kernel` `W_A` `(d_w, C_in)` and `affine/bias` `b_A`
        `(C_in,)`.

    Example:

    >>> import numpy as np
    >>> layer = ModulatedConv2D(filters=8, kernel_size=3, upsample=True)
    >>> x = np.ones((2, 4, 4, 16), "float32")
    >>> w = np.ones((2, 32), "float32")
    >>> tuple(layer([x, w]).shape)
    (2, 8, 8, 8)

    Reference:
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020, section 2.2;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        demodulate=True,
        upsample=False,
        epsilon=1e-8,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_odd_kernel_size(kernel_size)
        self.demodulate = check_bool("demodulate", demodulate)
        self.upsample = check_bool("upsample", upsample)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)

    def build(self, input_shape):
        x_shape, w_shape, _ = style_input_shapes(self, input_shape)
        channels = int(x_shape[-1])
        k = self.kernel_size
        self.kernel = self.add_weight(
            name="kernel",
            shape=(k, k, channels, self.filters),
            initializer=equalized_initializer(1.0),
        )
        self.weight_gain = weight_gain(k * k * channels)
        self.affine = EqualizedDense(
            channels, bias_init=1.0, dtype=self.dtype_policy, name="affine"
        )
        self.affine.build(w_shape)
        self.input_spec = [
            keras.InputSpec(ndim=4, axes={-1: channels}),
            keras.InputSpec(ndim=2, axes={-1: int(w_shape[-1])}),
        ]

    def call(self, inputs):
        x, w = inputs
        check_same_batch(self, (x, w), ("x", "w"))
        styles = self.affine(w)
        kernel = self.kernel * self.weight_gain
        x = x * styles[:, None, None, :]
        if self.upsample:
            x = upsample_nearest_2x(x)
        outputs = ops.conv(
            x, kernel, strides=1, padding="same", data_format="channels_last"
        )
        if not self.demodulate:
            return outputs
        # A sum of k² C_in squares: float32 even under mixed precision.
        squares = ops.sum(ops.square(ops.cast(kernel, "float32")), (0, 1))
        styles = ops.cast(styles, "float32")
        norms = ops.matmul(ops.square(styles), squares) + self.epsilon
        coefficients = ops.cast(ops.rsqrt(norms), outputs.dtype)
        return outputs * coefficients[:, None, None, :]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])[:3] + (self.filters,)
        return doubled(shape) if self.upsample else shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "demodulate": self.demodulate,
                "upsample": self.upsample,
                "epsilon": self.epsilon,
            }
        )
        return config
