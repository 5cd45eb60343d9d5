"""The StyleGAN pieces that are not a plain graph: state and batch statistics.

A learned constant broadcast to the batch (`ConstantInput`), the running
average of the latent `w` that truncation pulls towards
(`LatentAverage`), and the discriminator's minibatch standard deviation
(`MinibatchStandardDeviation`), which mixes samples of a batch.
"""

import keras
from keras import ops

from hadamard_zoo.layers.modulation.style._images import check_image_input
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ConstantInput(keras.layers.Layer):
    """A learned image, the same for every sample of the batch.

    ```
    y[b] = C     for every sample b,   C of shape (size, size, channels)
    ```

    StyleGAN's synthesis network starts from this learned constant instead
    of from the latent: the latent enters only through the styles, so what
    is drawn is decided by the modulations alone. `C` starts `N(0, 1)`.

    Args:
        channels: int >= 1, the channels of `C`.
        size: int >= 1, its height and width. Defaults to `4`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: any tensor whose first axis is the batch; only its batch
            size is read.

    Returns:
        Tensor of shape `(batch, size, size, channels)`.

    Weights:
        `constant` `C` of shape `(size, size, channels)`.

    Example:

    >>> import numpy as np
    >>> layer = ConstantInput(8)
    >>> tuple(layer(np.zeros((3, 16), "float32")).shape)
    (3, 4, 4, 8)

    Reference:
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019, section 2.
    """

    def __init__(self, channels, size=4, **kwargs):
        super().__init__(**kwargs)
        self.channels = check_int("channels", channels)
        self.size = check_int("size", size)

    def build(self, input_shape):
        self.constant = self.add_weight(
            name="constant",
            shape=(self.size, self.size, self.channels),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
        )

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        return ops.broadcast_to(
            ops.expand_dims(self.constant, 0),
            (batch, self.size, self.size, self.channels),
        )

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        config = super().get_config()
        config.update({"channels": self.channels, "size": self.size})
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class LatentAverage(keras.layers.Layer):
    """Identity on `w` that tracks the average `w` for truncation.

    Training calls update an exponential moving average of the batch mean;
    every call returns its input unchanged:

    ```
    w_avg ← β w_avg + (1 − β) mean_b(w)      (training calls only)
    y     = w
    ```

    `truncate(w, psi)` then gives StyleGAN's truncation trick,

    ```
    w' = w_avg + ψ (w − w_avg)
    ```

    which trades variety (`ψ = 1`: no change) for typical, higher-quality
    samples (`ψ → 0`: every sample becomes the average image). `w_avg` is
    a float32 non-trainable weight, so it travels with the weights, also
    through the JAX backend's stateless training step.

    Args:
        momentum: float in [0, 1], the `β` above. Defaults to `0.995`
            (StyleGAN2's `w_avg_beta`).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: latents `w` of shape `(batch, d_w)`.
        training: bool, whether to update `w_avg`.

    Returns:
        `inputs`.

    Weights:
        `w_avg` of shape `(d_w,)`, non-trainable, starting at 0.

    Example:

    >>> import numpy as np
    >>> layer = LatentAverage(momentum=0.5)
    >>> w = np.full((2, 3), 4.0, "float32")
    >>> _ = layer(w, training=True)
    >>> keras.ops.convert_to_numpy(layer.w_avg).tolist()
    [2.0, 2.0, 2.0]
    >>> keras.ops.convert_to_numpy(layer.truncate(w, 0.5))[0].tolist()
    [3.0, 3.0, 3.0]

    Reference:
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019, appendix B (truncation trick).
    """

    def __init__(self, momentum=0.995, **kwargs):
        super().__init__(**kwargs)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)

    def build(self, input_shape):
        dim = last_axis(self, input_shape)
        self.w_avg = self.add_weight(
            name="w_avg",
            shape=(dim,),
            initializer="zeros",
            trainable=False,
            # A long average of small steps: float32 under mixed precision.
            autocast=False,
        )

    def call(self, inputs, training=None):
        if training:
            mean = ops.mean(ops.cast(inputs, "float32"), axis=0)
            mean = ops.stop_gradient(mean)
            self.w_avg.assign(
                self.momentum * self.w_avg + (1.0 - self.momentum) * mean
            )
        return inputs

    def truncate(self, w, psi):
        """`w_avg + psi * (w - w_avg)`, broadcast over the leading axes."""
        w = ops.convert_to_tensor(w)
        w_avg = ops.cast(self.w_avg, w.dtype)
        return w_avg + psi * (w - w_avg)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum})
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MinibatchStandardDeviation(keras.layers.Layer):
    """Appends the standard deviation across a group of samples (ProGAN).

    The batch of `N` samples is split into `M = N / G` groups of
    `G = min(group_size, N)` samples, sample `n` going to group `n mod M`
    (as StyleGAN2). The channels are split into `F = num_channels` slices
    of `c = C / F`. For every group `m` and slice `f`:

    ```
    σ[m, h, w, f, j] = sqrt(mean_g (x[g, m, h, w, f, j] − μ[m, h, w, f, j])²
                            + ε)                 μ: the mean over g
    s[m, f]          = mean_{h, w, j} σ[m, h, w, f, j]
    y[n]             = concat(x[n], s[n mod M] repeated over h, w)
    ```

    A discriminator that sees the spread of a batch can tell a collapsed
    generator (samples too alike) from the data: the layer gives it that
    statistic. Computed in float32 under mixed precision.

    Args:
        group_size: int >= 1, the largest group size `G`. The batch size
            must be a multiple of `min(group_size, batch)`. Defaults to
            `4`.
        num_channels: int >= 1, the `F` appended channels; must divide the
            input channels. Defaults to `1`.
        epsilon: float >= 0, the `ε` above. Defaults to `1e-8`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, C)`.

    Returns:
        Tensor of shape `(batch, height, width, C + num_channels)`.

    Example:

    >>> import numpy as np
    >>> x = np.zeros((4, 2, 2, 3), "float32")
    >>> x[1] = 2.0  # one group of 4: the channels' std is sqrt(3) / 2
    >>> y = keras.ops.convert_to_numpy(MinibatchStandardDeviation()(x))
    >>> y.shape, round(float(y[0, 0, 0, 3]), 4)
    ((4, 2, 2, 4), 0.866)

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 3;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020.
    """

    def __init__(self, group_size=4, num_channels=1, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        self.group_size = check_int("group_size", group_size)
        self.num_channels = check_int("num_channels", num_channels)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)

    def build(self, input_shape):
        channels = check_image_input(self, input_shape)
        if channels % self.num_channels:
            raise ValueError(
                f"Layer '{self.name}' (MinibatchStandardDeviation) needs "
                f"`num_channels` to divide the input channels. Received "
                f"num_channels={self.num_channels} for an input of shape "
                f"{tuple(input_shape)}."
            )

    def _group(self, batch):
        if not isinstance(batch, int):
            # Batch known only at run time (a TF graph): no check possible.
            return ops.minimum(self.group_size, batch)
        group = min(self.group_size, batch)
        if batch % group:
            raise ValueError(
                f"Layer '{self.name}' (MinibatchStandardDeviation) needs a "
                f"batch size that is a multiple of min(group_size, batch) "
                f"= {group}. Received a batch of {batch} samples."
            )
        return group

    def call(self, inputs):
        dtype = inputs.dtype
        x = ops.cast(inputs, "float32")
        batch, height, width, channels = ops.shape(x)
        group = self._group(batch)
        f = self.num_channels
        y = ops.reshape(
            x, (group, -1, height, width, f, channels // f)
        )  # (G, M, H, W, F, c)
        y = y - ops.mean(y, axis=0, keepdims=True)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + self.epsilon)
        y = ops.mean(y, axis=(1, 2, 4))  # (M, F)
        y = ops.tile(y[:, None, None, :], (group, height, width, 1))
        return ops.cast(ops.concatenate([x, y], axis=-1), dtype)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        return shape[:3] + (shape[3] + self.num_channels,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "group_size": self.group_size,
                "num_channels": self.num_channels,
                "epsilon": self.epsilon,
            }
        )
        return config
