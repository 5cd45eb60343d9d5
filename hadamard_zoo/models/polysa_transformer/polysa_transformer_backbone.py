"""The Poly-SA transformer backbone: a text encoder of Poly-SA blocks."""

import keras
from keras_hub.models import Backbone

from hadamard_zoo.models.polysa_transformer.polysa_layers import (
    PolySATokenAndPositionEmbedding,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    MIXERS,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    PolySATransformerBlock,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    check_dropout,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    check_epsilon,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    check_heads,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int


def embeddings_initializer():
    return keras.initializers.TruncatedNormal(stddev=0.02)


def stack_blocks(x, padding_mask, num_layers, dtype, **block_kwargs):
    """`num_layers` blocks named `block0`, `block1`, ... applied to `x`."""
    for i in range(num_layers):
        block = PolySATransformerBlock(
            dtype=dtype, name=f"block{i}", **block_kwargs
        )
        x = block(x, padding_mask=padding_mask)
    return x


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATransformerBackbone(PresetNameMixin, Backbone):
    """Poly-SA transformer: a text encoder whose token mixer is Poly-SA.

    A functional keras-hub `Backbone`: token and learned position
    embeddings, `num_layers` pre-LayerNorm blocks and a final layer
    normalization. Each block is (see `PolySATransformerBlock`)

    ```
    x = x + Mixer(LN_1(x), padding_mask)
    x = x + W_o SwiGLU(LN_2(x)) + b_o
    ```

    With `mixer="poly_sa"` the mixer is `PolySA`, the survey's Eq. 9,

    ```
    Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3,   φ = mean over tokens
    ```

    (`*` the Hadamard product): each output is a 3rd-order polynomial of
    all tokens, in `O(N d²)` time and `O(N d)` memory for `N` tokens.
    `mixer="attention"` swaps in `keras.layers.MultiHeadAttention(
    num_heads, key_dim=hidden_dim // num_heads)` (`O(N² d)`), with the
    same masks, and changes nothing else: the two models are one argument
    apart, a self-comparison of the two token mixers.

    Padded tokens (`padding_mask` false) are left out of Poly-SA's average
    and are not attended to, so they never change the valid tokens'
    outputs; their own outputs are computed but meaningless. With
    `causal=True` token `t` only sees tokens `<= t`.

    Args:
        vocabulary_size: int, the number of token ids.
        num_layers: int, the number of blocks.
        hidden_dim: int, the width `d` of the tokens.
        intermediate_dim: int, the width of each block's SwiGLU
            feed-forward layer.
        max_sequence_length: int, the longest sequence (the rows of the
            position embedding); longer inputs raise a `ValueError`.
            Defaults to `512`.
        mixer: `"poly_sa"` or `"attention"`. Defaults to `"poly_sa"`.
        num_heads: int, the attention heads (`mixer="attention"` only; must
            divide `hidden_dim`; kept in the config either way, so the two
            mixers differ by `mixer` alone). Defaults to `4`.
        causal: bool, whether token `t` only sees tokens `<= t`. Defaults
            to `False`.
        dropout: float in [0, 1), the dropout rate after the embeddings and
            on every residual branch. Defaults to `0.0`.
        layer_norm_epsilon: float > 0, ε of every layer normalization.
            Defaults to `1e-5`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        inputs: dict with `"token_ids"`, int tensor of shape `(batch, N)`,
            and `"padding_mask"`, bool or int tensor of shape `(batch, N)`,
            true (non-zero) at valid tokens. `N <= max_sequence_length`.

    Returns:
        Tensor of shape `(batch, N, hidden_dim)`, the sequence output.

    Example:

    >>> import numpy as np
    >>> backbone = PolySATransformerBackbone(
    ...     vocabulary_size=100,
    ...     num_layers=2,
    ...     hidden_dim=16,
    ...     intermediate_dim=32,
    ...     max_sequence_length=12,
    ... )
    >>> inputs = {
    ...     "token_ids": np.ones((2, 12), "int32"),
    ...     "padding_mask": np.arange(12) < np.array([[12], [5]]),
    ... }
    >>> tuple(backbone(inputs).shape)
    (2, 12, 16)

    Reference:
        Babiloni et al., "Linear Complexity Self-Attention with 3rd Order
        Polynomials", TPAMI 2023; Babiloni et al., "Poly-NL: Linear
        Complexity Non-local Layers with 3rd Order Polynomials", ICCV 2021;
        Chrysos et al., "Hadamard product in deep learning", Eq. 9.
    """

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        hidden_dim,
        intermediate_dim,
        max_sequence_length=512,
        mixer="poly_sa",
        num_heads=4,
        causal=False,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        vocabulary_size = check_int("vocabulary_size", vocabulary_size)
        num_layers = check_int("num_layers", num_layers)
        hidden_dim = check_int("hidden_dim", hidden_dim)
        intermediate_dim = check_int("intermediate_dim", intermediate_dim)
        max_sequence_length = check_int(
            "max_sequence_length", max_sequence_length
        )
        mixer = check_choice("mixer", mixer, MIXERS)
        num_heads = check_int("num_heads", num_heads)
        if mixer == "attention":
            check_heads(hidden_dim, num_heads)
        causal = check_bool("causal", causal)
        dropout = check_dropout("dropout", dropout)
        layer_norm_epsilon = check_epsilon(
            "layer_norm_epsilon", layer_norm_epsilon
        )

        # === Layers ===
        self.embeddings = PolySATokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size,
            sequence_length=max_sequence_length,
            embedding_dim=hidden_dim,
            embeddings_initializer=embeddings_initializer(),
            dtype=dtype,
            name="embeddings",
        )
        self.token_embedding = self.embeddings.token_embedding

        # === Functional model ===
        token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
        padding_mask = keras.Input(
            shape=(None,), dtype="int32", name="padding_mask"
        )
        x = self.embeddings(token_ids)
        x = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )(x)
        x = stack_blocks(
            x,
            padding_mask,
            num_layers,
            dtype,
            intermediate_dim=intermediate_dim,
            mixer=mixer,
            num_heads=num_heads,
            causal=causal,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
        )
        sequence_output = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="final_norm"
        )(x)
        super().__init__(
            inputs={"token_ids": token_ids, "padding_mask": padding_mask},
            outputs=sequence_output,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.max_sequence_length = max_sequence_length
        self.mixer = mixer
        self.num_heads = num_heads
        self.causal = causal
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "max_sequence_length": self.max_sequence_length,
                "mixer": self.mixer,
                "num_heads": self.num_heads,
                "causal": self.causal,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
