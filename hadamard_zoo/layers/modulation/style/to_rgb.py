"""StyleGAN2's tRGB: features to an image, added to the up-sampled skip."""

import keras

from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation.style._images import check_image_input
from hadamard_zoo.layers.modulation.style._images import style_input_shapes
from hadamard_zoo.layers.modulation.style._images import upsample_bilinear_2x
from hadamard_zoo.layers.modulation.style._images import upsample_nearest_2x
from hadamard_zoo.layers.modulation.style.modulated_conv2d import (
    ModulatedConv2D,
)
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

INTERPOLATIONS = ("bilinear", "nearest")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ToRGB(keras.layers.Layer):
    """Modulated 1x1 projection to an image, plus the up-sampled skip image.

    ```
    y = ModulatedConv2D_1x1([x, w]) + b               (no demodulation)
    y = y + upsample_2x(skip)                          (when skip is given)
    ```

    StyleGAN2's skip generator: every resolution turns its features into an
    image with a style-modulated 1x1 convolution (the style scales the
    input channels, a Hadamard product) and adds it to the image of the
    previous, half resolution, so the image is built as a sum over
    resolutions. There is no demodulation: the output is an image, not
    features for a next layer, so its scale must not be fixed. The skip
    image is doubled by `skip_interpolation`: `"bilinear"` (half-pixel
    centres, edge pixels repeated) is StyleGAN2's `[1, 3, 3, 1]` filter
    except at the border, where StyleGAN2 pads with zeros.

    Args:
        channels: int >= 1, the image channels. Defaults to `3`.
        skip_interpolation: `"bilinear"` or `"nearest"`, how the skip image
            is doubled. Defaults to `"bilinear"`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, w]` or `[x, w, skip]`: features `x` of shape
            `(batch, height, width, C_in)`, latents `w` of shape
            `(batch, d_w)` and optionally the previous image `skip` of
            shape `(batch, height / 2, width / 2, channels)`.

    Returns:
        Tensor of shape `(batch, height, width, channels)`.

    Weights:
        `conv/kernel` `(1, 1, C_in, channels)`, the affine map's
        `conv/affine/kernel` and `conv/affine/bias`, `bias` `b`
        `(channels,)`.

    Example:

    >>> import numpy as np
    >>> layer = ToRGB()
    >>> x = np.ones((2, 8, 8, 16), "float32")
    >>> w = np.ones((2, 32), "float32")
    >>> skip = np.ones((2, 4, 4, 3), "float32")
    >>> tuple(layer([x, w, skip]).shape)
    (2, 8, 8, 3)

    Reference:
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020, section 4.1 and figure 7.
    """

    def __init__(self, channels=3, skip_interpolation="bilinear", **kwargs):
        super().__init__(**kwargs)
        self.channels = check_int("channels", channels)
        self.skip_interpolation = check_choice(
            "skip_interpolation", skip_interpolation, INTERPOLATIONS
        )
        self.conv = ModulatedConv2D(
            self.channels,
            kernel_size=1,
            demodulate=False,
            dtype=self.dtype_policy,
            name="conv",
        )

    def build(self, input_shape):
        x_shape, w_shape, skip_shape = style_input_shapes(
            self, input_shape, "skip"
        )
        if skip_shape is not None:
            check_image_input(self, skip_shape, "skip")
            sizes = zip(x_shape[1:3], skip_shape[1:3], strict=True)
            if skip_shape[-1] != self.channels or any(
                None not in (x, s) and x != 2 * s for x, s in sizes
            ):
                raise ValueError(
                    f"Layer '{self.name}' (ToRGB) expects a skip image of "
                    f"{self.channels} channels at half the height and width "
                    f"of x. Received x with shape {x_shape} and skip with "
                    f"shape {skip_shape}."
                )
        self.conv.build([x_shape, w_shape])
        self.bias = self.add_weight(
            name="bias", shape=(self.channels,), initializer="zeros"
        )

    def call(self, inputs):
        x, w = inputs[:2]
        check_same_batch(self, inputs, ("x", "w", "skip")[: len(inputs)])
        outputs = self.conv([x, w]) + self.bias
        if len(inputs) == 3:
            upsample = (
                upsample_bilinear_2x
                if self.skip_interpolation == "bilinear"
                else upsample_nearest_2x
            )
            outputs = outputs + upsample(inputs[2])
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])[:3] + (self.channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "channels": self.channels,
                "skip_interpolation": self.skip_interpolation,
            }
        )
        return config
