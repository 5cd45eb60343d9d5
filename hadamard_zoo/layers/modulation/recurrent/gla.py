"""GLA: gated linear attention, a matrix state decayed by a Hadamard gate."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation.recurrent import _chunked
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

# Sub-chunk length of the chunkwise path (see `GLA._intra_scores`).
SUB_CHUNK = 16
LOG_ZERO = _chunked.LOG_ZERO


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GLA(DenseWeightsLayer):
    """Gated linear attention layer (GLA), multi-head.

    Linear attention whose `d_k × d_v` state per head forgets along the key
    axis through a data-dependent gate `α_t`:

    ```
    α_t = exp(log σ(x_t W_α1 W_α2 + b) / τ)     (low-rank gate, τ = 16)
    S_t = Diag(α_t) S_{t−1} + k_tᵀ v_t = (α_tᵀ 1) * S_{t−1} + k_tᵀ v_t
    o_t = q_t S_t
    y_t = (RMSNorm(o_t) * SiLU(x_t W_g)) W_o
    ```

    with `q_t = x_t W_q / √d_k`, `k_t = x_t W_k`, `v_t = x_t W_v` per head,
    `*` the Hadamard product (the gate broadcast over the value axis) and
    the RMS norm taken per head. (The `1/√d_k` is flash-linear-attention's;
    after the norm it only matters through `ε`.) The key width is
    `expand_k · d_model`, the value width `expand_v · d_model`, both split
    over `num_heads`.
    `τ` (`gate_logit_normalizer`) keeps `α_t` close to 1: the log-gate is
    at most `log σ(·)/16` per step. `mode` picks the computation (same
    outputs up to rounding):

    - `"recurrent"`: step by step with `keras.ops.scan`;
    - `"chunkwise"`: with `L_t = Σ_{j≤t} log α_j` inside a chunk, the
      outputs of all its steps at once,
      `o_t = (q_t * e^{L_t}) S_0 + Σ_{s≤t} (q_t * e^{L_t − L_s}) k_sᵀ v_s`,
      and the state carried across chunks by a scan over `T / chunk_size`
      chunks. Every exponent used is `<= 0`, so nothing overflows: the
      decay `e^{L_t − L_s}` is formed per pair of steps inside sub-chunks
      of 16 steps (`T · 16 · key width` numbers) and factorised at
      sub-chunk boundaries across them (one matrix product).

    Args:
        num_heads: int >= 1, the number of heads; it must divide the key
            and value widths. Defaults to 4.
        expand_k: positive float, key width over `d_model`. Defaults to
            `0.5`.
        expand_v: positive float, value width over `d_model`. Defaults to
            `1.0`.
        gate_low_rank_dim: int >= 1, the rank of `W_α1 W_α2`. Defaults
            to 16.
        gate_logit_normalizer: float > 0, the divisor `τ` of the log-gate.
            Defaults to 16.
        mode: `"recurrent"` or `"chunkwise"`. Defaults to `"chunkwise"`.
        chunk_size: int >= 1, the chunk length of `mode="chunkwise"`; the
            sequence length need not be a multiple of it. Defaults to 64.
        epsilon: float >= 0 of the RMS norm. Defaults to `1e-5`.
        use_bias: bool, whether `W_q`, `W_k`, `W_v`, `W_g`, `W_o` have
            biases (the gate's `b` always exists). Defaults to `False`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, time, d_model)`.
        initial_state: optional `[S]`, `S` of shape
            `(batch, num_heads, head_k, head_v)`: the state a previous call
            returned. Defaults to zeros.
        return_state: bool, whether to also return the state after the
            last step. Defaults to `False`.

    Returns:
        Tensor of shape `(batch, time, d_model)`; with `return_state=True`
        the list `[outputs, S]`. Feeding `S` back as `initial_state`
        continues the sequence. The recurrence and the state are float32
        under mixed precision.

    Weights:
        `q_kernel`, `k_kernel` `(d_model, key width)`; `v_kernel`,
        `g_kernel` `(d_model, value width)`; `gate_down_kernel`
        `(d_model, gate_low_rank_dim)`, `gate_up_kernel`
        `(gate_low_rank_dim, key width)`, `gate_up_bias`; `output_kernel`
        `(value width, d_model)`; `norm_scale` `(head_v,)`.

    Example:

    >>> import numpy as np
    >>> layer = GLA(num_heads=2, chunk_size=4)
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 16))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 10, 16)
    >>> y, s = layer(x[:, :3].astype("float32"), return_state=True)
    >>> tuple(s.shape)
    (2, 2, 4, 8)

    Reference:
        Yang, Wang, Shen, Panda and Kim, "Gated Linear Attention
        Transformers with Hardware-Efficient Training", ICML 2024.
    """

    def __init__(
        self,
        num_heads=4,
        expand_k=0.5,
        expand_v=1.0,
        gate_low_rank_dim=16,
        gate_logit_normalizer=16.0,
        mode="chunkwise",
        chunk_size=64,
        epsilon=1e-5,
        use_bias=False,
        **kwargs,
    ):
        super().__init__(use_bias=use_bias, **kwargs)
        self.num_heads = check_int("num_heads", num_heads)
        self.expand_k = _check_positive("expand_k", expand_k)
        self.expand_v = _check_positive("expand_v", expand_v)
        self.gate_low_rank_dim = check_int(
            "gate_low_rank_dim", gate_low_rank_dim
        )
        self.gate_logit_normalizer = _check_positive(
            "gate_logit_normalizer", gate_logit_normalizer
        )
        self.mode = check_choice("mode", mode, _chunked.MODES)
        self.chunk_size = check_int("chunk_size", chunk_size)
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)

    def build(self, input_shape):
        d_model = _chunked.check_sequence_shape(self, input_shape)
        key_dim = int(d_model * self.expand_k)
        value_dim = int(d_model * self.expand_v)
        for what, width in (("key", key_dim), ("value", value_dim)):
            if width < self.num_heads or width % self.num_heads:
                raise ValueError(
                    f"`num_heads` must divide the {what} width "
                    f"int(d_model * expand_{what[0]}) = {width} "
                    f"(d_model={d_model}). Received: "
                    f"num_heads={self.num_heads}."
                )
        self.head_k = key_dim // self.num_heads
        self.head_v = value_dim // self.num_heads
        widths = {"q": key_dim, "k": key_dim, "v": value_dim, "g": value_dim}
        for name, width in widths.items():
            kernel, bias = self.add_dense_weights(name, (d_model, width))
            setattr(self, f"{name}_kernel", kernel)
            setattr(self, f"{name}_bias", bias)
        self.gate_down_kernel, _ = self.add_dense_weights(
            "gate_down", (d_model, self.gate_low_rank_dim), use_bias=False
        )
        self.gate_up_kernel, self.gate_up_bias = self.add_dense_weights(
            "gate_up", (self.gate_low_rank_dim, key_dim), use_bias=True
        )
        self.output_kernel, self.output_bias = self.add_dense_weights(
            "output", (value_dim, d_model)
        )
        self.norm_scale = self.add_weight(
            name="norm_scale", shape=(self.head_v,), initializer="ones"
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: d_model})

    @property
    def state_shape(self):
        """The state's shape without the batch axis."""
        return (self.num_heads, self.head_k, self.head_v)

    def get_initial_state(self, batch_size):
        """Zero state `[S]` (an empty history) for `batch_size` sequences."""
        _chunked.require_built(self)
        return [ops.zeros((batch_size, *self.state_shape), "float32")]

    def call(self, inputs, initial_state=None, return_state=False):
        return_state = check_bool("return_state", return_state)
        state = _chunked.check_initial_state(
            self, initial_state, inputs, ["S"], [self.state_shape]
        )
        dtype = _chunked.core_dtype(self)
        batch, time = ops.shape(inputs)[0], ops.shape(inputs)[1]
        hk, hv = self.head_k, self.head_v

        def heads(x, size):
            x = ops.reshape(x, (batch, time, self.num_heads, size))
            return ops.cast(x, dtype)

        q = heads(self.dense(inputs, self.q_kernel, self.q_bias), hk)
        k = heads(self.dense(inputs, self.k_kernel, self.k_bias), hk)
        v = heads(self.dense(inputs, self.v_kernel, self.v_bias), hv)
        q = q * (1.0 / math.sqrt(hk))
        gate_logits = self.dense(
            self.dense(inputs, self.gate_down_kernel),
            self.gate_up_kernel,
            self.gate_up_bias,
        )
        log_alpha = ops.log_sigmoid(heads(gate_logits, hk))
        log_alpha = log_alpha / self.gate_logit_normalizer
        if state is None:
            s0 = ops.zeros((batch, *self.state_shape), dtype)
        else:
            s0 = ops.cast(state[0], dtype)

        if self.mode == "recurrent":
            o, s_last = self._recurrent(q, k, v, ops.exp(log_alpha), s0)
        else:
            o, s_last = self._chunkwise(q, k, v, log_alpha, s0)

        o = _chunked.rms_normalize(
            o, ops.cast(self.norm_scale, dtype), self.epsilon
        )
        o = ops.reshape(o, (batch, time, self.num_heads * hv))
        o = ops.cast(o, self.compute_dtype)
        # The output gate: a Hadamard product with the normalised read-out.
        gate = ops.silu(self.dense(inputs, self.g_kernel, self.g_bias))
        outputs = self.dense(o * gate, self.output_kernel, self.output_bias)
        if return_state:
            return [outputs, s_last]
        return outputs

    def _recurrent(self, q, k, v, alpha, s0):
        """S_t = Diag(α_t) S_{t−1} + k_tᵀ v_t, o_t = q_t S_t, step by step."""

        def step(carry, inputs):
            q_t, k_t, v_t, a_t = inputs  # (B, H, d)
            # Diag(α_t) S as a Hadamard product, α_t broadcast over values.
            s = a_t[..., None] * carry[0]
            s = s + ops.einsum("bhk,bhv->bhkv", k_t, v_t)
            return [s], ops.einsum("bhk,bhkv->bhv", q_t, s)

        xs = [_chunked.time_major(x) for x in (q, k, v, alpha)]
        (s_last,), o = _chunked.scan_time(
            step, [s0], xs, lambda: ops.zeros_like(xs[2])
        )
        return _chunked.time_major(o), s_last

    def _chunkwise(self, q, k, v, log_alpha, s0):
        """Chunks in parallel from cumulative log-gates, then a chunk scan."""
        time = ops.shape(q)[1]
        # Padding with α = 1 (log 0) and k = 0 keeps the final state.
        q, k, v, log_alpha = (
            _chunked.to_chunks(x, self.chunk_size) for x in (q, k, v, log_alpha)
        )  # (B, N, C, H, d)
        cum = ops.cumsum(log_alpha, axis=2)  # L_t within each chunk
        # A[t, s] = Σ_k q_tk k_sk e^{L_tk − L_sk}, zero for s > t.
        scores = self._intra_scores(q, k, cum)  # (B, N, H, C, C)
        intra = ops.einsum("bnhts,bnshv->bnthv", scores, v)

        last = cum[:, :, -1:]  # L_C, the log-decay of the whole chunk
        chunk_update = ops.einsum(
            "bnshk,bnshv->bnhkv", k * ops.exp(last - cum), v
        )

        def carry_over(carry, chunk):
            chunk_decay, update = chunk
            return [chunk_decay[..., None] * carry[0] + update]

        (s_last,), (s_in,) = _chunked.scan_chunks(
            carry_over,
            [s0],
            [
                _chunked.time_major(ops.exp(last[:, :, 0])),
                _chunked.time_major(chunk_update),
            ],
        )
        s_in = _chunked.time_major(s_in)  # the state entering each chunk
        inter = ops.einsum("bnthk,bnhkv->bnthv", q * ops.exp(cum), s_in)
        return _chunked.from_chunks(intra + inter, time), s_last

    def _intra_scores(self, q, k, cum):
        """A[t, s] = Σ_k q_tk k_sk e^{L_tk − L_sk} (s <= t) of every chunk.

        Sub-chunks of `c` steps split the pairs. Inside a sub-chunk the
        decay is formed per pair (`C · c` key-width exponentials, not
        `C²`). Across sub-chunks it factorises at the start `L_a` of the
        later sub-chunk, `e^{L_t − L_s} = e^{L_t − L_a} · e^{L_a − L_s}`,
        with both exponents <= 0 (`L` only decreases), so the pairs are
        one matrix product of decayed queries and keys and nothing
        overflows.
        """
        size = self.chunk_size
        sub = math.gcd(size, SUB_CHUNK)
        count = size // sub
        batch, chunks = ops.shape(q)[0], ops.shape(q)[1]
        heads, width = q.shape[-2], q.shape[-1]
        split = (batch, chunks, count, sub, heads, width)
        cum_sub = ops.reshape(cum, split)
        ends = cum_sub[:, :, :, -1]  # L after each sub-chunk
        starts = ops.concatenate(
            [ops.zeros_like(ends[:, :, :1]), ends[:, :, :-1]], axis=2
        )  # L_a before each sub-chunk: (B, N, m, H, d)
        q_decayed = ops.reshape(q, split) * ops.exp(
            cum_sub - starts[:, :, :, None]
        )
        steps = ops.arange(size)
        earlier = steps[None, :] < (ops.arange(count) * sub)[:, None]
        gap = starts[:, :, :, None] - cum[:, :, None]  # (B, N, m, C, H, d)
        gap = ops.where(earlier[None, None, :, :, None, None], gap, LOG_ZERO)
        k_decayed = k[:, :, None] * ops.exp(gap)
        across = ops.einsum("bnithk,bnishk->bnhits", q_decayed, k_decayed)

        flat = (batch, chunks * count, sub, heads, width)
        decay = _chunked.masked_decay(
            ops.reshape(cum, flat), _chunked.causal_mask(sub)
        )
        within = ops.einsum(
            "bjthk,bjshk,bjtshk->bjhts",
            ops.reshape(q, flat),
            ops.reshape(k, flat),
            decay,
        )
        within = ops.reshape(within, (batch, chunks, count, heads, sub, sub))
        within = ops.einsum(
            "bnihts,ij->bnhitjs", within, ops.eye(count, dtype=q.dtype)
        )
        scores = ops.reshape(
            across, (batch, chunks, heads, count, sub, count, sub)
        )
        return ops.reshape(scores + within, (batch, chunks, heads, size, size))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(
        self, inputs, initial_state=None, return_state=False
    ):
        outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_state:
            return outputs
        state = keras.KerasTensor(
            (inputs.shape[0], *self.state_shape), _chunked.core_dtype(self)
        )
        return [outputs, state]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "expand_k": self.expand_k,
                "expand_v": self.expand_v,
                "gate_low_rank_dim": self.gate_low_rank_dim,
                "gate_logit_normalizer": self.gate_logit_normalizer,
                "mode": self.mode,
                "chunk_size": self.chunk_size,
                "epsilon": self.epsilon,
            }
        )
        return config


def _check_positive(name, value):
    value = check_float(name, value)
    if not value > 0 or not math.isfinite(value):
        raise ValueError(
            f"`{name}` must be a finite number > 0. Received: {name}={value}."
        )
    return value
