"""A styled synthesis layer of StyleGAN (AdaIN) or StyleGAN2 (modulated)."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation.adaptive_instance_normalization import (
    instance_moments,
)
from hadamard_zoo.layers.modulation.style._equalized import lrelu
from hadamard_zoo.layers.modulation.style._images import doubled
from hadamard_zoo.layers.modulation.style._images import style_input_shapes
from hadamard_zoo.layers.modulation.style._images import upsample_nearest_2x
from hadamard_zoo.layers.modulation.style.equalized_conv2d import (
    EqualizedConv2D,
)
from hadamard_zoo.layers.modulation.style.equalized_dense import EqualizedDense
from hadamard_zoo.layers.modulation.style.modulated_conv2d import (
    ModulatedConv2D,
)
from hadamard_zoo.layers.modulation.style.modulated_conv2d import (
    check_odd_kernel_size,
)
from hadamard_zoo.layers.modulation.style.noise_injection import NoiseInjection
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

MODES = ("modulated", "adain")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StyledConv(keras.layers.Layer):
    """Convolution, noise, bias, activation and a style: one synthesis layer.

    With `mode="modulated"` (StyleGAN2) the style modulates the kernel:

    ```
    h = ModulatedConv2D([x, w])                  (demodulated, see there)
    y = lrelu(h + s_n * n + b)
    ```

    With `mode="adain"` (StyleGAN) it modulates the normalised
    activations:

    ```
    h      = (c W) ⊛ x                           (EqualizedConv2D, no bias)
    a      = lrelu(h + s_n * n + b)
    [γ, β] = A(w)                                (EqualizedDense, 2 filters)
    y      = (1 + γ) * (a - μ(a)) / σ(a) + β     (AdaIN)
    ```

    where `*` is the Hadamard product, `n` the noise of a `NoiseInjection`
    (per-channel strength `s_n`, initialised at 0), `μ`, `σ` the mean and
    `sqrt(variance + ε)` of each sample and channel over the positions,
    and `lrelu` StyleGAN2's `leaky_relu(·, 0.2) * sqrt(2)`. StyleGAN puts
    the `sqrt(2)` in the convolution's He constant instead; the instance
    normalization removes it either way. `A` is an equalized-learning-
    rate affine map as in StyleGAN's `style_mod` (its `1 + γ` starts the
    scale at 1), so `AdaptiveInstanceNormalization`, whose affine map is a
    plain dense layer, is not reused; the statistics are the same. With
    `upsample=True` both forms double the height and width by nearest
    repetition before the convolution (StyleGAN2 uses a transposed
    convolution and a blur; see `ModulatedConv2D`).

    Args:
        filters: int >= 1, the number of output channels.
        kernel_size: odd int >= 1. Defaults to `3`.
        mode: `"modulated"` or `"adain"`, as above. Defaults to
            `"modulated"`.
        upsample: bool, whether to double the height and width. Defaults
            to `False`.
        demodulate: bool, whether the modulated convolution demodulates.
            Defaults to `True`. Unused with `mode="adain"`.
        epsilon: float >= 0, the `ε` of the demodulation or of the
            instance normalization. Defaults to `1e-8` (as StyleGAN and
            StyleGAN2).
        seed: optional int >= 0, the seed of the noise generator (see
            `NoiseInjection`). Defaults to `None`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, w]` or `[x, w, noise]`: features `x` of shape
            `(batch, height, width, C_in)`, latents `w` of shape
            `(batch, d_w)` and optionally the noise of shape
            `(batch, height', width', 1)` at the output's size (drawn at
            random when absent).

    Returns:
        Tensor of shape `(batch, height', width', filters)`, where
        `height' = 2 height` with `upsample=True`, else `height`.

    Weights:
        `conv/...` (the convolution's, with its affine map in the
        modulated form), `noise/scale` `s_n` `(filters,)`, `bias` `b`
        `(filters,)`; in the AdaIN form also `style/kernel` and
        `style/bias` of `A` (`(d_w, 2 filters)`, `(2 filters,)`).

    Example:

    >>> import numpy as np
    >>> x = np.ones((2, 4, 4, 16), "float32")
    >>> w = np.ones((2, 32), "float32")
    >>> layer = StyledConv(8, upsample=True, seed=0)
    >>> tuple(layer([x, w]).shape)
    (2, 8, 8, 8)
    >>> layer = StyledConv(8, mode="adain")
    >>> tuple(layer([x, w, np.zeros((2, 4, 4, 1), "float32")]).shape)
    (2, 4, 4, 8)

    Reference:
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020.
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        mode="modulated",
        upsample=False,
        demodulate=True,
        epsilon=1e-8,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_odd_kernel_size(kernel_size)
        self.mode = check_choice("mode", mode, MODES)
        self.upsample = check_bool("upsample", upsample)
        self.demodulate = check_bool("demodulate", demodulate)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.style = None
        if self.mode == "modulated":
            self.conv = ModulatedConv2D(
                self.filters,
                self.kernel_size,
                demodulate=self.demodulate,
                upsample=self.upsample,
                epsilon=self.epsilon,
                dtype=self.dtype_policy,
                name="conv",
            )
        else:
            self.conv = EqualizedConv2D(
                self.filters,
                self.kernel_size,
                use_bias=False,
                dtype=self.dtype_policy,
                name="conv",
            )
            self.style = EqualizedDense(
                2 * self.filters, dtype=self.dtype_policy, name="style"
            )
        self.noise = NoiseInjection(
            seed=self.seed, dtype=self.dtype_policy, name="noise"
        )

    def build(self, input_shape):
        x_shape, w_shape, noise_shape = style_input_shapes(
            self, input_shape, "noise"
        )
        conv_shape = doubled(x_shape) if self.upsample else x_shape
        if self.style is None:
            self.conv.build([x_shape, w_shape])
        else:
            self.conv.build(conv_shape)
            self.style.build(w_shape)
        out_shape = conv_shape[:3] + (self.filters,)
        self.noise.build(
            out_shape if noise_shape is None else [out_shape, noise_shape]
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.filters,), initializer="zeros"
        )

    def call(self, inputs):
        x, w = inputs[:2]
        noise = inputs[2] if len(inputs) == 3 else None
        check_same_batch(self, inputs, ("x", "w", "noise")[: len(inputs)])
        if self.style is None:
            h = self.conv([x, w])
        else:
            h = self.conv(upsample_nearest_2x(x) if self.upsample else x)
        h = self.noise(h if noise is None else [h, noise])
        h = lrelu(h + self.bias)
        if self.style is None:
            return h
        mean, std = instance_moments(h, self.epsilon)
        gamma, beta = ops.split(self.style(w), 2, axis=-1)
        gamma, beta = gamma[:, None, None, :], beta[:, None, None, :]
        return (1.0 + gamma) * ((h - mean) / std) + beta

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape[0])[:3] + (self.filters,)
        return doubled(shape) if self.upsample else shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "mode": self.mode,
                "upsample": self.upsample,
                "demodulate": self.demodulate,
                "epsilon": self.epsilon,
                "seed": self.seed,
            }
        )
        return config
