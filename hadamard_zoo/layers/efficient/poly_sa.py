"""Poly-SA: linear-complexity self-attention from a 3rd-order polynomial."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.utils.validation import check_bool


class _PolyMixing(DenseWeightsLayer):
    """The weights and maths that `PolySA` and `PolyNL` share.

    Every axis between the batch and the channels is a token axis; the
    subclass fixes the input rank (`_input_rank`) and whether the pooling
    is causal (`_causal`, sequences only).
    """

    _input_rank = 3
    _input_layout = "(batch, tokens, channels)"

    def __init__(
        self,
        use_bias=False,
        alpha_initializer="ones",
        beta_initializer="zeros",
        **kwargs,
    ):
        super().__init__(use_bias=use_bias, **kwargs)
        self.alpha_initializer = get_initializer(
            alpha_initializer, "alpha_initializer"
        )
        self.beta_initializer = get_initializer(
            beta_initializer, "beta_initializer"
        )
        self._causal = False
        self.supports_masking = True

    # ------------------------------------------------------------ building

    def _check_rank(self, shape):
        shape = tuple(shape)
        if len(shape) != self._input_rank:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects "
                f"`inputs` of rank {self._input_rank}, "
                f"{self._input_layout}. Received inputs with shape {shape}."
            )
        return shape

    def build(self, input_shape):
        shape = self._check_rank(input_shape)
        if shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) needs the last "
                f"axis of `inputs` to be defined. Received shape {shape}."
            )
        channels = int(shape[-1])
        for name in ("w1", "w2", "w3"):
            kernel, bias = self.add_dense_weights(name, (channels, channels))
            setattr(self, f"{name}_kernel", kernel)
            setattr(self, f"{name}_bias", bias)
        self.alpha = self.add_weight(
            name="alpha",
            shape=(),
            initializer=self._reseeded(self.alpha_initializer),
        )
        self.beta = self.add_weight(
            name="beta",
            shape=(),
            initializer=self._reseeded(self.beta_initializer),
        )
        self.input_spec = keras.InputSpec(
            ndim=self._input_rank, axes={-1: channels}
        )

    # ---------------------------------------------------------------- call

    def _check_mask(self, inputs, mask):
        if mask is None:
            return
        expected = tuple(inputs.shape[:-1])
        shape = tuple(mask.shape)
        if len(shape) != len(expected) or any(
            m is not None and e is not None and m != e
            for m, e in zip(shape, expected, strict=True)
        ):
            layout = self._input_layout.replace(", channels", "")
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects `mask` "
                f"of shape {layout} = {expected}: the shape of `inputs` "
                f"without its channel axis. Received mask with shape {shape}."
            )

    def call(self, inputs, mask=None):
        self._check_mask(inputs, mask)
        if self._input_rank == 3:
            return self._mix(inputs, mask)
        shape = ops.shape(inputs)
        tokens = ops.reshape(inputs, (shape[0], -1, shape[-1]))
        if mask is not None:
            mask = ops.reshape(mask, (shape[0], -1))
        return ops.reshape(self._mix(tokens, mask), shape)

    def _mix(self, tokens, mask):
        """Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3 on (B, N, C) tokens."""
        # The pooling adds up N terms: bfloat16's 8-bit mantissa would lose
        # most of them for long sequences, so it accumulates in float32.
        dtype = self.compute_dtype
        if dtype in ("float16", "bfloat16"):
            dtype = "float32"
        if self._causal:
            pooled = self._causal_pooling(tokens, mask, dtype)
        else:
            pooled = self._global_pooling(tokens, mask, dtype)
        pooled = ops.cast(pooled, tokens.dtype)
        modulated = pooled * tokens
        if _single_example(tokens):  # a 2-D product: see `_gram_matrix`
            y = self.dense(modulated[0], self.w3_kernel, self.w3_bias)[None]
        else:
            y = self.dense(modulated, self.w3_kernel, self.w3_bias)
        return self.alpha * tokens + self.beta * y

    def _global_pooling(self, tokens, mask, dtype):
        """φ = mean_N((X W_1 + b_1) * (X W_2 + b_2)), through X's Gram matrix.

        mean_t (x_t W_1)_c (x_t W_2)_c = Σ_ij W_1[i, c] G[i, j] W_2[j, c]
        with G = Xᵀ X / N: the pooled product costs one N·C² product (G)
        and C³ work instead of two N·C² projections, so a forward and
        backward pass does 5 N·C² products instead of 9 (a Dense layer
        does 3), and no (N, 2C) intermediate is stored.
        """
        x = ops.cast(tokens, dtype)
        if mask is None:
            count = ops.cast(ops.shape(x)[1], dtype)
        else:
            valid = ops.expand_dims(ops.cast(mask, "bool"), -1)
            # `where`, not `* mask`: a padded token holding inf or NaN must
            # not leak into the sums through 0 * inf.
            x = ops.where(valid, x, ops.zeros_like(x))
            count = ops.sum(ops.cast(valid, dtype), axis=1, keepdims=True)
        # No valid token: every sum is 0 and so is φ, never 0 / 0.
        scale = 1.0 / ops.maximum(count, 1.0)
        gram = _gram_matrix(x) * scale  # (B, C, C)
        w1 = ops.cast(self.w1_kernel, dtype)
        w2 = ops.cast(self.w2_kernel, dtype)
        # An einsum, not `sum(w1 * (G W_2), axis=1)`: jaxlib 0.10.2's CPU
        # compiler fuses that reduction with the `pooled * tokens` product
        # that follows and returns wrong values for half of the batch when
        # B >= 6 and C >= 128 (tests/layers/efficient/test_poly_sa.py).
        pooled = ops.einsum("ic,bic->bc", w1, ops.matmul(gram, w2))
        pooled = ops.expand_dims(pooled, 1)  # (B, 1, C)
        if self.use_bias:
            b1 = ops.cast(self.w1_bias, dtype)
            b2 = ops.cast(self.w2_bias, dtype)
            mean = ops.sum(x, axis=1, keepdims=True) * scale  # (B, 1, C)
            any_valid = ops.cast(count > 0, dtype)
            pooled = (
                pooled
                + b1 * ops.matmul(mean, w2)
                + b2 * ops.matmul(mean, w1)
                + b1 * b2 * any_valid
            )
        return pooled

    def _causal_pooling(self, tokens, mask, dtype):
        """φ_t = mean_{s <= t}((X W_1) * (X W_2))_s (cumulative means)."""
        channels = ops.shape(tokens)[-1]
        # W_1 and W_2 read the same input: one matmul computes both.
        kernel = ops.concatenate([self.w1_kernel, self.w2_kernel], axis=-1)
        bias = None
        if self.use_bias:
            bias = ops.concatenate([self.w1_bias, self.w2_bias])
        projections = self.dense(tokens, kernel, bias)
        p = projections[..., :channels] * projections[..., channels:]
        p = ops.cast(p, dtype)
        if mask is None:
            counts = ops.cumsum(ops.ones_like(p[..., :1]), axis=1)
            return ops.cumsum(p, axis=1) / counts
        valid = ops.expand_dims(ops.cast(mask, "bool"), -1)
        p = ops.where(valid, p, ops.zeros_like(p))
        counts = ops.cumsum(ops.cast(valid, dtype), axis=1)
        # No valid token yet: the sum is 0 and so is φ, never 0 / 0.
        return ops.cumsum(p, axis=1) / ops.maximum(counts, 1.0)

    # -------------------------------------------------------------- shapes

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(self, inputs, mask=None):
        self._check_mask(inputs, mask)
        return keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        serialize = keras.initializers.serialize
        config.update(
            {
                "alpha_initializer": serialize(self.alpha_initializer),
                "beta_initializer": serialize(self.beta_initializer),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySA(_PolyMixing):
    """Self-attention replaced by a 3rd-order polynomial, in linear time.

    Poly-SA keeps the data access pattern of self-attention (every output
    token depends on every input token) but replaces the `N × N` attention
    matrix with a Hadamard product and a global average. For tokens
    `X` of shape `(N, C)`, the survey's Eq. 9 reads

    ```
    P    = (X W_1) * (X W_2)              W_1, W_2: C × C
    φ(P) = (1/N) Σ_s P_s, copied to all N tokens
    Y    = (φ(P) * X) W_3                 W_3: C × C
    Z    = α X + β Y                      α, β learnable scalars
    ```

    where `*` is the Hadamard product. Each output element is a 3rd-order
    polynomial of `X`. The cost is `O(N C²)` time and `O(N C)` memory: no
    `N × N` tensor is formed anywhere, only one pooled `C`-vector per
    sequence (one per position when causal). Self-attention costs
    `O(N² C)`.

    With `causal=True` the average runs over the tokens seen so far,
    `φ(P)_t = (1/t) Σ_{s<=t} P_s` (a cumulative sum), so output `t`
    depends only on inputs `1..t`; the last output equals the non-causal
    one. With a padding `mask`, masked tokens are left out of the average:
    `φ(P)_t = Σ_s m_s P_s / max(1, Σ_s m_s)` (the sums over `s <= t` when
    causal), which is 0 when no token is valid.

    `α = 1`, `β = 0` at initialisation (the non-local block convention),
    so the layer starts as the identity; the `W_i` get no gradient until
    `β` leaves 0, which it does after the first step.

    Args:
        causal: bool, whether token `t` pools only tokens `<= t` (for
            autoregressive models). Defaults to `False`.
        use_bias: bool, whether `W_1`, `W_2`, `W_3` have biases (as the
            1×1 convolutions of a non-local block usually do); with biases
            `P = (X W_1 + b_1) * (X W_2 + b_2)` and `Y = (φ(P) * X) W_3 +
            b_3`. Defaults to `False`, the survey's equation.
        alpha_initializer: initializer (or number) of `α`. Defaults to
            `"ones"`.
        beta_initializer: initializer (or number) of `β`. Defaults to
            `"zeros"`.
        kernel_initializer: initializer of `W_1`, `W_2`, `W_3`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, N, C)`.
        mask: optional boolean tensor of shape `(batch, N)`, True at valid
            tokens (a Keras padding mask, e.g. from
            `Embedding(mask_zero=True)`, arrives here on its own). Masked
            tokens do not enter the average; their own outputs are computed
            as for any other token. The mask passes through to the next
            layer.

    Returns:
        Tensor of shape `(batch, N, C)`. Under mixed precision the average
        accumulates in float32.

    Weights:
        `w1_kernel`, `w2_kernel`, `w3_kernel` `(C, C)` (and `w1_bias` ..
        `w3_bias` `(C,)` with `use_bias`); scalars `alpha`, `beta`.

    Example:

    >>> import numpy as np
    >>> layer = PolySA(causal=True)
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 16))
    >>> mask = np.arange(10) < np.array([[10], [7]])
    >>> tuple(layer(x.astype("float32"), mask=mask).shape)
    (2, 10, 16)

    Reference:
        Babiloni et al., "Poly-NL: Linear Complexity Non-local Layers with
        3rd Order Polynomials", ICCV 2021; Babiloni et al., "Linear
        Complexity Self-Attention with 3rd Order Polynomials", TPAMI 2023;
        Chrysos et al., "Hadamard product in deep learning", Eq. 9.
    """

    _input_rank = 3
    _input_layout = "(batch, N, channels)"

    def __init__(
        self,
        causal=False,
        use_bias=False,
        alpha_initializer="ones",
        beta_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            alpha_initializer=alpha_initializer,
            beta_initializer=beta_initializer,
            **kwargs,
        )
        self.causal = check_bool("causal", causal)
        self._causal = self.causal

    def get_config(self):
        config = super().get_config()
        config["causal"] = self.causal
        return config


def _gram_matrix(x):
    """`Xᵀ X` per example of (B, N, C) tokens, as (B, C, C).

    With one example (a static batch of 1, as in autoregressive decoding
    or one long document), a 2-D `(C, N) @ (N, C)` product: XLA's CPU
    backend ran the batched form's forward and backward pass 1.7x slower
    at N = 16384 (jax 0.10, `benchmarks/attention_scaling.py`).
    """
    if _single_example(x):
        tokens = x[0]
        return ops.expand_dims(ops.matmul(ops.transpose(tokens), tokens), 0)
    return ops.matmul(ops.swapaxes(x, 1, 2), x)


def _single_example(tokens):
    """Whether the batch axis is statically 1 (then 2-D products run)."""
    return tokens.shape[0] == 1
