"""Causal linear attention: a causal mask applied as a Hadamard product."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

FEATURE_MAPS = ("identity", "elu_plus_one")
MODES = ("quadratic", "recurrent", "chunked")


def _elu_plus_one(x):
    return ops.elu(x) + 1.0


def _identity(x):
    return x


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class CausalLinearAttention(DenseWeightsLayer):
    """Multi-head causal linear attention: `((Q Kᵀ) * R) V` in linear time.

    Self-attention without the softmax. With `Q = φ(X W_q)`,
    `K = φ(X W_k)`, `V = X W_v` (per head, `φ` the feature map) the survey
    writes causal attention as a Hadamard product with a mask

    ```
    Y = ((s Q Kᵀ) * R) V,     R[t, j] = 1 if j <= t else 0
    ```

    where `*` is the Hadamard product, `R` the lower-triangular matrix of
    ones and `s` the scale (`1/√key_dim` by default). Because the product
    is linear in `V`, the same output is a recurrence over time with a
    `key_dim × key_dim` state per head:

    ```
    S_t = S_{t-1} + k_tᵀ v_t,     y_t = s q_t S_t
    ```

    so a sequence of length `T` costs `O(T d²)` instead of `O(T² d)`, and a
    decoder can generate token by token with constant memory. `mode`
    picks how the same function is computed:

    - `"quadratic"`: the masked form above, `O(T²)` time and memory;
    - `"recurrent"`: the recurrence, with `keras.ops.scan` over time
      (`O(T)` sequential steps);
    - `"chunked"`: the masked form inside chunks of `chunk_size` steps and
      the state carried across chunks with cumulative sums (parallel and
      `O(T · chunk_size)`).

    All three give the same outputs up to float rounding. With
    `normalize=True` each output is divided by the same sum with `V`
    replaced by ones, as in Katharopoulos et al.:

    ```
    z_t = z_{t-1} + k_t,     y_t = s q_t S_t / (s q_t z_tᵀ + ε)
    ```

    which needs a positive feature map: normalisation uses `φ = elu + 1`
    (the default when `normalize=True`; `"identity"` is rejected because
    its denominator can cross zero). The scale `s` then cancels up to `ε`.

    Args:
        num_heads: int >= 1, the number of attention heads.
        key_dim: int >= 1, the size of each head's queries and keys; the
            values have the same size.
        feature_map: `"identity"` or `"elu_plus_one"`, the map `φ` applied
            to queries and keys. Defaults to `None`: `"identity"` (the
            survey's Eq. 7) when `normalize=False`, `"elu_plus_one"`
            (Katharopoulos et al.) when `normalize=True`.
        normalize: bool, whether to divide by the running normaliser `z`.
            Defaults to `False`, the survey's Eq. 7 exactly.
        scale: positive float, the scale `s` of the scores, applied to the
            mapped queries. Defaults to `None`, meaning `1/√key_dim`; the
            survey's listing has no scale (`scale=1.0`).
        mode: `"quadratic"`, `"recurrent"` or `"chunked"`, the computation
            path (same function). Defaults to `"quadratic"`.
        chunk_size: int >= 1, the chunk length of `mode="chunked"`. The
            sequence length need not be a multiple of it. Defaults to 64.
        epsilon: float >= 0 added to the normaliser (`normalize=True`
            only). Defaults to `1e-6`.
        use_bias: bool, whether the projections have biases. Defaults to
            `True`.
        kernel_initializer: initializer of the projection kernels.
            Defaults to `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, time, d_model)`.
        initial_state: optional list of state tensors to start from (a
            previous call's returned state): `[S]` with `S` of shape
            `(batch, num_heads, key_dim, key_dim)`, plus `z` of shape
            `(batch, num_heads, key_dim)` when `normalize=True`. Defaults
            to zeros (an empty history).
        return_state: bool, whether to also return the state after the
            last step. Defaults to `False`.

    Returns:
        Tensor of shape `(batch, time, d_model)`; with `return_state=True`
        the list `[outputs, S]` (`[outputs, S, z]` when `normalize=True`).
        Feeding the state back as `initial_state` continues the sequence:
        calling step by step gives the full-sequence output. The attention
        core and the state are float32 under mixed precision (running
        sums lose too much in bfloat16).

    Weights:
        `qkv_kernel` `(d_model, 3 · num_heads · key_dim)` holds `W_q`,
        `W_k`, `W_v` side by side (one matmul), `qkv_bias`;
        `output_kernel` `(num_heads · key_dim, d_model)`, `output_bias`.

    Example:

    >>> import numpy as np
    >>> layer = CausalLinearAttention(num_heads=2, key_dim=8, mode="chunked")
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 16))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 10, 16)
    >>> y, state = layer(x[:, :1].astype("float32"), return_state=True)
    >>> tuple(state.shape)
    (2, 2, 8, 8)

    Reference:
        Katharopoulos et al., "Transformers are RNNs: Fast Autoregressive
        Transformers with Linear Attention", ICML 2020;
        Chrysos et al., "Hadamard product in deep learning", Eq. 7 and
        section S.2.1.
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        feature_map=None,
        normalize=False,
        scale=None,
        mode="quadratic",
        chunk_size=64,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = check_int("num_heads", num_heads)
        self.key_dim = check_int("key_dim", key_dim)
        self.normalize = check_bool("normalize", normalize)
        if feature_map is None:
            feature_map = "elu_plus_one" if normalize else "identity"
        self.feature_map = check_choice(
            "feature_map", feature_map, FEATURE_MAPS
        )
        if normalize and feature_map == "identity":
            raise ValueError(
                "`feature_map` must be 'elu_plus_one' when normalize=True: "
                "the normaliser q_t z_tᵀ needs positive features and can "
                "cross zero with 'identity'. Received: "
                f"feature_map={feature_map!r}, normalize=True."
            )
        if scale is not None:
            scale = check_float("scale", scale)
            if not scale > 0 or not math.isfinite(scale):
                raise ValueError(
                    "`scale` must be None (1/sqrt(key_dim)) or a finite "
                    f"number > 0. Received: scale={scale}."
                )
        self.scale = scale
        self.mode = check_choice("mode", mode, MODES)
        self.chunk_size = check_int("chunk_size", chunk_size)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self._phi = (
            _elu_plus_one if self.feature_map == "elu_plus_one" else _identity
        )

    # ------------------------------------------------------------ building

    @property
    def effective_scale(self):
        """The scale `s` in use: `scale`, or `1/√key_dim` when None."""
        if self.scale is None:
            return 1.0 / math.sqrt(self.key_dim)
        return self.scale

    @property
    def num_states(self):
        """How many state tensors there are: 1 (`S`), 2 (`S`, `z`)."""
        return 2 if self.normalize else 1

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 3:
            raise ValueError(
                f"Layer '{self.name}' (CausalLinearAttention) expects "
                "`inputs` of rank 3, (batch, time, d_model). Received "
                f"inputs with shape {shape}."
            )
        if shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (CausalLinearAttention) needs the last "
                f"axis of `inputs` to be defined. Received shape {shape}."
            )
        d_model = int(shape[-1])
        inner = self.num_heads * self.key_dim
        self.qkv_kernel, self.qkv_bias = self.add_dense_weights(
            "qkv", (d_model, 3 * inner)
        )
        self.output_kernel, self.output_bias = self.add_dense_weights(
            "output", (inner, d_model)
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: d_model})

    def get_initial_state(self, batch_size):
        """Zero state (an empty history) for `batch_size` sequences."""
        h, d = self.num_heads, self.key_dim
        state = [ops.zeros((batch_size, h, d, d), "float32")]
        if self.normalize:
            state.append(ops.zeros((batch_size, h, d), "float32"))
        return state

    # ---------------------------------------------------------------- call

    def call(self, inputs, initial_state=None, return_state=False):
        return_state = check_bool("return_state", return_state)
        state = self._check_state(initial_state)
        # The core runs in float32 under mixed precision: the state and the
        # masked sums add up T terms, too many for bfloat16's 8 bits.
        core_dtype = self.compute_dtype
        if core_dtype in ("float16", "bfloat16"):
            core_dtype = "float32"

        qkv = self.dense(inputs, self.qkv_kernel, self.qkv_bias)
        batch, time = ops.shape(qkv)[0], ops.shape(qkv)[1]
        qkv = ops.reshape(qkv, (batch, time, 3, self.num_heads, self.key_dim))
        qkv = ops.cast(qkv, core_dtype)
        q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]  # (B, T, H, D)
        q = self._phi(q) * self.effective_scale
        k = self._phi(k)
        if state is not None:
            state = [ops.cast(s, core_dtype) for s in state]

        if self.mode == "quadratic":
            y, new_state = self._quadratic(q, k, v, state, return_state)
        elif self.mode == "recurrent":
            y, new_state = self._recurrent(q, k, v, state)
        else:
            y, new_state = self._chunked(q, k, v, state)

        y = ops.reshape(y, (batch, time, self.num_heads * self.key_dim))
        y = ops.cast(y, self.compute_dtype)
        outputs = self.dense(y, self.output_kernel, self.output_bias)
        if return_state:
            return [outputs, *new_state]
        return outputs

    def _check_state(self, initial_state):
        if initial_state is None:
            return None
        if (
            not isinstance(initial_state, (list, tuple))
            or len(initial_state) != self.num_states
        ):
            expected = "[S, z]" if self.normalize else "[S]"
            raise ValueError(
                f"`initial_state` must be a list {expected} of "
                f"{self.num_states} tensor(s) (the state a call with "
                "return_state=True returns) or None. Received: "
                f"initial_state={initial_state!r}."
            )
        return list(initial_state)

    def _divide(self, numerator, denominator):
        return numerator / (ops.expand_dims(denominator, -1) + self.epsilon)

    def _quadratic(self, q, k, v, state, need_state):
        """Y = ((Q Kᵀ) * R) V, R the lower-triangular ones (O(T²))."""
        time = ops.shape(q)[1]
        positions = ops.arange(time)
        mask = ops.cast(positions[:, None] >= positions[None, :], q.dtype)
        scores = ops.einsum("bthd,bshd->bhts", q, k) * mask  # Hadamard
        numerator = ops.einsum("bhts,bshe->bthe", scores, v)
        if state is not None:
            numerator = numerator + ops.einsum("bthd,bhde->bthe", q, state[0])
        if self.normalize:
            denominator = ops.transpose(ops.sum(scores, -1), (0, 2, 1))
            if state is not None:
                denominator = denominator + ops.einsum(
                    "bthd,bhd->bth", q, state[1]
                )
            y = self._divide(numerator, denominator)
        else:
            y = numerator
        new_state = None
        if need_state:
            s = ops.einsum("bthd,bthe->bhde", k, v)
            new_state = [s]
            if self.normalize:
                new_state.append(ops.sum(k, axis=1))
            if state is not None:
                new_state = [
                    a + b for a, b in zip(new_state, state, strict=True)
                ]
        return y, new_state

    def _recurrent(self, q, k, v, state):
        """S_t = S_{t-1} + k_tᵀ v_t, y_t = q_t S_t, by a scan over time."""
        if state is None:
            state = self.get_initial_state(ops.shape(q)[0])
            state = [ops.cast(s, q.dtype) for s in state]
        # Time-major: scan runs over the leading axis.
        q, k, v = (ops.transpose(x, (1, 0, 2, 3)) for x in (q, k, v))

        def step(carry, inputs):
            q_t, k_t, v_t = inputs  # (B, H, D)
            s = carry[0] + ops.einsum("bhd,bhe->bhde", k_t, v_t)
            y_t = ops.einsum("bhd,bhde->bhe", q_t, s)
            if self.normalize:
                z = carry[1] + k_t
                y_t = self._divide(y_t, ops.sum(q_t * z, axis=-1))
                return [s, z], y_t
            return [s], y_t

        if keras.backend.backend() == "tensorflow":
            # Keras's TensorFlow scan needs every y_t to have the shape of
            # the carry (keras-team/keras#19681); a while loop writes y_t
            # into a carried buffer instead (scatter_update, which has a
            # gradient in TensorFlow where slice_update has none).
            def body(t, carry):
                inputs = tuple(x[t] for x in (q, k, v))
                new_state, y_t = step(carry[:-1], inputs)
                ys = ops.scatter_update(
                    carry[-1], ops.reshape(t, (1, 1)), y_t[None]
                )
                return [*new_state, ys]

            carry = ops.fori_loop(
                0, ops.shape(q)[0], body, [*state, ops.zeros_like(v)]
            )
            state, ys = list(carry[:-1]), carry[-1]
        else:
            state, ys = ops.scan(step, list(state), (q, k, v))
        return ops.transpose(ys, (1, 0, 2, 3)), list(state)

    def _chunked(self, q, k, v, state):
        """Masked form within chunks, state carried by cumulative sums."""
        c, h, d = self.chunk_size, self.num_heads, self.key_dim
        batch, time = ops.shape(q)[0], ops.shape(q)[1]
        padding = (-time) % c
        # Zero rows add nothing to any sum (k is padded after φ, so
        # elu + 1 does not turn the padding into ones).
        q, k, v = (
            ops.pad(x, ((0, 0), (0, padding), (0, 0), (0, 0)))
            for x in (q, k, v)
        )
        q, k, v = (ops.reshape(x, (batch, -1, c, h, d)) for x in (q, k, v))

        positions = ops.arange(c)
        mask = ops.cast(positions[:, None] >= positions[None, :], q.dtype)
        scores = ops.einsum("bnthd,bnshd->bnhts", q, k) * mask  # Hadamard
        numerator = ops.einsum("bnhts,bnshe->bnthe", scores, v)

        # State entering chunk n: S_0 + Σ_{m<n} K_mᵀ V_m (exclusive cumsum).
        if state is None:
            state = self.get_initial_state(batch)
            state = [ops.cast(s, q.dtype) for s in state]
        kv = ops.einsum("bnshd,bnshe->bnhde", k, v)
        s_in = ops.cumsum(
            ops.concatenate([state[0][:, None], kv[:, :-1]], axis=1), axis=1
        )
        numerator = numerator + ops.einsum("bnthd,bnhde->bnthe", q, s_in)
        new_state = [s_in[:, -1] + kv[:, -1]]
        if self.normalize:
            k_sum = ops.sum(k, axis=2)
            z_in = ops.cumsum(
                ops.concatenate([state[1][:, None], k_sum[:, :-1]], axis=1),
                axis=1,
            )
            denominator = ops.transpose(ops.sum(scores, -1), (0, 1, 3, 2))
            denominator = denominator + ops.einsum("bnthd,bnhd->bnth", q, z_in)
            y = self._divide(numerator, denominator)
            new_state.append(z_in[:, -1] + k_sum[:, -1])
        else:
            y = numerator
        y = ops.reshape(y, (batch, -1, h, d))[:, :time]
        return y, new_state

    # -------------------------------------------------------------- shapes

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(
        self, inputs, initial_state=None, return_state=False
    ):
        outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_state:
            return outputs
        batch, h, d = inputs.shape[0], self.num_heads, self.key_dim
        state_dtype = self.compute_dtype
        if state_dtype in ("float16", "bfloat16"):
            state_dtype = "float32"
        state = [keras.KerasTensor((batch, h, d, d), dtype=state_dtype)]
        if self.normalize:
            state.append(keras.KerasTensor((batch, h, d), dtype=state_dtype))
        return [outputs, *state]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "feature_map": self.feature_map,
                "normalize": self.normalize,
                "scale": self.scale,
                "mode": self.mode,
                "chunk_size": self.chunk_size,
                "epsilon": self.epsilon,
            }
        )
        return config
