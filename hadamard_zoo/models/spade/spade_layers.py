"""The layers of pix2pixHD's PatchGAN discriminator that Keras lacks.

A padded convolution with an optional spectral normalization that holds
on every backend (`SpectralConv2D`), and the average pooling that builds
the image pyramid of the multi-scale discriminator (`AverageDownsample`).
"""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation._spectral_norm import spectrally_normalized
from hadamard_zoo.layers.modulation.style._images import check_image_input
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SpectralConv2D(DenseWeightsLayer):
    """Zero-padded convolution, optionally spectrally normalised.

    ```
    y = conv(pad_p(x), W_SN, stride) + b
    ```

    `pad_p` adds `padding` zero pixels on every side (PyTorch's
    `Conv2d(padding=p)`, which pix2pixHD's 4x4 kernels with `p = 2` need
    and Keras' `"same"` does not give). With `spectral_norm=True` the
    kernel, seen as a `(k·k·C_in, filters)` matrix, is divided by an
    estimate of its largest singular value (Miyato et al.):

    ```
    v = normalize(W u),  u = normalize(Wᵀ v)     (power_iterations times,
                                                  training only; u stored)
    σ = ‖W u‖ / ‖u‖,     W_SN = W / σ            (u without gradient)
    ```

    `u` is a non-trainable weight refined by training calls and read by
    inference calls, and `W` stays the raw trainable weight, so the
    normalization holds in inference and under the JAX backend's stateless
    `fit()` (the same scheme as `SPADEResBlock`'s convolutions).

    Args:
        filters: int >= 1, the output channels.
        kernel_size: int or tuple of 2 ints. Defaults to `4`.
        strides: int or tuple of 2 ints. Defaults to `1`.
        padding: int >= 0, the zero pixels added on each side. Defaults
            to `2`.
        spectral_norm: bool, whether to normalise the kernel. Defaults to
            `True`.
        power_iterations: int >= 1, the power iterations per training
            call. Defaults to `1`.
        use_bias: bool, whether there is a bias. Defaults to `True`.
        kernel_initializer: initializer of the kernel. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the bias. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernel.
        bias_regularizer: optional regularizer of the bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, C_in)`.
        training: bool, whether to refine (and store) `u`.

    Returns:
        Tensor of shape `(batch, (height + 2p - k) // s + 1, ..., filters)`.

    Weights:
        `conv_kernel` `(kh, kw, C_in, filters)`, `conv_bias` `(filters,)`,
        with `spectral_norm=True` the non-trainable `conv_u` `(filters,)`.

    Example:

    >>> import numpy as np
    >>> layer = SpectralConv2D(8, 4, strides=2, padding=2)
    >>> tuple(layer(np.ones((2, 16, 16, 3), "float32")).shape)
    (2, 9, 9, 8)

    Reference:
        Miyato et al., "Spectral Normalization for Generative Adversarial
        Networks", ICLR 2018;
        Wang et al., "High-Resolution Image Synthesis and Semantic
        Manipulation with Conditional GANs", CVPR 2018.
    """

    def __init__(
        self,
        filters,
        kernel_size=4,
        strides=1,
        padding=2,
        spectral_norm=True,
        power_iterations=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
        self.strides = check_int_tuple("strides", strides, 2)
        self.padding = check_int("padding", padding, minimum=0)
        self.spectral_norm = check_bool("spectral_norm", spectral_norm)
        self.power_iterations = check_int("power_iterations", power_iterations)

    def build(self, input_shape):
        channels = check_image_input(self, input_shape)
        self.kernel, self.bias = self.add_dense_weights(
            "conv", self.kernel_size + (channels, self.filters)
        )
        self.u = None
        if self.spectral_norm:
            self.u = self.add_weight(
                name="conv_u",
                shape=(self.filters,),
                initializer="random_normal",
                trainable=False,
                # float32 under mixed precision: the iterations refine a
                # direction that bfloat16 would blur.
                autocast=False,
            )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def _kernel(self, training):
        if self.u is None:
            return self.kernel
        return spectrally_normalized(
            self.kernel, self.u, self.power_iterations, training
        )

    def call(self, inputs, training=None):
        p = self.padding
        x = inputs
        if p:
            x = ops.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
        outputs = ops.conv(
            x, self._kernel(training), strides=self.strides, padding="valid"
        )
        return outputs if self.bias is None else outputs + self.bias

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        sizes = [
            None if n is None else (n + 2 * self.padding - k) // s + 1
            for n, k, s in zip(
                (height, width), self.kernel_size, self.strides, strict=True
            )
        ]
        return (batch, *sizes, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "spectral_norm": self.spectral_norm,
                "power_iterations": self.power_iterations,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class AverageDownsample(keras.layers.Layer):
    """3x3 average pooling, stride 2, the padding left out of the mean.

    ```
    y[i, j] = mean of x[2i + a, 2j + b] over a, b in {-1, 0, 1}
              and inside the image
    ```

    PyTorch's `avg_pool2d(x, 3, stride=2, padding=1,
    count_include_pad=False)`, with which pix2pixHD and SPADE build the
    inputs of their coarser discriminators: `n` pixels become
    `floor((n - 1) / 2) + 1`. Keras' `"same"` pooling pads differently
    (only after, for even sizes), so the windows would be shifted by a
    pixel.

    Args:
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.

    Returns:
        Tensor of shape `(batch, (height - 1) // 2 + 1, (width - 1) // 2
        + 1, channels)`.

    Example:

    >>> import numpy as np
    >>> x = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    >>> y = keras.ops.convert_to_numpy(AverageDownsample()(x))
    >>> np.round(y[0, :, :, 0], 4).tolist()
    [[2.5, 4.0], [8.5, 10.0]]

    Reference:
        Wang et al., "High-Resolution Image Synthesis and Semantic
        Manipulation with Conditional GANs", CVPR 2018, section 3.2.
    """

    def build(self, input_shape):
        check_image_input(self, input_shape)

    def call(self, inputs):
        pads = ((0, 0), (1, 1), (1, 1), (0, 0))
        ones = ops.ones_like(inputs[:1, :, :, :1])
        total = ops.average_pool(ops.pad(inputs, pads), 3, 2, "valid")
        count = ops.average_pool(ops.pad(ones, pads), 3, 2, "valid")
        return total / count

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = tuple(input_shape)
        sizes = [
            None if n is None else (n - 1) // 2 + 1 for n in (height, width)
        ]
        return (batch, *sizes, channels)
