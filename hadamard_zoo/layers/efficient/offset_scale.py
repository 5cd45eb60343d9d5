"""OffsetScale: cheap per-dimension affine heads of one shared input."""

import keras
from keras import ops

from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class OffsetScale(keras.layers.Layer):
    """`heads` per-dimension affine maps of one input (FLASH's OffsetScale).

    FLASH shares one projection `Z` between queries and keys and tells them
    apart with a per-dimension scale and offset, a Hadamard product with a
    learned vector instead of a second `d × s` matrix:

    ```
    out_h = x * γ_h + β_h,     h = 1..heads
    ```

    where `*` is the Hadamard product and `γ_h`, `β_h` are vectors of the
    size of the last axis. The gated attention unit uses two heads
    (`Q`, `K`), mixed chunk attention four (quadratic and linear `Q`, `K`).

    Args:
        heads: int >= 1, the number of outputs.
        gamma_initializer: initializer of the scales `γ`. Defaults to
            `RandomNormal(stddev=0.02)`, as in the paper's pseudocode.
        beta_initializer: initializer of the offsets `β`. Defaults to
            `"zeros"`.
        gamma_regularizer: optional regularizer of `γ`.
        beta_regularizer: optional regularizer of `β`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        A list of `heads` tensors, each of the input's shape.

    Weights:
        `gamma` and `beta`, both `(heads, d)`; row `h` belongs to output `h`.

    Example:

    >>> import numpy as np
    >>> q, k = OffsetScale(heads=2)(np.ones((2, 5, 8), "float32"))
    >>> tuple(q.shape), tuple(k.shape)
    ((2, 5, 8), (2, 5, 8))

    Reference:
        Hua et al., "Transformer Quality in Linear Time", ICML 2022,
        section 2 and appendix (pseudocode `scale_offset`).
    """

    def __init__(
        self,
        heads=1,
        gamma_initializer=None,
        beta_initializer="zeros",
        gamma_regularizer=None,
        beta_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.heads = check_int("heads", heads)
        if gamma_initializer is None:
            gamma_initializer = keras.initializers.RandomNormal(stddev=0.02)
        self.gamma_initializer = get_initializer(
            gamma_initializer, "gamma_initializer"
        )
        self.beta_initializer = get_initializer(
            beta_initializer, "beta_initializer"
        )
        self.gamma_regularizer = keras.regularizers.get(gamma_regularizer)
        self.beta_regularizer = keras.regularizers.get(beta_regularizer)

    def build(self, input_shape):
        dim = last_axis(self, input_shape, min_rank=1)
        self.gamma = self.add_weight(
            name="gamma",
            shape=(self.heads, dim),
            initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer,
        )
        self.beta = self.add_weight(
            name="beta",
            shape=(self.heads, dim),
            initializer=self.beta_initializer,
            regularizer=self.beta_regularizer,
        )
        self.input_spec = keras.InputSpec(min_ndim=1, axes={-1: dim})

    def call(self, inputs):
        gamma = ops.cast(self.gamma, inputs.dtype)
        beta = ops.cast(self.beta, inputs.dtype)
        return [inputs * gamma[h] + beta[h] for h in range(self.heads)]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape)] * self.heads

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "heads": self.heads,
                "gamma_initializer": keras.initializers.serialize(
                    self.gamma_initializer
                ),
                "beta_initializer": keras.initializers.serialize(
                    self.beta_initializer
                ),
                "gamma_regularizer": keras.regularizers.serialize(
                    self.gamma_regularizer
                ),
                "beta_regularizer": keras.regularizers.serialize(
                    self.beta_regularizer
                ),
            }
        )
        return config
