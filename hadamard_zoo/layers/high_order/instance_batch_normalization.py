"""Instance-batch normalization (IBN), as in R-PolyNets."""

import keras
from keras import ops

from hadamard_zoo.utils.validation import check_float


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class InstanceBatchNormalization(keras.layers.Layer):
    """Instance norm on the first channels, batch norm on the others (IBN).

    With `C` channels (last axis) and `m = int(ratio * C)`:

    ```
    y[..., :m] = γ_I * (x[..., :m] - μ_I(x)) / sqrt(σ²_I(x) + ε) + β_I
    y[..., m:] = BatchNorm(x[..., m:])
    ```

    where `μ_I`, `σ²_I` are the mean and (biased) variance of each sample
    and channel over the spatial axes (instance normalization, with
    per-channel affine `γ_I`, `β_I`), and the batch normalization uses the
    batch statistics in training and its moving averages in inference.
    R-PolyNets use it with `ratio=0.8` as the first normalization of the
    product-of-polynomials blocks: instance normalization of most channels
    keeps the high-degree polynomial expansion bounded per sample. When
    `m` is 0 or `C` the layer is a plain batch or instance normalization.

    Args:
        ratio: float in [0, 1], the fraction of channels that are
            instance-normalised (rounded down). Defaults to `0.8`.
        epsilon: float, the ε added to both variances. Defaults to `1e-5`
            (PyTorch's default, used by the reference code).
        momentum: float in [0, 1], the momentum of the batch norm's moving
            averages (Keras convention: `moving = momentum * moving + (1 -
            momentum) * batch`). Defaults to `0.9` (PyTorch's 0.1).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, ..., channels)` with at least one
            spatial axis.
        training: bool, whether the batch norm uses batch statistics (and
            updates its moving averages).

    Returns:
        Tensor of the shape of `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = InstanceBatchNormalization(ratio=0.8)
    >>> tuple(layer(np.ones((2, 8, 8, 10), "float32")).shape)
    (2, 8, 8, 10)

    Reference:
        Chrysos et al., "Regularization of polynomial networks for image
        recognition", CVPR 2023 (R-PolyNets);
        Pan et al., "Two at once: enhancing learning and generalization
        capacities via IBN-Net", ECCV 2018.
    """

    def __init__(self, ratio=0.8, epsilon=1e-5, momentum=0.9, **kwargs):
        super().__init__(**kwargs)
        self.ratio = check_float("ratio", ratio, 0.0, 1.0)
        self.epsilon = check_float("epsilon", epsilon, 0.0)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)
        self.input_spec = keras.InputSpec(min_ndim=3)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) < 3 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (InstanceBatchNormalization) expects "
                "inputs of rank >= 3 (batch, spatial..., channels) with a "
                f"defined channel axis. Received input with shape {shape}."
            )
        channels = int(shape[-1])
        self.instance_channels = int(self.ratio * channels)
        batch_channels = channels - self.instance_channels
        self.instance_norm = self.batch_norm = None
        if self.instance_channels:
            self.instance_norm = keras.layers.GroupNormalization(
                groups=-1,
                epsilon=self.epsilon,
                dtype=self.dtype_policy,
                name="instance_norm",
            )
            self.instance_norm.build(shape[:-1] + (self.instance_channels,))
        if batch_channels:
            self.batch_norm = keras.layers.BatchNormalization(
                momentum=self.momentum,
                epsilon=self.epsilon,
                dtype=self.dtype_policy,
                name="batch_norm",
            )
            self.batch_norm.build(shape[:-1] + (batch_channels,))
        self.input_spec = keras.InputSpec(min_ndim=3, axes={-1: channels})

    def call(self, inputs, training=None):
        if self.batch_norm is None:
            return self.instance_norm(inputs)
        if self.instance_norm is None:
            return self.batch_norm(inputs, training=training)
        m = self.instance_channels
        return ops.concatenate(
            [
                self.instance_norm(inputs[..., :m]),
                self.batch_norm(inputs[..., m:], training=training),
            ],
            axis=-1,
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "ratio": self.ratio,
                "epsilon": self.epsilon,
                "momentum": self.momentum,
            }
        )
        return config
