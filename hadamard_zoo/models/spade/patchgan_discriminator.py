"""pix2pixHD's multi-scale PatchGAN discriminator, as SPADE uses it."""

import keras
from keras_hub.models import Backbone

from hadamard_zoo.models.spade.spade_layers import AverageDownsample
from hadamard_zoo.models.spade.spade_layers import SpectralConv2D
from hadamard_zoo.models.stylegan._resolutions import check_filters
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

NORMALIZATIONS = ("instance", "none")
LEAKY_SLOPE = 0.2
KERNEL_SIZE = 4
# ceil((4 - 1) / 2): pix2pixHD's padding of its 4x4 kernels.
PADDING = 2


def _check_image_shape(image_shape):
    if not isinstance(image_shape, (list, tuple)) or len(image_shape) != 3:
        raise ValueError(
            "`image_shape` must be a tuple of 3 integers >= 1 "
            "(height, width, channels). "
            f"Received: image_shape={image_shape!r}."
        )
    return tuple(check_int("image_shape", v) for v in image_shape)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PatchGANDiscriminator(PresetNameMixin, Backbone):
    """Multi-scale PatchGAN: a grid of real/fake logits per image scale.

    A functional keras-hub `Backbone`. The image and its label map are
    concatenated on the channels and judged at `num_scales` scales, scale
    `k` reading the input average-pooled `k` times (see
    `AverageDownsample`); every scale is pix2pixHD's / SPADE's
    `NLayerDiscriminator`:

    ```
    h_0 = lrelu(conv_4x4/2(x))                              f channels
    h_n = lrelu(Norm(conv_4x4/s_n(h_{n-1})))    n = 1..num_layers-1,
                                                s_n = 2 but the last (1),
                                                min(f 2^n, max_filters)
    logits = conv_4x4/1(h_{num_layers-1})                   1 channel
    ```

    with 2-pixel zero padding, `lrelu` the leaky ReLU of slope 0.2,
    `Norm` an instance normalization without affine parameters (or none)
    and, with `spectral_norm=True`, spectrally normalised convolutions
    (SPADE's `"spectralinstance"` default). Each logit judges one
    overlapping patch of the input: at 32x32 with the defaults, the first
    scale gives 7x7 logits, the second 5x5.

    The output is a list over scales of lists `[h_0, ..., h_{L-1},
    logits]`: the intermediate features feed pix2pixHD's feature-matching
    loss (`|D_k^n(real) - D_k^n(fake)|`), the logits the adversarial loss.

    Args:
        image_shape: tuple of 3 ints, `(height, width, channels)` of the
            images. Defaults to `(32, 32, 1)`.
        num_classes: optional int, the channels of the label map
            concatenated to the image; `None` for an unconditional
            discriminator of images alone. Defaults to `None`.
        num_scales: int, the number of scales. Defaults to `2`.
        num_layers: int >= 1, the convolutions before the logits of each
            scale (`n_layers_D` of SPADE). Defaults to `4`.
        base_filters: int, the channels `f` of the first convolution.
            Defaults to `32` (SPADE: 64, for larger images).
        max_filters: int, the most channels of any convolution. Defaults
            to `256` (SPADE: 512).
        normalization: `"instance"` or `"none"`. Defaults to
            `"instance"`.
        spectral_norm: bool, whether the convolutions are spectrally
            normalised. Defaults to `True`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        inputs: `[images, segmap]`, images of shape `(batch,) +
            image_shape` and a label map of shape `(batch, height, width,
            num_classes)`; images alone when `num_classes=None`.
        training: bool, whether the spectral normalizations refine their
            estimates.

    Returns:
        A list of `num_scales` lists of `num_layers + 1` tensors, the
        last of each being the patch logits `(batch, h_k, w_k, 1)`.

    Example:

    >>> import numpy as np
    >>> discriminator = PatchGANDiscriminator(
    ...     image_shape=(16, 16, 1), num_classes=3, num_layers=2,
    ...     base_filters=4,
    ... )
    >>> images = np.zeros((2, 16, 16, 1), "float32")
    >>> segmap = np.zeros((2, 16, 16, 3), "float32")
    >>> outputs = discriminator([images, segmap])
    >>> for scale in outputs:
    ...     print([tuple(t.shape) for t in scale])
    [(2, 9, 9, 4), (2, 10, 10, 8), (2, 11, 11, 1)]
    [(2, 5, 5, 4), (2, 6, 6, 8), (2, 7, 7, 1)]

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional
        Adversarial Networks", CVPR 2017 (PatchGAN);
        Wang et al., "High-Resolution Image Synthesis and Semantic
        Manipulation with Conditional GANs", CVPR 2018 (multi-scale,
        feature matching);
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019.
    """

    def __init__(
        self,
        image_shape=(32, 32, 1),
        num_classes=None,
        num_scales=2,
        num_layers=4,
        base_filters=32,
        max_filters=256,
        normalization="instance",
        spectral_norm=True,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        image_shape = _check_image_shape(image_shape)
        num_classes = check_optional_int("num_classes", num_classes)
        num_scales = check_int("num_scales", num_scales)
        num_layers = check_int("num_layers", num_layers)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        normalization = check_choice(
            "normalization", normalization, NORMALIZATIONS
        )
        spectral_norm = check_bool("spectral_norm", spectral_norm)

        # === Functional model ===
        images = keras.Input(shape=image_shape, name="images")
        inputs = images
        x = images
        if num_classes is not None:
            segmap = keras.Input(
                shape=image_shape[:2] + (num_classes,), name="segmap"
            )
            inputs = [images, segmap]
            x = keras.layers.Concatenate(dtype=dtype, name="concatenate")(
                [images, segmap]
            )
        outputs = []
        for scale in range(num_scales):
            if scale > 0:
                x = AverageDownsample(dtype=dtype, name=f"downsample_{scale}")(
                    x
                )
            outputs.append(
                self._scale(
                    x,
                    scale,
                    num_layers,
                    base_filters,
                    max_filters,
                    normalization,
                    spectral_norm,
                    dtype,
                )
            )
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.image_shape = image_shape
        self.num_classes = num_classes
        self.num_scales = num_scales
        self.num_layers = num_layers
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.normalization = normalization
        self.spectral_norm = spectral_norm

    def call(self, inputs, training=None, mask=None, **kwargs):
        outputs = super().call(inputs, training=training, mask=mask, **kwargs)
        # Keras unwraps a functional model's one-element output list, which
        # would turn one scale's [[features..., logits]] into a flat list.
        return [outputs] if self.num_scales == 1 else outputs

    @staticmethod
    def _scale(
        x,
        scale,
        num_layers,
        base_filters,
        max_filters,
        normalization,
        spectral_norm,
        dtype,
    ):
        """One NLayerDiscriminator: its features, then its logits."""

        def conv(h, filters, strides, name):
            return SpectralConv2D(
                filters,
                KERNEL_SIZE,
                strides=strides,
                padding=PADDING,
                spectral_norm=spectral_norm,
                dtype=dtype,
                name=name,
            )(h)

        features = []
        filters = min(base_filters, max_filters)
        for n in range(num_layers):
            name = f"scale_{scale}_layer_{n}"
            if n > 0:
                filters = min(2 * filters, max_filters)
            strides = 1 if n == num_layers - 1 and n > 0 else 2
            x = conv(x, filters, strides, f"{name}_conv")
            if n > 0 and normalization == "instance":
                x = keras.layers.GroupNormalization(
                    groups=-1,
                    center=False,
                    scale=False,
                    epsilon=1e-5,
                    dtype=dtype,
                    name=f"{name}_norm",
                )(x)
            x = keras.layers.LeakyReLU(
                LEAKY_SLOPE, dtype=dtype, name=f"{name}_lrelu"
            )(x)
            features.append(x)
        features.append(conv(x, 1, 1, f"scale_{scale}_logits"))
        return features

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": self.image_shape,
                "num_classes": self.num_classes,
                "num_scales": self.num_scales,
                "num_layers": self.num_layers,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "normalization": self.normalization,
                "spectral_norm": self.spectral_norm,
            }
        )
        return config
