"""The pre-LayerNorm block shared by the Poly-SA text and image backbones."""

import keras
from keras import ops

from hadamard_zoo.layers.efficient.poly_sa import PolySA
from hadamard_zoo.layers.modulation.glu import SwiGLU
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

MIXERS = ("poly_sa", "attention")


def check_dropout(name, value):
    """A rate in [0, 1): a rate of 1 would drop every unit."""
    value = check_float(name, value, 0.0, 1.0)
    if value == 1.0:
        raise ValueError(
            f"`{name}` must be in [0, 1): a rate of 1 drops every unit. "
            f"Received: {name}={value}."
        )
    return value


def check_epsilon(name, value):
    """A float > 0 (a zero epsilon divides by zero on constant tokens)."""
    value = check_float(name, value, minimum=0.0)
    if value == 0.0:
        raise ValueError(
            f"`{name}` must be a float > 0. Received: {name}={value}."
        )
    return value


def check_heads(hidden_dim, num_heads):
    """Attention splits `hidden_dim` into `num_heads` equal heads."""
    if hidden_dim % num_heads:
        raise ValueError(
            '`mixer="attention"` splits `hidden_dim` into `num_heads` '
            "heads of `hidden_dim // num_heads` channels, so `hidden_dim` "
            "must be divisible by `num_heads`. Received: "
            f"hidden_dim={hidden_dim}, num_heads={num_heads}."
        )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATransformerBlock(keras.layers.Layer):
    """Pre-LayerNorm transformer block with a Poly-SA (or attention) mixer.

    A token mixer and a gated feed-forward network, each a pre-normalised
    residual branch:

    ```
    x = x + Dropout(Mixer(LN_1(x), mask))
    x = x + Dropout(W_o SwiGLU(LN_2(x)) + b_o)
    SwiGLU(u) = (u W + b) * Swish(u V + c)
    ```

    `Mixer` is `PolySA` (`mixer="poly_sa"`, the survey's Eq. 9
    `Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3`, linear in the number of
    tokens `N`) or `keras.layers.MultiHeadAttention` with
    `key_dim = hidden_dim // num_heads` (`mixer="attention"`, quadratic
    in `N`). Everything else is the same, so the two blocks are a
    one-argument comparison. `*` is the Hadamard product. Poly-SA keeps
    its own initialisation, `α = 1`, `β = 0`: its branch starts as
    `LN_1(x)` and its `W_i` train from the second step on.

    Masks: Poly-SA leaves padded tokens out of its average. Attention lets
    token `t` attend to the valid tokens (those `<= t` when causal) and
    always to itself, so no row of the attention is empty: an empty row
    would give a uniform row on some backends and NaN in torch's fused
    kernel. Valid tokens never see padded ones either way.

    Args:
        intermediate_dim: int, the width of the SwiGLU feed-forward layer.
        mixer: `"poly_sa"` or `"attention"`. Defaults to `"poly_sa"`.
        num_heads: int, the attention heads (`mixer="attention"` only;
            must divide the input width). Defaults to `4`.
        causal: bool, whether token `t` only sees tokens `<= t`. Defaults
            to `False`.
        dropout: float in [0, 1), the dropout rate of both residual
            branches. Defaults to `0.0`.
        layer_norm_epsilon: float > 0, ε of both layer normalizations.
            Defaults to `1e-5`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, N, hidden_dim)`.
        padding_mask: optional tensor of shape `(batch, N)`, bool or int,
            true (non-zero) at valid tokens.
        training: bool, whether dropout is active.

    Returns:
        Tensor of shape `(batch, N, hidden_dim)`.

    Example:

    >>> import numpy as np
    >>> block = PolySATransformerBlock(intermediate_dim=32, causal=True)
    >>> x = np.ones((2, 5, 16), "float32")
    >>> mask = np.arange(5) < np.array([[5], [3]])
    >>> tuple(block(x, padding_mask=mask).shape)
    (2, 5, 16)

    Reference:
        Babiloni et al., "Linear Complexity Self-Attention with 3rd Order
        Polynomials", TPAMI 2023; Chrysos et al., "Hadamard product in deep
        learning", Eq. 9; Shazeer, "GLU Variants Improve Transformer",
        arXiv:2002.05202, 2020; Xiong et al., "On Layer Normalization in the
        Transformer Architecture", ICML 2020 (pre-LN).
    """

    def __init__(
        self,
        intermediate_dim,
        mixer="poly_sa",
        num_heads=4,
        causal=False,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.intermediate_dim = check_int("intermediate_dim", intermediate_dim)
        self.mixer = check_choice("mixer", mixer, MIXERS)
        self.num_heads = check_int("num_heads", num_heads)
        self.causal = check_bool("causal", causal)
        self.dropout = check_dropout("dropout", dropout)
        self.layer_norm_epsilon = check_epsilon(
            "layer_norm_epsilon", layer_norm_epsilon
        )

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (PolySATransformerBlock) expects inputs "
                "of rank 3 (batch, N, hidden_dim) with a defined last axis. "
                f"Received input with shape {shape}."
            )
        hidden_dim = int(shape[-1])
        if self.mixer == "attention":
            check_heads(hidden_dim, self.num_heads)

        def norm(name):
            layer = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon,
                dtype=self.dtype_policy,
                name=name,
            )
            layer.build(shape)
            return layer

        self.mixer_norm = norm("mixer_norm")
        if self.mixer == "poly_sa":
            self.mixer_layer = PolySA(
                causal=self.causal, dtype=self.dtype_policy, name="mixer"
            )
            self.mixer_layer.build(shape)
        else:
            self.mixer_layer = keras.layers.MultiHeadAttention(
                num_heads=self.num_heads,
                key_dim=hidden_dim // self.num_heads,
                dtype=self.dtype_policy,
                name="mixer",
            )
            self.mixer_layer.build(shape, shape)
        self.mixer_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="mixer_dropout"
        )
        self.ffn_norm = norm("ffn_norm")
        self.ffn_gate = SwiGLU(
            self.intermediate_dim, dtype=self.dtype_policy, name="ffn_gate"
        )
        self.ffn_gate.build(shape)
        self.ffn_output = keras.layers.Dense(
            hidden_dim, dtype=self.dtype_policy, name="ffn_output"
        )
        self.ffn_output.build(shape[:-1] + (self.intermediate_dim,))
        self.ffn_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="ffn_dropout"
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: hidden_dim})

    def _attention_mask(self, inputs, padding_mask):
        """(batch, N, N) bool: valid keys [<= t], and always t itself."""
        positions = ops.arange(ops.shape(inputs)[1])
        rows = ops.expand_dims(positions, 1)
        cols = ops.expand_dims(positions, 0)
        mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
        if self.causal:
            mask = ops.logical_and(mask, ops.expand_dims(rows >= cols, 0))
        return ops.logical_or(mask, ops.expand_dims(rows == cols, 0))

    def _mix(self, x, padding_mask):
        if self.mixer == "poly_sa":
            if padding_mask is not None:
                padding_mask = ops.cast(padding_mask, "bool")
            return self.mixer_layer(x, mask=padding_mask)
        if padding_mask is None:
            return self.mixer_layer(x, x, use_causal_mask=self.causal)
        return self.mixer_layer(
            x, x, attention_mask=self._attention_mask(x, padding_mask)
        )

    def call(self, inputs, padding_mask=None, training=None):
        mixed = self._mix(self.mixer_norm(inputs), padding_mask)
        x = inputs + self.mixer_dropout(mixed, training=training)
        hidden = self.ffn_output(self.ffn_gate(self.ffn_norm(x)))
        return x + self.ffn_dropout(hidden, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "mixer": self.mixer,
                "num_heads": self.num_heads,
                "causal": self.causal,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
