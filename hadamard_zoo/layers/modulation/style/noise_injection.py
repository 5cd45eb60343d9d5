"""Per-channel scaled noise added to features (StyleGAN)."""

import keras
from keras import ops

from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation.style._images import check_image_input
from hadamard_zoo.utils.validation import check_optional_int


def _is_shape_list(input_shape):
    return isinstance(input_shape, (list, tuple)) and all(
        isinstance(s, (list, tuple)) for s in input_shape
    )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class NoiseInjection(keras.layers.Layer):
    """Adds single-channel noise scaled by a learned weight per channel.

    ```
    y[b, h, w, c] = x[b, h, w, c] + s[c] * n[b, h, w]
    ```

    One noise image `n` per sample is shared by all channels and scaled by
    the learned per-channel strength `s`, initialised at 0 so that the
    layer starts as the identity. StyleGAN adds it after each convolution
    of the synthesis network so that stochastic detail (hair, pores) does
    not have to be generated from the latent. StyleGAN2 keeps one scalar
    strength per layer; this layer keeps StyleGAN's one per channel.

    The noise is drawn from `N(0, 1)` by the layer's
    `keras.random.SeedGenerator` at every call, in training and inference
    alike, unless it is given as a second input, which makes the layer
    deterministic (fixed noise for reproducible samples, tests).

    Args:
        seed: optional int >= 0, the seed of the noise generator. With a
            seed the sequence of noise images is reproducible on one
            backend (backends differ from each other). Defaults to `None`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: features `x` of shape `(batch, height, width, channels)`,
            or a list `[x, noise]` with `noise` of shape
            `(batch, height, width, 1)` (or `channels` instead of 1).

    Returns:
        Tensor of the shape of `x`.

    Weights:
        `scale` `s` of shape `(channels,)`, initialised at 0.

    Example:

    >>> import numpy as np
    >>> layer = NoiseInjection(seed=0)
    >>> x = np.ones((2, 4, 4, 3), "float32")
    >>> y = keras.ops.convert_to_numpy(layer(x))
    >>> bool(np.array_equal(y, x))  # s starts at 0
    True
    >>> _ = layer.scale.assign(np.full(3, 0.5, "float32"))
    >>> noise = np.ones((2, 4, 4, 1), "float32")
    >>> float(keras.ops.convert_to_numpy(layer([x, noise]))[0, 0, 0, 0])
    1.5

    Reference:
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019, section 3.2;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        noise_shape = None
        if _is_shape_list(input_shape):
            if len(input_shape) != 2:
                raise ValueError(
                    f"Layer '{self.name}' (NoiseInjection) expects x or a "
                    "list of 2 inputs [x, noise]. Received input shape "
                    f"{input_shape}."
                )
            x_shape, noise_shape = (tuple(s) for s in input_shape)
        else:
            x_shape = tuple(input_shape)
        channels = check_image_input(self, x_shape, "features x")
        if noise_shape is not None and (
            len(noise_shape) != 4 or noise_shape[-1] not in (1, channels)
        ):
            raise ValueError(
                f"Layer '{self.name}' (NoiseInjection) expects noise of "
                f"shape (batch, height, width, 1) or (..., {channels}). "
                f"Received noise with shape {noise_shape}."
            )
        self.scale = self.add_weight(
            name="scale", shape=(channels,), initializer="zeros"
        )

    def call(self, inputs):
        if isinstance(inputs, (list, tuple)):
            x, noise = inputs
            check_same_batch(self, (x, noise), ("x", "noise"))
        else:
            x = inputs
            shape = tuple(ops.shape(x)[:3]) + (1,)
            noise = keras.random.normal(
                shape, dtype=x.dtype, seed=self.seed_generator
            )
        return x + ops.cast(noise, x.dtype) * self.scale

    def compute_output_shape(self, input_shape):
        if _is_shape_list(input_shape):
            return tuple(input_shape[0])
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
