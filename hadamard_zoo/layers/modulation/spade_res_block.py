"""SPADE residual block (GauGAN), with optional spectral normalization."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation._inputs import list_input_shapes
from hadamard_zoo.layers.modulation._spectral_norm import spectrally_normalized
from hadamard_zoo.layers.modulation.spade import PARAM_FREE_NORMS
from hadamard_zoo.layers.modulation.spade import SPADE
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

LEAKY_SLOPE = 0.2


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SPADEResBlock(DenseWeightsLayer):
    """Residual block of two SPADE-modulated convolutions (GauGAN).

    Every convolution of the block reads features that a `SPADE` layer
    has normalised and then modulated, pixel by pixel, with maps computed
    from the segmentation map:

    ```
    m   = min(C_in, filters)
    dx  = conv_0(lrelu(SPADE_0(x, segmap)))       C_in -> m,        k x k
    dx  = conv_1(lrelu(SPADE_1(dx, segmap)))      m -> filters,     k x k
    x_s = conv_s(SPADE_s(x, segmap))              C_in -> filters,  1 x 1
          (no bias; only when C_in != filters, else x_s = x)
    y   = x_s + dx
    ```

    with `lrelu` the leaky ReLU of slope 0.2 and `SPADE(x, s) = Norm(x) *
    (1 + γ(s)) + β(s)` (see `SPADE`). The learned shortcut `conv_s`
    exists only when the number of channels changes, as in NVlabs'
    `SPADEResnetBlock`.

    With `spectral_norm=True` each of `conv_0`, `conv_1`, `conv_s` uses its
    kernel `W`, seen as a `(k·k·C_in, C_out)` matrix, divided by an
    estimate of its largest singular value (Miyato et al.):

    ```
    v = normalize(W u),  u = normalize(Wᵀ v)     (power_iterations times,
                                                  training only; u stored)
    σ = ‖W u‖ / ‖u‖,     W_SN = W / σ            (u without gradient)
    ```

    `u` is a non-trainable weight: training calls refine it and store it,
    inference calls read it, so a trained layer normalises its kernels in
    inference too. Unlike `keras.layers.SpectralNormalization`, which
    overwrites the trainable kernel with `W / σ` during training calls
    (assignments that JAX's `fit()` discards, and that inference calls
    never make), `W` stays the raw trainable weight, gradients flow
    through `σ` as in the paper, and the normalised kernel is recomputed at
    every call on every backend.

    Args:
        filters: int >= 1, the output channels.
        hidden_filters: int >= 1, the hidden channels of each SPADE
            layer. Defaults to `128` (the paper's `nhidden`).
        kernel_size: odd int >= 1, the size of the square kernels of
            `conv_0`, `conv_1` and of the SPADE layers' convolutions.
            Defaults to `3`.
        param_free_norm: `"batch"` or `"instance"`, the SPADE layers'
            normalization. Defaults to `"batch"` (NVlabs' default, as
            `SPADE`).
        spectral_norm: bool, whether `conv_0`, `conv_1` and `conv_s` are
            spectrally normalised. Defaults to `False`.
        power_iterations: int >= 1, the power iterations per training call
            when `spectral_norm=True`. Defaults to `1` (as the paper).
        epsilon: float >= 0, the `ε` of the SPADE normalizations. Defaults
            to `1e-5`.
        momentum: float in [0, 1], the momentum of the SPADE batch
            normalizations' moving averages (Keras convention). Defaults to
            `0.9`.
        use_bias: bool, whether `conv_0` and `conv_1` have biases (`conv_s`
            never has one). Defaults to `True`.
        kernel_initializer: initializer of the kernels of `conv_0`,
            `conv_1` and `conv_s` (the SPADE layers keep their defaults).
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases of `conv_0` and
            `conv_1`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the block's kernels.
        bias_regularizer: optional regularizer of the block's biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, segmap]`: features `x` of shape
            `(batch, height, width, C_in)` and a segmentation map of shape
            `(batch, height', width', labels)` of any spatial size.
        training: bool, whether the batch normalizations use the batch
            statistics and the spectral normalization refines `u`.

    Returns:
        Tensor of shape `(batch, height, width, filters)`.

    Weights:
        the SPADE layers `norm_0`, `norm_1` (and `norm_s`) with their own
        weights; `conv_0_kernel` `(k, k, C_in, m)`, `conv_1_kernel`
        `(k, k, m, filters)`, their biases `conv_0_bias`, `conv_1_bias`;
        `conv_s_kernel` `(1, 1, C_in, filters)` when `C_in != filters`;
        with `spectral_norm=True` the non-trainable vectors `conv_0_u`
        `(m,)`, `conv_1_u` `(filters,)` (and `conv_s_u` `(filters,)`).

    Example:

    >>> import numpy as np
    >>> block = SPADEResBlock(8, hidden_filters=16, spectral_norm=True)
    >>> x = np.ones((2, 8, 8, 4), "float32")
    >>> segmap = np.ones((2, 16, 16, 3), "float32")
    >>> tuple(block([x, segmap]).shape)
    (2, 8, 8, 8)
    >>> "conv_s_kernel" in [w.path.split("/")[-1] for w in block.weights]
    True

    Reference:
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019;
        Miyato et al., "Spectral Normalization for Generative Adversarial
        Networks", ICLR 2018.
    """

    def __init__(
        self,
        filters,
        hidden_filters=128,
        kernel_size=3,
        param_free_norm="batch",
        spectral_norm=False,
        power_iterations=1,
        epsilon=1e-5,
        momentum=0.9,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
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
        self.spectral_norm = check_bool("spectral_norm", spectral_norm)
        self.power_iterations = check_int("power_iterations", power_iterations)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.momentum = check_float("momentum", momentum, 0.0, 1.0)

    def _spade(self, name):
        return SPADE(
            hidden_filters=self.hidden_filters,
            kernel_size=self.kernel_size,
            param_free_norm=self.param_free_norm,
            epsilon=self.epsilon,
            momentum=self.momentum,
            dtype=self.dtype_policy,
            name=name,
        )

    def _add_conv(self, name, shape, use_bias):
        kernel, bias = self.add_dense_weights(name, shape, use_bias=use_bias)
        u = None
        if self.spectral_norm:
            u = self.add_weight(
                name=f"{name}_u",
                shape=shape[-1:],
                initializer="random_normal",
                trainable=False,
                # Kept float32 under mixed precision: the iterations refine
                # a direction that bfloat16 would blur.
                autocast=False,
            )
        return kernel, bias, u

    def build(self, input_shape):
        x_shape, seg_shape = list_input_shapes(
            self, input_shape, ("x", "segmap")
        )
        if len(x_shape) != 4 or x_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (SPADEResBlock) expects features x of "
                "shape (batch, height, width, channels) with a defined "
                f"channel axis. Received x with shape {x_shape}."
            )
        if len(seg_shape) != 4 or seg_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (SPADEResBlock) expects a segmentation "
                "map of shape (batch, height, width, labels) with a defined "
                f"label axis. Received segmap with shape {seg_shape}."
            )
        channels = int(x_shape[-1])
        middle = min(channels, self.filters)
        k = self.kernel_size
        self.learned_shortcut = channels != self.filters

        self.norm_0 = self._spade("norm_0")
        self.norm_0.build([x_shape, seg_shape])
        self.conv_0 = self._add_conv(
            "conv_0", (k, k, channels, middle), self.use_bias
        )
        self.norm_1 = self._spade("norm_1")
        self.norm_1.build([x_shape[:3] + (middle,), seg_shape])
        self.conv_1 = self._add_conv(
            "conv_1", (k, k, middle, self.filters), self.use_bias
        )
        self.norm_s = self.conv_s = None
        if self.learned_shortcut:
            self.norm_s = self._spade("norm_s")
            self.norm_s.build([x_shape, seg_shape])
            self.conv_s = self._add_conv(
                "conv_s", (1, 1, channels, self.filters), False
            )
        self.input_spec = [
            keras.InputSpec(ndim=4, axes={-1: channels}),
            keras.InputSpec(ndim=4, axes={-1: int(seg_shape[-1])}),
        ]

    def _kernel(self, kernel, u, training):
        """The kernel, divided by its spectral-norm estimate if enabled."""
        if u is None:
            return kernel
        return spectrally_normalized(kernel, u, self.power_iterations, training)

    def _conv(self, inputs, conv, training):
        kernel, bias, u = conv
        kernel = self._kernel(kernel, u, training)
        outputs = ops.conv(inputs, kernel, strides=1, padding="same")
        return outputs if bias is None else outputs + bias

    def call(self, inputs, training=None):
        x, segmap = inputs
        check_same_batch(self, (x, segmap), ("x", "segmap"))
        dx = ops.leaky_relu(
            self.norm_0([x, segmap], training=training), LEAKY_SLOPE
        )
        dx = self._conv(dx, self.conv_0, training)
        dx = ops.leaky_relu(
            self.norm_1([dx, segmap], training=training), LEAKY_SLOPE
        )
        dx = self._conv(dx, self.conv_1, training)
        shortcut = x
        if self.learned_shortcut:
            shortcut = self._conv(
                self.norm_s([x, segmap], training=training),
                self.conv_s,
                training,
            )
        return shortcut + dx

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "hidden_filters": self.hidden_filters,
                "kernel_size": self.kernel_size,
                "param_free_norm": self.param_free_norm,
                "spectral_norm": self.spectral_norm,
                "power_iterations": self.power_iterations,
                "epsilon": self.epsilon,
                "momentum": self.momentum,
            }
        )
        return config
