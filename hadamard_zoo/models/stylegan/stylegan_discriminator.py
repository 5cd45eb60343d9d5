"""StyleGAN2's residual discriminator."""

import math

import keras
from keras_hub.models import Backbone

from hadamard_zoo.layers.modulation.style import EqualizedConv2D
from hadamard_zoo.layers.modulation.style import EqualizedDense
from hadamard_zoo.models.stylegan._resolutions import check_filters
from hadamard_zoo.models.stylegan._resolutions import check_resolution
from hadamard_zoo.models.stylegan._resolutions import filters_at
from hadamard_zoo.models.stylegan._resolutions import resolutions
from hadamard_zoo.models.stylegan.stylegan_layers import (
    MinibatchStandardDeviation,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StyleGANDiscriminator(PresetNameMixin, Backbone):
    """StyleGAN2's ResNet discriminator: one logit per image.

    A functional keras-hub `Backbone`:

    ```
    x_R = lrelu(FromRGB_1x1(images))
    for r = R, R/2, ..., 8:                          (residual blocks)
        h       = lrelu(conv_3x3(x_r))
        h       = lrelu(conv_3x3(pool2(h)))          r -> r/2
        s       = conv_1x1(pool2(x_r))               no bias
        x_{r/2} = (s + h) / sqrt(2)
    h     = lrelu(conv_3x3(MinibatchStd(x_4)))
    h     = lrelu(Dense(flatten(h)))
    logit = Dense_1(h)
    ```

    with equalized-learning-rate convolutions and dense layers
    (`EqualizedConv2D`, `EqualizedDense`), `lrelu` StyleGAN2's
    `leaky_relu(·, 0.2) * sqrt(2)` and `pool2` a 2x2 average pooling.
    StyleGAN2 down-samples with a `[1, 3, 3, 1]` blur and a strided
    convolution; the average pooling here is the box-filter version of the
    same low-pass-then-subsample. The minibatch standard deviation (see
    `MinibatchStandardDeviation`) lets the last layers compare samples of
    a batch, so the batch size must be a multiple of
    `min(mbstd_group_size, batch)`.

    The channels follow the generator's rule: `base_filters` at the input
    resolution, doubling at every halving, capped at `max_filters`; the
    defaults (32x32) have about 0.87 M parameters.

    Args:
        resolution: power of 2 >= 4, the input height and width. Defaults
            to `32`.
        channels: int, the image channels. Defaults to `1`.
        base_filters: int, the channels at the input resolution. Defaults
            to `32`.
        max_filters: int, the most channels of any resolution. Defaults to
            `128`.
        mbstd_group_size: int, the largest group of the minibatch standard
            deviation. Defaults to `4`.
        mbstd_num_channels: int, the channels it appends. Defaults to `1`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        images: tensor of shape `(batch, resolution, resolution,
            channels)`.

    Returns:
        Logits of shape `(batch, 1)`: real if positive.

    Example:

    >>> import numpy as np
    >>> discriminator = StyleGANDiscriminator(
    ...     resolution=8, base_filters=4, max_filters=8
    ... )
    >>> tuple(discriminator(np.zeros((2, 8, 8, 1), "float32")).shape)
    (2, 1)

    Reference:
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020, section 4.1 (residual discriminator);
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018 (minibatch standard
        deviation).
    """

    def __init__(
        self,
        resolution=32,
        channels=1,
        base_filters=32,
        max_filters=128,
        mbstd_group_size=4,
        mbstd_num_channels=1,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        resolution = check_resolution("resolution", resolution)
        channels = check_int("channels", channels)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        mbstd_group_size = check_int("mbstd_group_size", mbstd_group_size)
        mbstd_num_channels = check_int("mbstd_num_channels", mbstd_num_channels)
        filters_4 = filters_at(4, resolution, base_filters, max_filters)
        if filters_4 % mbstd_num_channels:
            raise ValueError(
                "`mbstd_num_channels` must divide the channels at 4x4 "
                f"({filters_4}). Received: mbstd_num_channels="
                f"{mbstd_num_channels}."
            )

        def filters(size):
            return filters_at(size, resolution, base_filters, max_filters)

        def conv(filters, kernel_size, name, **conv_kwargs):
            return EqualizedConv2D(
                filters, kernel_size, dtype=dtype, name=name, **conv_kwargs
            )

        def pool(name):
            return keras.layers.AveragePooling2D(2, dtype=dtype, name=name)

        # === Functional model ===
        images = keras.Input(
            shape=(resolution, resolution, channels), name="images"
        )
        x = conv(filters(resolution), 1, "from_rgb", activation="lrelu")(images)
        for size in reversed(resolutions(resolution)[1:]):
            name = f"block_{size}x{size}"
            out = filters(size // 2)
            h = conv(filters(size), 3, f"{name}_conv_0", activation="lrelu")(x)
            h = pool(f"{name}_pool_0")(h)
            h = conv(out, 3, f"{name}_conv_1", activation="lrelu")(h)
            s = pool(f"{name}_pool_skip")(x)
            s = conv(out, 1, f"{name}_skip", use_bias=False)(s)
            x = keras.layers.Add(dtype=dtype, name=f"{name}_add")([s, h])
            # Keeps the variance of a sum of two unit-variance branches.
            x = x * math.sqrt(0.5)
        x = MinibatchStandardDeviation(
            mbstd_group_size, mbstd_num_channels, dtype=dtype, name="mbstd"
        )(x)
        x = conv(filters(4), 3, "epilogue_conv", activation="lrelu")(x)
        x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
        x = EqualizedDense(
            filters(4), activation="lrelu", dtype=dtype, name="epilogue_fc"
        )(x)
        logits = EqualizedDense(1, dtype=dtype, name="logits")(x)
        super().__init__(inputs=images, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self.resolution = resolution
        self.channels = channels
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.mbstd_group_size = mbstd_group_size
        self.mbstd_num_channels = mbstd_num_channels

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "resolution": self.resolution,
                "channels": self.channels,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "mbstd_group_size": self.mbstd_group_size,
                "mbstd_num_channels": self.mbstd_num_channels,
            }
        )
        return config
