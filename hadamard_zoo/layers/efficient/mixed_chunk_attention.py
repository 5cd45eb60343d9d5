"""Mixed chunk attention: FLASH's linear-time gated attention unit."""

import keras
from keras import ops

from hadamard_zoo.layers.efficient.gated_attention_unit import (
    GatedAttentionUnit,
)
from hadamard_zoo.layers.efficient.gated_attention_unit import attention_kernel
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MixedChunkAttention(GatedAttentionUnit):
    """FLASH: a gated attention unit with linear-time mixed chunk attention.

    The sequence is cut into chunks of `G = chunk_size` positions. Inside a
    chunk, tokens attend to each other with the GAU's quadratic squared
    ReLU; across chunks, a linear attention (no feature map) carries a
    `s × e` summary, so the cost is `O(N G)` instead of `O(N²)`. With
    `U`, `V`, `Z` as in `GatedAttentionUnit` and four OffsetScale heads
    `Q_quad, K_quad, Q_lin, K_lin = Z * γ_h + β_h`, for chunk `g`:

    ```
    quad_g = relu(Q_quad,g K_quad,gᵀ / G)² V_g        (G × G per chunk)
    lin_g  = Q_lin,g (Σ_h K_lin,hᵀ V_h) / N           (all chunks h)
    lin_g  = Q_lin,g (Σ_{h<g} K_lin,hᵀ V_h) / G       (causal=True)
    O      = (U * (quad + lin)) W_o
    ```

    where `*` is the Hadamard product. Causal: the quadratic part is
    masked to the lower triangle inside each chunk, and the linear part
    sums the previous chunks only (an exclusive cumulative sum), so no
    output depends on a later token or on the sequence length. These
    normalisers are those of the paper's pseudocode and of
    lucidrains/FLASH-pytorch: `G` for the quadratic part even when
    `N < G` (the sequence is padded to a multiple of `G` internally),
    `N` (the valid tokens, with a mask) for the non-causal linear part.
    With `chunk_size = N` and no mask, the quadratic part is exactly the
    GAU's attention; the linear part then adds the global term (non-causal)
    or nothing (causal: there is no earlier chunk).

    Padded and masked positions contribute nothing: they are zeroed as
    keys (after the attention function) and in `K_lin`. As for the GAU,
    LayerNorm and the residual belong to the surrounding block,
    `x = x + MixedChunkAttention()(LayerNormalization()(x))`; relative
    position bias and dropout are left out.

    Args:
        chunk_size: int >= 1, the chunk length `G`. Defaults to 256, as in
            the paper.
        expansion_factor: positive number, `e / d`. Defaults to 2.
        key_dim: int >= 1, the size `s` of `Z` and the four heads.
            Defaults to 128.
        causal: bool, whether position `i` only sees positions `j <= i`.
            Defaults to `False`.
        attention_activation: `"relu_squared"` or `"laplace"`, the
            function of the quadratic part (see `GatedAttentionUnit`).
            Defaults to `"relu_squared"`.
        use_bias: bool, whether the projections have biases. Defaults to
            `True`.
        kernel_initializer: initializer of the projection kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, N, d)`; `N` may be unknown and
            need not be a multiple of `chunk_size`.
        mask: optional `(batch, N)` boolean tensor, `True` for valid
            positions.

    Returns:
        Tensor of shape `(batch, N, d)`; the attention runs in float32
        under mixed precision.

    Weights:
        As `GatedAttentionUnit`, with `offset_scale/gamma` and
        `offset_scale/beta` of shape `(4, s)` (rows: `Q_quad`, `K_quad`,
        `Q_lin`, `K_lin`).

    Example:

    >>> import numpy as np
    >>> layer = MixedChunkAttention(chunk_size=4, key_dim=16, causal=True)
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 8))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 10, 8)

    Reference:
        Hua et al., "Transformer Quality in Linear Time", ICML 2022,
        section 3 (mixed chunk attention) and appendix pseudocode.
    """

    _qk_heads = 4

    def __init__(self, chunk_size=256, **kwargs):
        super().__init__(**kwargs)
        self.chunk_size = check_int("chunk_size", chunk_size)

    def _attend(self, heads, v, valid):
        g = self.chunk_size
        quad_q, quad_k, lin_q, lin_k = heads
        batch, n = ops.shape(v)[0], ops.shape(v)[1]
        count = ops.maximum(ops.sum(valid, axis=1), 1.0)
        # Zero padding after OffsetScale, so the offsets β do not turn the
        # padded rows into keys; the mask removes them from both parts.
        lin_k = lin_k * valid[..., None]
        padding = (-n) % g

        def chunks(x):
            x = ops.pad(x, ((0, 0), (0, padding), (0, 0)))
            return ops.reshape(x, (batch, -1, g, ops.shape(x)[-1]))

        quad_q, quad_k, lin_q, lin_k, v = (
            chunks(x) for x in (quad_q, quad_k, lin_q, lin_k, v)
        )
        key_valid = ops.reshape(
            ops.pad(valid, ((0, 0), (0, padding))), (batch, -1, 1, g)
        )

        scores = ops.einsum("bcis,bcjs->bcij", quad_q, quad_k) / g
        weights = attention_kernel(scores, self.attention_activation)
        weights = weights * key_valid
        if self.causal:
            positions = ops.arange(g)
            lower = positions[:, None] >= positions[None, :]
            weights = weights * ops.cast(lower, weights.dtype)
        quadratic = ops.einsum("bcij,bcje->bcie", weights, v)

        if self.causal:
            kv = ops.einsum("bcjs,bcje->bcse", lin_k, v) / g
            # Chunk c sees the chunks before it: an exclusive cumsum.
            kv = ops.cumsum(
                ops.concatenate([ops.zeros_like(kv[:, :1]), kv[:, :-1]], 1),
                axis=1,
            )
            linear = ops.einsum("bcis,bcse->bcie", lin_q, kv)
        else:
            kv = ops.einsum("bcjs,bcje->bse", lin_k, v)
            kv = kv / count[:, None, None]
            linear = ops.einsum("bcis,bse->bcie", lin_q, kv)

        out = quadratic + linear
        out = ops.reshape(out, (batch, -1, ops.shape(out)[-1]))
        return out[:, :n]

    def get_config(self):
        config = super().get_config()
        config["chunk_size"] = self.chunk_size
        return config
