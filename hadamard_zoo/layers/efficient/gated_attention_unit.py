"""Gated attention unit (GAU): a gate times squared-ReLU attention."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.efficient.offset_scale import OffsetScale
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

ATTENTION_ACTIVATIONS = ("relu_squared", "laplace")

# Mega's Laplace attention function matches relu(x)² near x = √½.
_LAPLACE_MU = math.sqrt(0.5)
_LAPLACE_SIGMA = math.sqrt(1.0 / (4.0 * math.pi))


def attention_kernel(scores, name):
    """The attention function applied to the scaled scores."""
    if name == "relu_squared":
        return ops.square(ops.relu(scores))
    z = (scores - _LAPLACE_MU) / (_LAPLACE_SIGMA * math.sqrt(2.0))
    return 0.5 * (1.0 + ops.erf(z))


def core_dtype(layer):
    """float32 under mixed precision: attention sums N products."""
    dtype = layer.compute_dtype
    return "float32" if dtype in ("float16", "bfloat16") else dtype


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GatedAttentionUnit(DenseWeightsLayer):
    """Gated attention unit: `(U * (A V)) W_o` with squared-ReLU attention.

    GAU merges a transformer's attention and feed-forward block into one
    gated linear unit whose value path is mixed across positions by a
    single-head attention. With `X` of shape `(N, d)`:

    ```
    U = silu(X W_u),  V = silu(X W_v)              (d → e, e = ef · d)
    Z = silu(X W_z)                                (d → s, s = key_dim)
    Q = Z * γ_q + β_q,  K = Z * γ_k + β_k          (OffsetScale, 2 heads)
    A = relu(Q Kᵀ / N)²                            (N × N)
    O = (U * (A V)) W_o                            (e → d)
    ```

    where `*` is the Hadamard product. The gate `U` multiplies the attended
    values element-wise, which is why one head with a small `s` suffices.
    `causal=True` zeroes `A` above the diagonal (`A ∘ R`, `R` the lower
    triangle of ones). With a padding `mask`, masked keys get weight 0 and
    `N` counts the valid keys of each sequence, so right-padding leaves
    the outputs at valid positions unchanged. `N` is the full length also
    when causal (as in the paper): earlier outputs do not depend on later
    tokens' values, but they scale with the length, so use
    `MixedChunkAttention` (constant normalisers) for decoding.

    As in the paper's equations, the layer is the unit alone: the
    normalisation and the residual belong to the block around it,

    ```
    x = x + GatedAttentionUnit()(LayerNormalization()(x))
    ```

    Relative position bias and attention dropout are left out.

    Args:
        expansion_factor: positive number, `e / d`. Defaults to 2.
        key_dim: int >= 1, the size `s` of `Z`, `Q` and `K`. Defaults to
            128, as in the paper.
        causal: bool, whether position `i` only attends to `j <= i`.
            Defaults to `False`.
        attention_activation: `"relu_squared"` (the paper) or `"laplace"`
            (Ma et al.'s Mega: `0.5 (1 + erf((x - μ) / (σ√2)))`,
            `μ = √½`, `σ = √(1/4π)`). Defaults to `"relu_squared"`.
        use_bias: bool, whether the projections have biases. Defaults to
            `True`.
        kernel_initializer: initializer of the projection kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, N, d)`; `N` may be unknown.
        mask: optional `(batch, N)` boolean tensor, `True` for valid
            positions (a Keras mask is passed along automatically).

    Returns:
        Tensor of shape `(batch, N, d)`. Positions that are masked get an
        output too (they still query the valid keys); the mask is passed
        on unchanged. The attention runs in float32 under mixed precision.

    Weights:
        `u_kernel`, `v_kernel` `(d, e)`, `z_kernel` `(d, s)`,
        `output_kernel` `(e, d)` and their biases; `offset_scale/gamma`
        and `offset_scale/beta` `(2, s)` (rows: `Q`, `K`).

    Example:

    >>> import numpy as np
    >>> layer = GatedAttentionUnit(key_dim=16, causal=True)
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 8))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 10, 8)

    Reference:
        Hua et al., "Transformer Quality in Linear Time", ICML 2022,
        section 2 (Eq. 1-5) and appendix pseudocode.
    """

    _qk_heads = 2

    def __init__(
        self,
        expansion_factor=2,
        key_dim=128,
        causal=False,
        attention_activation="relu_squared",
        **kwargs,
    ):
        super().__init__(**kwargs)
        expansion_factor = check_float("expansion_factor", expansion_factor)
        if not (expansion_factor > 0 and math.isfinite(expansion_factor)):
            raise ValueError(
                "`expansion_factor` must be a finite number > 0. "
                f"Received: expansion_factor={expansion_factor}."
            )
        self.expansion_factor = expansion_factor
        self.key_dim = check_int("key_dim", key_dim)
        self.causal = check_bool("causal", causal)
        self.attention_activation = check_choice(
            "attention_activation",
            attention_activation,
            ATTENTION_ACTIVATIONS,
        )
        self.offset_scale = OffsetScale(
            heads=self._qk_heads, name="offset_scale", dtype=self.dtype_policy
        )
        self.supports_masking = True

    def build(self, input_shape):
        shape = tuple(input_shape)
        name = type(self).__name__
        if len(shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' ({name}) expects `inputs` of rank 3, "
                f"(batch, N, d). Received inputs with shape {shape}."
            )
        if shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' ({name}) needs the last axis of "
                f"`inputs` to be defined. Received shape {shape}."
            )
        dim = int(shape[-1])
        hidden = int(self.expansion_factor * dim)
        if hidden < 1:
            raise ValueError(
                f"`expansion_factor` * d must be >= 1. Received: "
                f"expansion_factor={self.expansion_factor}, d={dim}."
            )
        self.hidden_dim = hidden
        self.u_kernel, self.u_bias = self.add_dense_weights("u", (dim, hidden))
        self.v_kernel, self.v_bias = self.add_dense_weights("v", (dim, hidden))
        self.z_kernel, self.z_bias = self.add_dense_weights(
            "z", (dim, self.key_dim)
        )
        self.offset_scale.build(shape[:-1] + (self.key_dim,))
        self.output_kernel, self.output_bias = self.add_dense_weights(
            "output", (hidden, dim)
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: dim})

    # ---------------------------------------------------------------- call

    def call(self, inputs, mask=None):
        # U, V and Z read the same input: one matmul computes all three.
        kernel = ops.concatenate(
            [self.u_kernel, self.v_kernel, self.z_kernel], axis=-1
        )
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.u_bias, self.v_bias, self.z_bias])
        uvz = ops.silu(self.dense(inputs, kernel, bias))
        e = self.hidden_dim
        u, v, z = uvz[..., :e], uvz[..., e : 2 * e], uvz[..., 2 * e :]
        heads = self.offset_scale(z)

        dtype = core_dtype(self)
        heads = [ops.cast(h, dtype) for h in heads]
        v = ops.cast(v, dtype)
        valid = self._valid(inputs, mask, dtype)
        attended = self._attend(heads, v, valid)
        gated = u * ops.cast(attended, u.dtype)
        return self.dense(gated, self.output_kernel, self.output_bias)

    def _valid(self, inputs, mask, dtype):
        """The mask as 0/1 of `dtype`, shape (batch, N); ones if None."""
        if mask is None:
            return ops.ones(ops.shape(inputs)[:2], dtype)
        mask_shape = tuple(mask.shape)
        input_shape = tuple(inputs.shape)
        if len(mask_shape) != 2 or any(
            m is not None and i is not None and m != i
            for m, i in zip(mask_shape, input_shape[:2], strict=True)
        ):
            raise ValueError(
                f"`mask` must have shape (batch, N) = {input_shape[:2]}, "
                f"the first two axes of `inputs`. Received: mask with shape "
                f"{mask_shape}."
            )
        return ops.cast(ops.cast(mask, "bool"), dtype)

    def _attend(self, heads, v, valid):
        """A V with A = f(Q Kᵀ / N), masked keys (and the future) zeroed."""
        q, k = heads
        # N counts the valid keys; max(., 1) keeps all-masked rows finite.
        count = ops.maximum(ops.sum(valid, axis=1), 1.0)
        scores = ops.einsum("bis,bjs->bij", q, k) / count[:, None, None]
        weights = attention_kernel(scores, self.attention_activation)
        # Zeroed after the kernel: laplace(0) is not 0.
        weights = weights * valid[:, None, :]
        if self.causal:
            n = ops.shape(q)[1]
            positions = ops.arange(n)
            lower = positions[:, None] >= positions[None, :]
            weights = weights * ops.cast(lower, weights.dtype)
        return ops.einsum("bij,bje->bie", weights, v)

    # -------------------------------------------------------------- shapes

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "expansion_factor": self.expansion_factor,
                "key_dim": self.key_dim,
                "causal": self.causal,
                "attention_activation": self.attention_activation,
            }
        )
        return config
