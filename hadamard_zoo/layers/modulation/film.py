"""Feature-wise linear modulation (FiLM) by a conditioning vector."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation._inputs import check_same_batch
from hadamard_zoo.layers.modulation._inputs import list_input_shapes
from hadamard_zoo.utils.validation import check_bool


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class FiLM(DenseWeightsLayer):
    """Feature-wise linear modulation: a per-channel affine map from `c`.

    A conditioning vector `c` (a question embedding, a class, a style ...)
    is mapped by two dense maps to a per-channel scale `γ(c)` and shift
    `β(c)` that modulate the features `x`:

    ```
    γ(c) = c W_γ + b_γ,   β(c) = c W_β + b_β
    y = γ(c) * x + β(c)                 (residual_scale=False)
    y = (1 + γ(c)) * x + β(c)           (residual_scale=True)
    ```

    where `*` is the Hadamard product, broadcast over every axis of `x`
    between the batch and the channels (the positions of a sequence, the
    pixels of an image). Each channel of `x` is scaled and shifted by a
    function of `c` alone, so the conditioning gates whole feature maps on
    or off. `residual_scale=True` predicts the deviation of the scale from
    1, the form most implementations use: with small weights at
    initialisation the layer starts close to the identity. Both maps are
    computed with one matmul on the concatenated kernels `[W_γ, W_β]`.

    Args:
        residual_scale: bool, whether the scale is `1 + γ(c)` instead of
            `γ(c)`. Defaults to `False` (the paper's equation).
        use_bias: bool, whether the two maps have biases `b_γ`, `b_β`.
            Defaults to `True`.
        kernel_initializer: initializer of `W_γ` and `W_β`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b_γ` and `b_β`. Defaults to
            `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, c]`: the features `x` of shape
            `(batch, ..., channels)` (rank >= 2, channels last) and the
            conditioning `c` of shape `(batch, d_c)`.

    Returns:
        Tensor of the shape of `x`.

    Weights:
        `gamma_kernel` `W_γ` and `beta_kernel` `W_β`, both
        `(d_c, channels)`; `gamma_bias` `b_γ` and `beta_bias` `b_β`, both
        `(channels,)`.

    Example:

    >>> import numpy as np
    >>> layer = FiLM(residual_scale=True)
    >>> x = np.ones((2, 8, 8, 16), "float32")
    >>> c = np.ones((2, 10), "float32")
    >>> tuple(layer([x, c]).shape)
    (2, 8, 8, 16)

    Reference:
        Perez et al., "FiLM: Visual Reasoning with a General Conditioning
        Layer", AAAI 2018;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(self, residual_scale=False, **kwargs):
        super().__init__(**kwargs)
        self.residual_scale = check_bool("residual_scale", residual_scale)

    def build(self, input_shape):
        x_shape, c_shape = list_input_shapes(self, input_shape, ("x", "c"))
        if len(x_shape) < 2 or x_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (FiLM) expects features x of rank >= 2 "
                "(batch, ..., channels) with a defined channel axis. "
                f"Received x with shape {x_shape}."
            )
        if len(c_shape) != 2 or c_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (FiLM) expects a conditioning vector c "
                "of shape (batch, d_c) with a defined last axis. Received c "
                f"with shape {c_shape}."
            )
        channels, cond_dim = int(x_shape[-1]), int(c_shape[-1])
        shape = (cond_dim, channels)
        self.gamma_kernel, self.gamma_bias = self.add_dense_weights(
            "gamma", shape
        )
        self.beta_kernel, self.beta_bias = self.add_dense_weights("beta", shape)
        self.input_spec = [
            keras.InputSpec(min_ndim=2, axes={-1: channels}),
            keras.InputSpec(ndim=2, axes={-1: cond_dim}),
        ]

    def call(self, inputs):
        x, c = inputs
        check_same_batch(self, (x, c), ("x", "c"))
        # γ and β read the same input: one matmul computes both.
        kernel = ops.concatenate([self.gamma_kernel, self.beta_kernel], -1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.gamma_bias, self.beta_bias], -1)
        gamma, beta = ops.split(self.dense(c, kernel, bias), 2, axis=-1)
        # (batch, channels) -> (batch, 1, ..., 1, channels).
        broadcast = (-1,) + (1,) * (len(x.shape) - 2) + (gamma.shape[-1],)
        gamma = ops.reshape(gamma, broadcast)
        beta = ops.reshape(beta, broadcast)
        if self.residual_scale:
            return x * (1.0 + gamma) + beta
        return x * gamma + beta

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["residual_scale"] = self.residual_scale
        return config
