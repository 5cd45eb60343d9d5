"""mLSTM: the matrix-memory LSTM of xLSTM, with exponential gating."""

import math

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.modulation.recurrent import _chunked
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

FORGET_GATES = ("sigmoid", "exponential")

# exp(−m) is the stabilised form of the normaliser's floor 1; capping its
# exponent keeps it (and its gradient) finite when every weight is below
# e^{−80}, where the output is ~1e-35 either way.
_MAX_LOG_FLOOR = 80.0


def _floor(m):
    return ops.exp(-ops.maximum(m, -_MAX_LOG_FLOOR))


def _forget_bias_initializer(shape, dtype=None):
    """linspace(3, 6) over heads, as xLSTM: long memory at the start."""
    count = shape[0]
    if count == 1:
        return ops.full(shape, 3.0, dtype=dtype)
    return ops.cast(ops.linspace(3.0, 6.0, count), dtype)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MLSTM(DenseWeightsLayer):
    """mLSTM layer: a matrix memory with exponential input gates.

    Per head, a `d_v × d_k` memory `C` and a normaliser `n` are updated
    with scalar gates and read out with the query:

    ```
    ĩ_t = x_t w_i + b_i,   f̃_t = x_t w_f + b_f       (one per head)
    i_t = exp(ĩ_t),        f_t = σ(f̃_t)   (or exp(f̃_t))
    C_t = f_t C_{t−1} + i_t v_t k_tᵀ
    n_t = f_t n_{t−1} + i_t k_t
    h_t = o_t * C_t q_t / max(|n_tᵀ q_t|, 1),    o_t = σ(x_t W_o + b_o)
    y_t = h_t W_out
    ```

    with `q_t = x_t W_q`, `k_t = x_t W_k / √d_k`, `v_t = x_t W_v` per head
    (`d_k = d_v = d_model / num_heads`) and `*` the Hadamard product of the
    output gate. `exp(ĩ)` overflows quickly, so both paths carry the
    stabilised state `C' = C e^{−m}`, `n' = n e^{−m}` with

    ```
    m_t = max(log f_t + m_{t−1}, ĩ_t)
    C'_t = e^{log f_t + m_{t−1} − m_t} C'_{t−1} + e^{ĩ_t − m_t} v_t k_tᵀ
    h_t = o_t * C'_t q_t / max(|n'_tᵀ q_t|, e^{−m_t})
    ```

    the same function, in which every exponent is `<= 0` (the floor
    `e^{−m_t}` is capped at `e^{80}`, where outputs are ~1e-35 anyway).
    `mode` picks the computation (same outputs up to rounding):

    - `"recurrent"`: step by step with `keras.ops.scan`;
    - `"chunkwise"`: with `b_t = Σ_{j≤t} log f_j` inside a chunk, the
      log-weight of step `s` in `C_t` is `b_t − b_s + ĩ_s` (and
      `b_t + m_0` for the entering state); `m_t` is their maximum, so the
      chunk's steps are computed at once from `e^{log-weight − m_t}`, and
      the state `(C', n', m)` is carried across chunks by a scan.

    The xLSTM block around this cell (up-projection, causal convolution,
    group norm, skip) belongs to the model.

    Args:
        num_heads: int >= 1, the number of heads; it must divide `d_model`.
            Defaults to 4.
        forget_gate: `"sigmoid"` (`f = σ(f̃)`, the default) or
            `"exponential"` (`f = exp(f̃)`).
        mode: `"recurrent"` or `"chunkwise"`. Defaults to `"chunkwise"`.
        chunk_size: int >= 1, the chunk length of `mode="chunkwise"`; the
            sequence length need not be a multiple of it. Defaults to 64.
        use_bias: bool, whether `W_q`, `W_k`, `W_v`, `W_out` have biases
            (the gates always have theirs). Defaults to `False`.
        kernel_initializer: initializer of the kernels. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the projection biases and of
            `b_i`, `b_o`. Defaults to `"zeros"`; `b_f` starts at
            `linspace(3, 6)` over heads, as in xLSTM.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, time, d_model)`.
        initial_state: optional `[C, n, m]` of shapes
            `(batch, num_heads, d_v, d_k)`, `(batch, num_heads, d_k)`,
            `(batch, num_heads)`: the stabilised state a previous call
            returned. Defaults to zeros.
        return_state: bool, whether to also return the state after the
            last step. Defaults to `False`.

    Returns:
        Tensor of shape `(batch, time, d_model)`; with `return_state=True`
        the list `[outputs, C, n, m]`. Feeding the state back as
        `initial_state` continues the sequence. The recurrence and the
        state are float32 under mixed precision.

    Weights:
        `q_kernel`, `k_kernel`, `v_kernel`, `output_kernel`
        `(d_model, d_model)`; `igate_kernel`, `fgate_kernel`
        `(d_model, num_heads)` with `igate_bias`, `fgate_bias`;
        `ogate_kernel` `(d_model, d_model)`, `ogate_bias`.

    Example:

    >>> import numpy as np
    >>> layer = MLSTM(num_heads=2, chunk_size=4)
    >>> x = np.random.default_rng(0).normal(size=(2, 10, 8))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 10, 8)
    >>> y, c, n, m = layer(x[:, :3].astype("float32"), return_state=True)
    >>> tuple(c.shape), tuple(n.shape), tuple(m.shape)
    ((2, 2, 4, 4), (2, 2, 4), (2, 2))

    Reference:
        Beck et al., "xLSTM: Extended Long Short-Term Memory", NeurIPS 2024.
    """

    def __init__(
        self,
        num_heads=4,
        forget_gate="sigmoid",
        mode="chunkwise",
        chunk_size=64,
        use_bias=False,
        **kwargs,
    ):
        super().__init__(use_bias=use_bias, **kwargs)
        self.num_heads = check_int("num_heads", num_heads)
        self.forget_gate = check_choice(
            "forget_gate", forget_gate, FORGET_GATES
        )
        self.mode = check_choice("mode", mode, _chunked.MODES)
        self.chunk_size = check_int("chunk_size", chunk_size)

    def build(self, input_shape):
        d_model = _chunked.check_sequence_shape(self, input_shape)
        if d_model % self.num_heads:
            raise ValueError(
                f"`num_heads` must divide d_model={d_model}. Received: "
                f"num_heads={self.num_heads}."
            )
        self.head_dim = d_model // self.num_heads
        for name in ("q", "k", "v", "output"):
            kernel, bias = self.add_dense_weights(name, (d_model, d_model))
            setattr(self, f"{name}_kernel", kernel)
            setattr(self, f"{name}_bias", bias)
        self.igate_kernel, self.igate_bias = self.add_dense_weights(
            "igate", (d_model, self.num_heads), use_bias=True
        )
        self.fgate_kernel, _ = self.add_dense_weights(
            "fgate", (d_model, self.num_heads), use_bias=False
        )
        self.fgate_bias = self.add_weight(
            name="fgate_bias",
            shape=(self.num_heads,),
            initializer=_forget_bias_initializer,
            regularizer=self.bias_regularizer,
        )
        self.ogate_kernel, self.ogate_bias = self.add_dense_weights(
            "ogate", (d_model, d_model), use_bias=True
        )
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: d_model})

    @property
    def state_shapes(self):
        """Shapes of `[C, n, m]` without the batch axis."""
        h, d = self.num_heads, self.head_dim
        return [(h, d, d), (h, d), (h,)]

    def get_initial_state(self, batch_size):
        """Zero state `[C, n, m]` (an empty history, m = 0 as in xLSTM)."""
        _chunked.require_built(self)
        return [
            ops.zeros((batch_size, *shape), "float32")
            for shape in self.state_shapes
        ]

    def call(self, inputs, initial_state=None, return_state=False):
        return_state = check_bool("return_state", return_state)
        state = _chunked.check_initial_state(
            self, initial_state, inputs, ["C", "n", "m"], self.state_shapes
        )
        dtype = _chunked.core_dtype(self)
        batch, time = ops.shape(inputs)[0], ops.shape(inputs)[1]
        heads, d = self.num_heads, self.head_dim

        def project(kernel, bias, size):
            x = ops.cast(self.dense(inputs, kernel, bias), dtype)
            return ops.reshape(x, (batch, time, heads, size))

        q = project(self.q_kernel, self.q_bias, d)
        k = project(self.k_kernel, self.k_bias, d) * (1.0 / math.sqrt(d))
        v = project(self.v_kernel, self.v_bias, d)
        log_i = ops.cast(
            self.dense(inputs, self.igate_kernel, self.igate_bias), dtype
        )
        log_f = ops.cast(
            self.dense(inputs, self.fgate_kernel, self.fgate_bias), dtype
        )
        if self.forget_gate == "sigmoid":
            log_f = ops.log_sigmoid(log_f)
        if state is None:
            state = [ops.zeros((batch, *s), dtype) for s in self.state_shapes]
        else:
            state = [ops.cast(s, dtype) for s in state]

        if self.mode == "recurrent":
            h, new_state = self._recurrent(q, k, v, log_i, log_f, state)
        else:
            h, new_state = self._chunkwise(q, k, v, log_i, log_f, state)

        h = ops.cast(
            ops.reshape(h, (batch, time, heads * d)), self.compute_dtype
        )
        o = ops.sigmoid(self.dense(inputs, self.ogate_kernel, self.ogate_bias))
        # The output gate: a Hadamard product with the memory's read-out.
        outputs = self.dense(o * h, self.output_kernel, self.output_bias)
        if return_state:
            return [outputs, *new_state]
        return outputs

    def _recurrent(self, q, k, v, log_i, log_f, state):
        """The stabilised recurrence, one step at a time."""

        def step(carry, inputs):
            c, n, m = carry
            q_t, k_t, v_t, log_i_t, log_f_t = inputs
            m_new = ops.maximum(log_f_t + m, log_i_t)
            f_t = ops.exp(log_f_t + m - m_new)  # stabilised forget gate
            i_t = ops.exp(log_i_t - m_new)  # stabilised input gate
            # C_t = f_t C_{t−1} + i_t v_t k_tᵀ, n_t = f_t n_{t−1} + i_t k_t
            outer = ops.einsum("bhv,bhk->bhvk", v_t, k_t)
            c = f_t[..., None, None] * c + i_t[..., None, None] * outer
            n = f_t[..., None] * n + i_t[..., None] * k_t
            numerator = ops.einsum("bhvk,bhk->bhv", c, q_t)
            denominator = ops.maximum(
                ops.abs(ops.sum(n * q_t, axis=-1)), _floor(m_new)
            )
            return [c, n, m_new], numerator / denominator[..., None]

        xs = [_chunked.time_major(x) for x in (q, k, v, log_i, log_f)]
        new_state, h = _chunked.scan_time(
            step, state, xs, lambda: ops.zeros_like(xs[2])
        )
        return _chunked.time_major(h), new_state

    def _chunkwise(self, q, k, v, log_i, log_f, state):
        """Chunks in parallel in log space, then a scan over chunks."""
        time = ops.shape(q)[1]
        size = self.chunk_size
        q, k, v = (_chunked.to_chunks(x, size) for x in (q, k, v))
        # Padded steps have f = 1 and i = 0: they leave the state (and m)
        # as the last real step left it.
        log_f = _chunked.to_chunks(log_f, size)  # (B, N, C, H)
        log_i = _chunked.to_chunks(log_i, size, pad_value=_chunked.LOG_ZERO)
        b = ops.cumsum(log_f, axis=2)
        # log-weight of v_s k_sᵀ in C_t (s <= t): b_t − b_s + ĩ_s.
        mask = _chunked.causal_mask(size)[None, None, :, :, None]
        log_w = b[:, :, :, None] - b[:, :, None, :] + log_i[:, :, None, :]
        log_w = ops.where(mask, log_w, _chunked.LOG_ZERO)  # (B, N, t, s, H)
        intra_max = ops.max(log_w, axis=3)  # (B, N, t, H)

        # What each chunk adds to the state, stabilised by its own maximum.
        end_max = intra_max[:, :, -1]
        end_w = ops.exp(log_w[:, :, -1] - end_max[:, :, None])  # (B,N,s,H)
        add_c = ops.einsum("bnsh,bnshv,bnshk->bnhvk", end_w, v, k)
        add_n = ops.einsum("bnsh,bnshk->bnhk", end_w, k)

        def carry_over(carry, chunk):
            c_in, n_in, m_in = carry
            b_end, chunk_max, chunk_c, chunk_n = chunk
            m_out = ops.maximum(b_end + m_in, chunk_max)
            old = ops.exp(b_end + m_in - m_out)
            new = ops.exp(chunk_max - m_out)
            return [
                old[..., None, None] * c_in + new[..., None, None] * chunk_c,
                old[..., None] * n_in + new[..., None] * chunk_n,
                m_out,
            ]

        chunks = [b[:, :, -1], end_max, add_c, add_n]
        new_state, entering = _chunked.scan_chunks(
            carry_over, state, [_chunked.time_major(x) for x in chunks]
        )
        c_in, n_in, m_in = (_chunked.time_major(x) for x in entering)

        log_old = b + m_in[:, :, None]  # log-weight of the entering state
        m = ops.maximum(log_old, intra_max)  # m_t of the recurrence
        old = ops.exp(log_old - m)
        w = ops.exp(log_w - m[:, :, :, None])
        scores = w * ops.einsum("bnthk,bnshk->bntsh", q, k)
        numerator = ops.einsum("bntsh,bnshv->bnthv", scores, v)
        numerator = numerator + old[..., None] * ops.einsum(
            "bnhvk,bnthk->bnthv", c_in, q
        )
        dot = ops.sum(scores, axis=3) + old * ops.einsum(
            "bnhk,bnthk->bnth", n_in, q
        )
        denominator = ops.maximum(ops.abs(dot), _floor(m))
        h = numerator / denominator[..., None]
        return _chunked.from_chunks(h, time), list(new_state)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_output_spec(
        self, inputs, initial_state=None, return_state=False
    ):
        outputs = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if not return_state:
            return outputs
        dtype = _chunked.core_dtype(self)
        state = [
            keras.KerasTensor((inputs.shape[0], *shape), dtype)
            for shape in self.state_shapes
        ]
        return [outputs, *state]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "forget_gate": self.forget_gate,
                "mode": self.mode,
                "chunk_size": self.chunk_size,
            }
        )
        return config
