"""Adaptive instance normalization (AdaIN): style statistics on features."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation._inputs import list_input_shapes
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float

STYLE_SOURCES = ("vector", "features")


def instance_moments(x, epsilon):
    """Mean and `sqrt(variance + epsilon)` of each sample and channel.

    The statistics are taken over the spatial axes (all but the first and
    the last), in float32 when `x` is a 16-bit float, and keep those axes.
    """
    axes = tuple(range(1, len(x.shape) - 1))
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype in ("float16", "bfloat16"):
        x = ops.cast(x, "float32")
    mean, variance = ops.moments(x, axes=axes, keepdims=True)
    std = ops.sqrt(variance + epsilon)
    return ops.cast(mean, dtype), ops.cast(std, dtype)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class AdaptiveInstanceNormalization(DenseWeightsLayer):
    """Adaptive instance normalization (AdaIN): a style sets each channel.

    Each channel of each sample is normalised over its spatial positions,
    then scaled and shifted by statistics that come from a style:

    ```
    μ(x), σ(x) = mean, sqrt(var + ε) of x over the spatial axes
    y = γ * (x - μ(x)) / σ(x) + β
    ```

    where `*` is the Hadamard product (γ, β broadcast over the spatial
    axes). The style gives `γ` and `β` in one of two ways:

    - `style_source="vector"` (StyleGAN): a learned affine map `A` of a
      style vector `w`, `[γ, β] = w [W_γ, W_β] + [b_γ, b_β]` (one
      matmul). `b_γ` starts at ones (`gamma_bias_initializer`) so that
      the scale starts near 1, as StyleGAN's `x * (1 + s) + b`.
    - `style_source="features"` (Huang & Belongie): the style is a feature
      map and `γ = σ(style)`, `β = μ(style)`, so the content takes the
      style's per-channel mean and standard deviation. No weights.

    The variances are the biased ones (divided by the number of positions)
    with `ε` added before the square root, for the content and the style
    alike; the authors' PyTorch code uses the unbiased variance, which
    differs by the factor `n / (n - 1)` over `n` positions.

    Args:
        style_source: `"vector"` or `"features"`, where `γ` and `β` come
            from (see above). Defaults to `"vector"`.
        epsilon: float >= 0, the `ε` added to the variances. Defaults to
            `1e-5`.
        gamma_bias_initializer: initializer of the scale bias `b_γ`: a
            number (used as a constant) or any Keras initializer. Defaults
            to `1.0`. Only with `style_source="vector"` and `use_bias`.
        use_bias: bool, whether the affine map has biases. Defaults to
            `True`.
        kernel_initializer: initializer of `W_γ` and `W_β`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the shift bias `b_β`. Defaults to
            `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, style]`: the content features `x` of shape
            `(batch, ..., channels)` with at least one spatial axis
            (`(batch, height, width, channels)` for images), and the style:
            a vector `w` of shape `(batch, d_w)` when `style_source` is
            `"vector"`, or a feature map of the rank and channels of `x`
            (any spatial size) when it is `"features"`.

    Returns:
        Tensor of the shape of `x`.

    Weights:
        With `style_source="vector"`: `gamma_kernel` `W_γ` and
        `beta_kernel` `W_β`, both `(d_w, channels)`; `gamma_bias` `b_γ` and
        `beta_bias` `b_β`, both `(channels,)`. None otherwise.

    Example:

    >>> import numpy as np
    >>> x = np.ones((2, 8, 8, 16), "float32")
    >>> layer = AdaptiveInstanceNormalization()
    >>> tuple(layer([x, np.ones((2, 32), "float32")]).shape)
    (2, 8, 8, 16)
    >>> layer = AdaptiveInstanceNormalization(style_source="features")
    >>> tuple(layer([x, np.ones((2, 4, 4, 16), "float32")]).shape)
    (2, 8, 8, 16)

    Reference:
        Huang and Belongie, "Arbitrary Style Transfer in Real-time with
        Adaptive Instance Normalization", ICCV 2017;
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(
        self,
        style_source="vector",
        epsilon=1e-5,
        gamma_bias_initializer=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.style_source = check_choice(
            "style_source", style_source, STYLE_SOURCES
        )
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.gamma_bias_initializer = get_initializer(
            gamma_bias_initializer, "gamma_bias_initializer"
        )

    def build(self, input_shape):
        x_shape, style_shape = list_input_shapes(
            self, input_shape, ("x", "style")
        )
        if len(x_shape) < 3 or x_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (AdaptiveInstanceNormalization) "
                "expects features x of rank >= 3 (batch, spatial..., "
                "channels) with a defined channel axis. Received x with "
                f"shape {x_shape}."
            )
        channels = int(x_shape[-1])
        x_spec = keras.InputSpec(ndim=len(x_shape), axes={-1: channels})
        if self.style_source == "features":
            if len(style_shape) != len(x_shape) or style_shape[-1] not in (
                None,
                channels,
            ):
                raise ValueError(
                    f"Layer '{self.name}' (AdaptiveInstanceNormalization) "
                    "with style_source='features' expects a style feature "
                    f"map of rank {len(x_shape)} with {channels} channels, "
                    f"like x. Received x with shape {x_shape} and style "
                    f"with shape {style_shape}."
                )
            style_spec = keras.InputSpec(ndim=len(x_shape), axes={-1: channels})
        else:
            if len(style_shape) != 2 or style_shape[-1] is None:
                raise ValueError(
                    f"Layer '{self.name}' (AdaptiveInstanceNormalization) "
                    "with style_source='vector' expects a style vector of "
                    "shape (batch, d_w) with a defined last axis. Received "
                    f"style with shape {style_shape}."
                )
            style_dim = int(style_shape[-1])
            shape = (style_dim, channels)
            self.gamma_kernel, self.gamma_bias = self.add_dense_weights(
                "gamma", shape, bias_initializer=self.gamma_bias_initializer
            )
            self.beta_kernel, self.beta_bias = self.add_dense_weights(
                "beta", shape
            )
            style_spec = keras.InputSpec(ndim=2, axes={-1: style_dim})
        self.input_spec = [x_spec, style_spec]

    def call(self, inputs):
        x, style = inputs
        check_same_batch(self, (x, style), ("x", "style"))
        if self.style_source == "features":
            beta, gamma = instance_moments(style, self.epsilon)
        else:
            # γ and β read the same style vector: one matmul computes both.
            kernel = ops.concatenate([self.gamma_kernel, self.beta_kernel], -1)
            bias = None
            if self.use_bias:
                bias = ops.concatenate([self.gamma_bias, self.beta_bias], -1)
            gamma, beta = ops.split(self.dense(style, kernel, bias), 2, -1)
            broadcast = (-1,) + (1,) * (len(x.shape) - 2) + (gamma.shape[-1],)
            gamma = ops.reshape(gamma, broadcast)
            beta = ops.reshape(beta, broadcast)
        mean, std = instance_moments(x, self.epsilon)
        return gamma * ((x - mean) / std) + beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "style_source": self.style_source,
                "epsilon": self.epsilon,
                "gamma_bias_initializer": keras.initializers.serialize(
                    self.gamma_bias_initializer
                ),
            }
        )
        return config
