"""2D convolution with an equalized learning rate (ProGAN, StyleGAN)."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.style._equalized import _EqualizedLayer
from hadamard_zoo.layers.modulation.style._images import check_image_input
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple

PADDINGS = ("same", "valid")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class EqualizedConv2D(_EqualizedLayer):
    """2D convolution whose kernel is scaled at run time (equalized LR).

    As `EqualizedDense`, with the fan-in of a convolution:

    ```
    y = act((c W) ⊛ x + λ b),   c = gain · λ / sqrt(kh · kw · C_in)
    ```

    where `⊛` is the convolution (channels_last, Keras `"same"`/`"valid"`
    padding), `λ` is `lr_multiplier` and `W` is stored `N(0, 1 / λ)`. The
    bias is stored as `bias_init / λ`; `activation="lrelu"` is StyleGAN2's
    `leaky_relu(·, 0.2) * sqrt(2)`. StyleGAN's strided layers blur before
    down-sampling; `strides > 1` here is a plain strided convolution.

    Args:
        filters: int >= 1, the number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints. Defaults to `1`.
        padding: `"same"` or `"valid"` (Keras semantics). Defaults to
            `"same"`.
        lr_multiplier: float > 0, the `λ` above. Defaults to `1.0`.
        gain: float > 0, the `gain` of the He constant. Defaults to `1.0`.
        bias_init: float, the initial effective bias. Defaults to `0.0`.
        activation: `"lrelu"`, a Keras activation or `None`. Defaults to
            `None` (linear).
        use_bias: bool, whether the layer has a bias `b`. Defaults to
            `True`.
        kernel_regularizer: optional regularizer of the stored kernel.
        bias_regularizer: optional regularizer of the stored bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, C_in)`.

    Returns:
        Tensor of shape `(batch, new_height, new_width, filters)`.

    Weights:
        `kernel` `W` of shape `(kh, kw, C_in, filters)`; `bias` `b` of
        shape `(filters,)`.

    Example:

    >>> import numpy as np
    >>> layer = EqualizedConv2D(8, 3, activation="lrelu")
    >>> tuple(layer(np.ones((2, 16, 16, 4), "float32")).shape)
    (2, 16, 16, 8)

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 4.1;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020.
    """

    def __init__(
        self, filters, kernel_size, strides=1, padding="same", **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
        self.strides = check_int_tuple("strides", strides, 2)
        self.padding = check_choice("padding", padding, PADDINGS)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        channels = check_image_input(self, input_shape)
        kh, kw = self.kernel_size
        self.add_equalized_weights(
            (kh, kw, channels, self.filters), fan_in=kh * kw * channels
        )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def call(self, inputs):
        outputs = ops.conv(
            inputs,
            self.kernel * self.weight_gain,
            strides=self.strides,
            padding=self.padding,
            data_format="channels_last",
        )
        return self.bias_act(outputs)

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        sizes = []
        for length, k, s in zip(
            (height, width), self.kernel_size, self.strides, strict=True
        ):
            if length is None:
                sizes.append(None)
            elif self.padding == "same":
                sizes.append(-(-length // s))
            else:
                sizes.append((length - k) // s + 1)
        return (batch, *sizes, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
            }
        )
        return config
