"""SPADE: spatially-adaptive normalization by a segmentation map."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation._inputs import list_input_shapes
from hadamard_zoo.layers.modulation.adaptive_instance_normalization import (
    instance_moments,
)
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

PARAM_FREE_NORMS = ("batch", "instance")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SPADE(DenseWeightsLayer):
    """Spatially-adaptive normalization: a label map modulates each pixel.

    The features are normalised without affine parameters, then scaled and
    shifted by maps that a small convolutional network computes from the
    segmentation map, resized to the features' spatial size:

    ```
    n = Norm(x)                                  (no learned affine)
    s = resize_nearest(segmap, (H, W))
    a = ReLU(conv_k(s, W_s) + b_s)               (hidden_filters channels)
    γ = conv_k(a, W_γ) + b_γ,   β = conv_k(a, W_β) + b_β
    y = n * (1 + γ) + β
    ```

    where `*` is the Hadamard product. Unlike AdaIN or FiLM, `γ` and `β`
    vary with the position, so the layout of the label map survives the
    normalisation instead of being washed out by it. `Norm` is a batch
    normalization (batch statistics in training, moving averages in
    inference; NVlabs' default uses synchronised batch norm) or an instance
    normalization (statistics of each sample and channel over the spatial
    positions). The convolutions are `"same"`-padded with stride 1; `W_γ`
    and `W_β` are applied as one convolution with their kernels
    concatenated.

    The resize is `keras.ops.image.resize(..., interpolation="nearest")`:
    output pixel `i` reads input pixel `floor((i + 0.5) * in / out)` (half-
    pixel centres, as TF2 and PyTorch's `"nearest-exact"`). NVlabs' code
    uses PyTorch's legacy `"nearest"`, `floor(i * in / out)`, which for a
    downsampling by 2 reads the top-left pixel of each 2x2 block where this
    layer reads the bottom-right one. A segmentation map already of the
    features' size is used as it is; when the spatial size is known only
    at run time (a TF graph with undefined axes), the same pixels are
    gathered directly.

    Args:
        hidden_filters: int >= 1, the channels of the shared hidden
            activation `a`. Defaults to `128` (the paper's `nhidden`).
        kernel_size: odd int >= 1, the size of the three square
            convolution kernels. Defaults to `3`.
        param_free_norm: `"batch"` or `"instance"`, the normalization of
            `x`. Defaults to `"batch"`.
        epsilon: float >= 0, the `ε` added to the variances. Defaults to
            `1e-5` (PyTorch's default, as in the reference code).
        momentum: float in [0, 1], the momentum of the batch normalization's
            moving averages (Keras convention: `moving = momentum * moving
            + (1 - momentum) * batch`). Defaults to `0.9` (PyTorch's 0.1).
            Unused by the instance normalization.
        use_bias: bool, whether the convolutions have biases. Defaults to
            `True`.
        kernel_initializer: initializer of the convolution kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the convolution biases. Defaults
            to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, segmap]`: the features `x` of shape
            `(batch, height, width, channels)` and the segmentation map of
            shape `(batch, height', width', labels)` (a one-hot label map,
            optionally with extra channels such as an instance-edge map),
            of any spatial size.
        training: bool, whether the batch normalization uses the batch
            statistics (and updates its moving averages).

    Returns:
        Tensor of the shape of `x`.

    Weights:
        `shared_kernel` `W_s` `(k, k, labels, hidden_filters)`,
        `gamma_kernel` `W_γ` and `beta_kernel` `W_β`, both
        `(k, k, hidden_filters, channels)`, the biases `shared_bias`,
        `gamma_bias`, `beta_bias`; with `param_free_norm="batch"` the
        non-trainable `param_free_norm/moving_mean` and
        `param_free_norm/moving_variance`.

    Example:

    >>> import numpy as np
    >>> layer = SPADE(hidden_filters=32, param_free_norm="instance")
    >>> x = np.ones((2, 8, 8, 16), "float32")
    >>> segmap = np.ones((2, 32, 32, 5), "float32")
    >>> tuple(layer([x, segmap]).shape)
    (2, 8, 8, 16)

    Reference:
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(
        self,
        hidden_filters=128,
        kernel_size=3,
        param_free_norm="batch",
        epsilon=1e-5,
        momentum=0.9,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_filters = check_int("hidden_filters", hidden_filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(
                "`kernel_size` must be odd (a 'same' convolution pads "
                "kernel_size // 2 on both sides, as the reference code). "
                f"Received: kernel_size={kernel_size}."
            )
        self.param_free_norm = check_choice(
            "param_free_norm", param_free_norm, PARAM_FREE_NORMS
        )
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)

    def build(self, input_shape):
        x_shape, seg_shape = list_input_shapes(
            self, input_shape, ("x", "segmap")
        )
        if len(x_shape) != 4 or x_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (SPADE) expects features x of shape "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received x with shape {x_shape}."
            )
        if len(seg_shape) != 4 or seg_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (SPADE) expects a segmentation map of "
                "shape (batch, height, width, labels) with a defined label "
                f"axis. Received segmap with shape {seg_shape}."
            )
        channels, labels = int(x_shape[-1]), int(seg_shape[-1])
        k = self.kernel_size
        self.shared_kernel, self.shared_bias = self.add_dense_weights(
            "shared", (k, k, labels, self.hidden_filters)
        )
        shape = (k, k, self.hidden_filters, channels)
        self.gamma_kernel, self.gamma_bias = self.add_dense_weights(
            "gamma", shape
        )
        self.beta_kernel, self.beta_bias = self.add_dense_weights("beta", shape)
        self.batch_norm = None
        if self.param_free_norm == "batch":
            self.batch_norm = keras.layers.BatchNormalization(
                momentum=self.momentum,
                epsilon=self.epsilon,
                center=False,
                scale=False,
                dtype=self.dtype_policy,
                name="param_free_norm",
            )
            self.batch_norm.build(x_shape)
        self.input_spec = [
            keras.InputSpec(ndim=4, axes={-1: channels}),
            keras.InputSpec(ndim=4, axes={-1: labels}),
        ]

    def _conv(self, inputs, kernel, bias):
        outputs = ops.conv(inputs, kernel, strides=1, padding="same")
        return outputs if bias is None else outputs + bias

    def _normalize(self, x, training):
        if self.batch_norm is not None:
            return self.batch_norm(x, training=training)
        mean, std = instance_moments(x, self.epsilon)
        return (x - mean) / std

    @staticmethod
    def _resize(segmap, x):
        """`segmap` resized to the spatial size of `x` (nearest pixel)."""
        size = tuple(x.shape[1:3])
        if None not in size:
            if tuple(segmap.shape[1:3]) == size:
                return segmap
            return ops.image.resize(
                segmap,
                size,
                interpolation="nearest",
                data_format="channels_last",
            )
        # Sizes known at run time only (TF graphs), which ops.image.resize
        # does not take: the same pixels, floor((i + 0.5) * in / out),
        # gathered in integer arithmetic.
        for axis in (1, 2):
            in_size = ops.shape(segmap)[axis]
            out_size = ops.shape(x)[axis]
            index = ops.arange(out_size, dtype="int32")
            index = ((2 * index + 1) * in_size) // (2 * out_size)
            index = ops.minimum(index, in_size - 1)
            segmap = ops.take(segmap, index, axis=axis)
        return segmap

    def call(self, inputs, training=None):
        x, segmap = inputs
        check_same_batch(self, (x, segmap), ("x", "segmap"))
        normalized = self._normalize(x, training)

        segmap = self._resize(segmap, x)
        hidden = ops.relu(
            self._conv(segmap, self.shared_kernel, self.shared_bias)
        )
        # γ and β read the same hidden map: one convolution computes both.
        kernel = ops.concatenate([self.gamma_kernel, self.beta_kernel], -1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.gamma_bias, self.beta_bias], -1)
        gamma, beta = ops.split(self._conv(hidden, kernel, bias), 2, -1)
        return normalized * (1.0 + gamma) + beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_filters": self.hidden_filters,
                "kernel_size": self.kernel_size,
                "param_free_norm": self.param_free_norm,
                "epsilon": self.epsilon,
                "momentum": self.momentum,
            }
        )
        return config
