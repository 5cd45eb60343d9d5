"""Pixelwise feature normalization (ProGAN)."""

import numbers

import keras
from keras import ops

from hadamard_zoo.utils.validation import check_float


def _check_axis(axis):
    """`axis` as given if it is an int or a non-empty tuple/list of ints."""
    values = axis if isinstance(axis, (tuple, list)) else (axis,)
    if (
        not values
        or len(set(values)) != len(values)
        or any(
            isinstance(v, bool) or not isinstance(v, numbers.Integral)
            for v in values
        )
    ):
        raise ValueError(
            "`axis` must be an integer or a non-empty tuple of distinct "
            f"integers. Received: axis={axis!r}."
        )
    if isinstance(axis, (tuple, list)):
        return tuple(int(v) for v in axis)
    return int(axis)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PixelNormalization(keras.layers.Layer):
    """Pixelwise feature normalization: each feature vector to unit RMS.

    Each pixel's feature vector is divided by its root mean square over the
    channels:

    ```
    y = x / sqrt(mean_c(x²) + ε)
    ```

    ProGAN applies it after every convolution of the generator so that no
    feature magnitude escalates in the competition with the discriminator;
    StyleGAN applies it to the latent `z` before the mapping network. There
    is no centring and no learned scale (unlike layer normalization). The
    mean is taken in float32 when `x` is a 16-bit float.

    Args:
        epsilon: float >= 0, the `ε` added to the mean square. Defaults to
            `1e-8` (as ProGAN and StyleGAN).
        axis: int or tuple of ints, the axes of the mean. Defaults to `-1`
            (the channels, channels_last).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of any rank that has the axes `axis`.

    Returns:
        Tensor of the shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = PixelNormalization()
    >>> x = np.full((2, 4, 4, 8), 3.0, "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x))
    >>> bool(np.allclose(y, 1.0))
    True

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 4.2;
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019.
    """

    def __init__(self, epsilon=1e-8, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.axis = _check_axis(axis)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = self.axis if isinstance(self.axis, tuple) else (self.axis,)
        if any(not -rank <= a < rank for a in axes):
            raise ValueError(
                f"Layer '{self.name}' (PixelNormalization) got axis="
                f"{self.axis} for an input of rank {rank} (shape "
                f"{tuple(input_shape)})."
            )

    def call(self, inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        x = inputs
        if dtype in ("float16", "bfloat16"):
            x = ops.cast(x, "float32")
        mean_square = ops.mean(ops.square(x), axis=self.axis, keepdims=True)
        return ops.cast(x * ops.rsqrt(mean_square + self.epsilon), dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon, "axis": self.axis})
        return config
