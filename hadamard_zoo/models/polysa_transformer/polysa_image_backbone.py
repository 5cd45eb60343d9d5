"""The Poly-SA image backbone: a ViT whose token mixer is Poly-SA."""

import keras
from keras_hub.layers import PositionEmbedding
from keras_hub.models import Backbone

from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    embeddings_initializer,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    stack_blocks,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    MIXERS,
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
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int


def _check_image_shape(image_shape):
    if not isinstance(image_shape, (list, tuple)) or len(image_shape) != 3:
        raise ValueError(
            "`image_shape` must be a tuple of 3 integers >= 1 "
            "(height, width, channels). "
            f"Received: image_shape={image_shape!r}."
        )
    return tuple(check_int("image_shape", v) for v in image_shape)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySAImageBackbone(PresetNameMixin, Backbone):
    """Poly-SA image backbone: patches, then Poly-SA transformer blocks.

    A functional keras-hub `Backbone` in the shape of a ViT without class
    token: the image is cut into `patch_size x patch_size` patches, each
    linearly embedded (a convolution with kernel = stride = `patch_size`),
    learned position embeddings are added, and the tokens go through the
    blocks of `PolySATransformerBackbone` and a final layer normalization:

    ```
    x = Conv2D(hidden_dim, patch_size, strides=patch_size)(images)
    x = reshape(x, (T, hidden_dim)) + P          T = (H / p) (W / p)
    x = x + Mixer(LN_1(x));  x = x + W_o SwiGLU(LN_2(x)) + b_o   (per block)
    out = LN(x)
    ```

    `mixer="poly_sa"` uses `PolySA` (`Z = α X + β (φ((X W_1) * (X W_2)) *
    X) W_3`, `O(T d²)`), `mixer="attention"` multi-head self-attention
    (`O(T² d)`); nothing else changes, so the two are one argument apart.

    Args:
        image_shape: tuple of 3 ints, `(height, width, channels)`; height
            and width must be multiples of `patch_size`.
        patch_size: int, the side of the square patches.
        num_layers: int, the number of blocks.
        hidden_dim: int, the width `d` of the tokens.
        intermediate_dim: int, the width of each block's SwiGLU layer.
        mixer: `"poly_sa"` or `"attention"`. Defaults to `"poly_sa"`.
        num_heads: int, the attention heads (`mixer="attention"` only; must
            divide `hidden_dim`). Defaults to `4`.
        dropout: float in [0, 1), the dropout rate after the embeddings and
            on every residual branch. Defaults to `0.0`.
        layer_norm_epsilon: float > 0, ε of every layer normalization.
            Defaults to `1e-5`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        images: float tensor of shape `(batch,) + image_shape`, channels
            last.

    Returns:
        Tensor of shape `(batch, T, hidden_dim)`, one token per patch in
        row-major order, `T = (height // patch_size) * (width //
        patch_size)`.

    Example:

    >>> import numpy as np
    >>> backbone = PolySAImageBackbone(
    ...     image_shape=(8, 8, 3),
    ...     patch_size=4,
    ...     num_layers=1,
    ...     hidden_dim=16,
    ...     intermediate_dim=32,
    ... )
    >>> tuple(backbone(np.ones((2, 8, 8, 3), "float32")).shape)
    (2, 4, 16)

    Reference:
        Babiloni et al., "Linear Complexity Self-Attention with 3rd Order
        Polynomials", TPAMI 2023; Dosovitskiy et al., "An Image is Worth
        16x16 Words", ICLR 2021; Chrysos et al., "Hadamard product in deep
        learning", Eq. 9.
    """

    def __init__(
        self,
        image_shape,
        patch_size,
        num_layers,
        hidden_dim,
        intermediate_dim,
        mixer="poly_sa",
        num_heads=4,
        dropout=0.0,
        layer_norm_epsilon=1e-5,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        image_shape = _check_image_shape(image_shape)
        patch_size = check_int("patch_size", patch_size)
        height, width, _ = image_shape
        if height % patch_size or width % patch_size:
            raise ValueError(
                "The image height and width must be multiples of "
                "`patch_size` (the patches tile the image). Received: "
                f"image_shape={image_shape}, patch_size={patch_size}."
            )
        num_layers = check_int("num_layers", num_layers)
        hidden_dim = check_int("hidden_dim", hidden_dim)
        intermediate_dim = check_int("intermediate_dim", intermediate_dim)
        mixer = check_choice("mixer", mixer, MIXERS)
        num_heads = check_int("num_heads", num_heads)
        if mixer == "attention":
            check_heads(hidden_dim, num_heads)
        dropout = check_dropout("dropout", dropout)
        layer_norm_epsilon = check_epsilon(
            "layer_norm_epsilon", layer_norm_epsilon
        )
        num_patches = (height // patch_size) * (width // patch_size)

        # === Functional model ===
        images = keras.Input(shape=image_shape, name="images")
        x = keras.layers.Conv2D(
            hidden_dim,
            patch_size,
            strides=patch_size,
            padding="valid",
            data_format="channels_last",
            dtype=dtype,
            name="patch_embedding",
        )(images)
        x = keras.layers.Reshape(
            (num_patches, hidden_dim), dtype=dtype, name="to_tokens"
        )(x)
        positions = PositionEmbedding(
            sequence_length=num_patches,
            initializer=embeddings_initializer(),
            dtype=dtype,
            name="position_embedding",
        )(x)
        x = keras.layers.Add(dtype=dtype, name="add_positions")([x, positions])
        x = keras.layers.Dropout(
            dropout, dtype=dtype, name="embeddings_dropout"
        )(x)
        x = stack_blocks(
            x,
            None,
            num_layers,
            dtype,
            intermediate_dim=intermediate_dim,
            mixer=mixer,
            num_heads=num_heads,
            causal=False,
            dropout=dropout,
            layer_norm_epsilon=layer_norm_epsilon,
        )
        x = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, dtype=dtype, name="final_norm"
        )(x)
        super().__init__(inputs=images, outputs=x, dtype=dtype, **kwargs)

        # === Config ===
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.num_layers = num_layers
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.mixer = mixer
        self.num_heads = num_heads
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.num_patches = num_patches
        # Read by keras-hub's image preprocessing layers.
        self.data_format = "channels_last"

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": self.image_shape,
                "patch_size": self.patch_size,
                "num_layers": self.num_layers,
                "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim,
                "mixer": self.mixer,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "layer_norm_epsilon": self.layer_norm_epsilon,
            }
        )
        return config
