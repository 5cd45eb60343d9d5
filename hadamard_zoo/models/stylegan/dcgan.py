"""The DCGAN baseline of the StyleGAN generator: no style, no modulation."""

import keras
from keras_hub.models import Backbone

from hadamard_zoo.models.stylegan._resolutions import check_filters
from hadamard_zoo.models.stylegan._resolutions import check_resolution
from hadamard_zoo.models.stylegan._resolutions import filters_at
from hadamard_zoo.models.stylegan._resolutions import resolutions
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

UPSAMPLINGS = ("transpose", "nearest")
# DCGAN's batch-normalization momentum (PyTorch's 0.1, Keras convention).
MOMENTUM = 0.9
LEAKY_SLOPE = 0.2


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class DCGANGenerator(PresetNameMixin, Backbone):
    """DCGAN generator: project, reshape, then up-sample with convolutions.

    The baseline of `StyleGANGenerator`: the latent enters once, at the
    input, and no feature is ever multiplied by a function of it.

    ```
    x_4 = ReLU(BN(reshape(z W, (4, 4, f_4))))
    for r = 8, 16, ..., resolution:
        x_r = ReLU(BN(up_conv(x_{r/2})))          f_{r/2} -> f_r channels
    images = tanh(conv_3x3(x_R))
    ```

    `up_conv` is a 4x4 stride-2 transposed convolution
    (`upsampling="transpose"`, DCGAN) or a nearest 2x up-sampling and a
    3x3 convolution (`"nearest"`, which avoids checkerboard artefacts).
    The channels follow `StyleGANGenerator`'s rule: `f_r = min(max_filters,
    base_filters · resolution / r)`.

    Matching the StyleGAN generator's size: at equal `latent_dim`,
    `base_filters` and `max_filters` the two have about the same number of
    parameters, because a 4x4 transposed convolution (16 weights per
    channel pair) weighs as much as StyleGAN's two 3x3 convolutions per
    resolution (18), and the projection `z W` (`latent_dim · 16 f_4`)
    weighs about what the mapping network and the style affine maps do.
    The defaults, at 32x32, give 0.69 M parameters against StyleGAN's
    0.78 M. With `upsampling="nearest"` the blocks have 9 weights per
    channel pair instead of 16; raise `base_filters`/`max_filters` by
    about 4/3 (sqrt(16/9)) to match. `count_params()` of both settles it.

    Args:
        latent_dim: int, the size of `z`. Defaults to `128`.
        resolution: power of 2 >= 4, the output height and width. Defaults
            to `32`.
        channels: int, the image channels. Defaults to `1`.
        base_filters: int, the channels at the output resolution. Defaults
            to `32`.
        max_filters: int, the most channels of any resolution. Defaults to
            `128`.
        upsampling: `"transpose"` or `"nearest"`, as above. Defaults to
            `"transpose"`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        inputs: `{"z": z}` with `z` of shape `(batch, latent_dim)`.
        training: bool, whether the batch normalizations use the batch
            statistics.

    Returns:
        Images in [-1, 1] of shape `(batch, resolution, resolution,
        channels)`.

    Example:

    >>> import numpy as np
    >>> generator = DCGANGenerator(
    ...     latent_dim=8, resolution=8, base_filters=4, max_filters=8
    ... )
    >>> z = np.zeros((2, 8), "float32")
    >>> tuple(generator({"z": z}).shape)
    (2, 8, 8, 1)

    Reference:
        Radford, Metz and Chintala, "Unsupervised Representation Learning
        with Deep Convolutional Generative Adversarial Networks", ICLR 2016.
    """

    def __init__(
        self,
        latent_dim=128,
        resolution=32,
        channels=1,
        base_filters=32,
        max_filters=128,
        upsampling="transpose",
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        latent_dim = check_int("latent_dim", latent_dim)
        resolution = check_resolution("resolution", resolution)
        channels = check_int("channels", channels)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        upsampling = check_choice("upsampling", upsampling, UPSAMPLINGS)

        def filters(size):
            return filters_at(size, resolution, base_filters, max_filters)

        def norm_relu(x, name):
            x = keras.layers.BatchNormalization(
                momentum=MOMENTUM, dtype=dtype, name=f"{name}_norm"
            )(x)
            return keras.layers.ReLU(dtype=dtype, name=f"{name}_relu")(x)

        # === Functional model ===
        z = keras.Input(shape=(latent_dim,), name="z")
        x = keras.layers.Dense(
            16 * filters(4), use_bias=False, dtype=dtype, name="project"
        )(z)
        x = keras.layers.Reshape(
            (4, 4, filters(4)), dtype=dtype, name="reshape"
        )(x)
        x = norm_relu(x, "project")
        for size in resolutions(resolution)[1:]:
            name = f"block_{size}x{size}"
            if upsampling == "transpose":
                x = keras.layers.Conv2DTranspose(
                    filters(size),
                    4,
                    strides=2,
                    padding="same",
                    use_bias=False,
                    dtype=dtype,
                    name=f"{name}_conv",
                )(x)
            else:
                x = keras.layers.UpSampling2D(
                    2, dtype=dtype, name=f"{name}_upsample"
                )(x)
                x = keras.layers.Conv2D(
                    filters(size),
                    3,
                    padding="same",
                    use_bias=False,
                    dtype=dtype,
                    name=f"{name}_conv",
                )(x)
            x = norm_relu(x, name)
        images = keras.layers.Conv2D(
            channels,
            3,
            padding="same",
            activation="tanh",
            dtype=dtype,
            name="to_image",
        )(x)
        super().__init__(inputs={"z": z}, outputs=images, dtype=dtype, **kwargs)

        # === Config ===
        self.latent_dim = latent_dim
        self.resolution = resolution
        self.channels = channels
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.upsampling = upsampling

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "resolution": self.resolution,
                "channels": self.channels,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "upsampling": self.upsampling,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class DCGANDiscriminator(PresetNameMixin, Backbone):
    """DCGAN discriminator: strided convolutions down to 4x4, one logit.

    ```
    x_{R/2} = lrelu(conv_4x4/2(images))                 (no normalization)
    for r = R/2, R/4, ..., 8:
        x_{r/2} = lrelu(BN(conv_4x4/2(x_r)))            f_r -> f_{r/2}
    logit = Dense_1(flatten(x_4))
    ```

    with `lrelu` the leaky ReLU of slope 0.2, stride-2 `"same"`
    convolutions and the channels of `StyleGANDiscriminator` (`f_r =
    min(max_filters, base_filters · resolution / r)`). With
    `batch_norm=False` there is no normalization (for penalties on the
    gradient with respect to each input, such as R1, which a batch
    statistic would couple across samples). The defaults, at 32x32, have
    0.40 M parameters (`StyleGANDiscriminator`: 0.87 M).

    Args:
        resolution: power of 2 >= 4, the input height and width. Defaults
            to `32`.
        channels: int, the image channels. Defaults to `1`.
        base_filters: int, the channels at the input resolution. Defaults
            to `32`.
        max_filters: int, the most channels of any resolution. Defaults to
            `128`.
        batch_norm: bool, whether the inner convolutions are batch
            normalised. Defaults to `True` (DCGAN).
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        images: tensor of shape `(batch, resolution, resolution,
            channels)`.
        training: bool, whether the batch normalizations use the batch
            statistics.

    Returns:
        Logits of shape `(batch, 1)`: real if positive.

    Example:

    >>> import numpy as np
    >>> discriminator = DCGANDiscriminator(
    ...     resolution=8, base_filters=4, max_filters=8
    ... )
    >>> tuple(discriminator(np.zeros((2, 8, 8, 1), "float32")).shape)
    (2, 1)

    Reference:
        Radford, Metz and Chintala, "Unsupervised Representation Learning
        with Deep Convolutional Generative Adversarial Networks", ICLR 2016.
    """

    def __init__(
        self,
        resolution=32,
        channels=1,
        base_filters=32,
        max_filters=128,
        batch_norm=True,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        resolution = check_resolution("resolution", resolution)
        channels = check_int("channels", channels)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        batch_norm = check_bool("batch_norm", batch_norm)

        def filters(size):
            return filters_at(size, resolution, base_filters, max_filters)

        # === Functional model ===
        images = keras.Input(
            shape=(resolution, resolution, channels), name="images"
        )
        x = images
        for size in reversed(resolutions(resolution)[1:]):
            name = f"block_{size}x{size}"
            x = keras.layers.Conv2D(
                filters(size // 2),
                4,
                strides=2,
                padding="same",
                dtype=dtype,
                name=f"{name}_conv",
            )(x)
            if batch_norm and size < resolution:
                x = keras.layers.BatchNormalization(
                    momentum=MOMENTUM, dtype=dtype, name=f"{name}_norm"
                )(x)
            x = keras.layers.LeakyReLU(
                LEAKY_SLOPE, dtype=dtype, name=f"{name}_lrelu"
            )(x)
        x = keras.layers.Flatten(dtype=dtype, name="flatten")(x)
        logits = keras.layers.Dense(1, dtype=dtype, name="logits")(x)
        super().__init__(inputs=images, outputs=logits, dtype=dtype, **kwargs)

        # === Config ===
        self.resolution = resolution
        self.channels = channels
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.batch_norm = batch_norm

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "resolution": self.resolution,
                "channels": self.channels,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "batch_norm": self.batch_norm,
            }
        )
        return config
