"""What the gated linear recurrences (HGRN, GLA, mLSTM) share.

Each of those layers computes one recurrence two ways: step by step over
time (`mode="recurrent"`), and chunk by chunk (`mode="chunkwise"`), where
the steps inside a chunk run in parallel from cumulative sums of the
log-gates and a short scan carries the state from one chunk to the next.
The helpers here are the parts that do not depend on the recurrence: the
scans, the chunking, the causal mask, the state checks and the RMS norm.
"""

import keras
from keras import ops

MODES = ("recurrent", "chunkwise")

# Stands for log(0) in masked log-weights. Finite, so that no `inf - inf`
# or `0 * inf` can reach a gradient; exp() of it is exactly 0.
LOG_ZERO = -1e30


def core_dtype(layer):
    """float32 under mixed precision: the state sums too many terms for
    bfloat16's 8 bits of mantissa."""
    dtype = layer.compute_dtype
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def check_sequence_shape(layer, input_shape):
    """Returns `d_model` of a `(batch, time, d_model)` shape, else raises."""
    shape = tuple(input_shape)
    kind = type(layer).__name__
    if len(shape) != 3:
        raise ValueError(
            f"Layer '{layer.name}' ({kind}) expects `inputs` of rank 3, "
            f"(batch, time, d_model). Received inputs with shape {shape}."
        )
    if shape[-1] is None:
        raise ValueError(
            f"Layer '{layer.name}' ({kind}) needs the last axis of `inputs` "
            f"to be defined. Received shape {shape}."
        )
    return int(shape[-1])


def require_built(layer):
    """Raises unless `layer` is built: its state size comes from `d_model`."""
    if not layer.built:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) sizes its state "
            "from the inputs' last axis: call it or `build()` it before "
            "`get_initial_state()`."
        )


def check_initial_state(layer, initial_state, inputs, names, shapes):
    """Returns `initial_state` as a list, or raises a `ValueError`.

    `shapes` are the expected shapes without the batch axis; `names` the
    names of the state tensors, for the message. Only what is known
    statically is checked.
    """
    if initial_state is None:
        return None
    expected = ", ".join(
        f"{n}: (batch, {', '.join(str(s) for s in shape)})"
        for n, shape in zip(names, shapes, strict=True)
    )
    if (
        not isinstance(initial_state, (list, tuple))
        or len(initial_state) != len(names)
        or any(not hasattr(s, "shape") for s in initial_state)
    ):
        raise ValueError(
            f"`initial_state` must be None or a list [{', '.join(names)}] "
            f"of {len(names)} tensor(s) (the state a call with "
            f"return_state=True returns) with shapes {expected}. "
            f"Received: initial_state={_describe(initial_state)}."
        )
    batch = inputs.shape[0]
    for name, state, shape in zip(names, initial_state, shapes, strict=True):
        got = tuple(state.shape)
        expected_shape = (batch, *shape)
        same_rank = len(got) == len(expected_shape)
        if not same_rank or any(
            g is not None and e is not None and g != e
            for g, e in zip(got, expected_shape, strict=True)
        ):
            raise ValueError(
                f"Layer '{layer.name}' ({type(layer).__name__}) expects "
                f"`initial_state` of shapes {expected} for inputs of shape "
                f"{tuple(inputs.shape)}. Received {name} of shape {got}."
            )
    return list(initial_state)


def _describe(value):
    """Shapes rather than values: a state tensor can be large."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_describe(v) for v in value) + "]"
    if hasattr(value, "shape"):
        return f"<{type(value).__name__} of shape {tuple(value.shape)}>"
    return repr(value)


def rms_normalize(x, scale, epsilon):
    """x / √(mean(x²) + ε) * scale over the last axis."""
    mean_square = ops.mean(ops.square(x), axis=-1, keepdims=True)
    return x * ops.rsqrt(mean_square + epsilon) * scale


def scan_time(step, state, xs, zeros_like_ys):
    """Runs `step(state, x_t) -> (state, y_t)` over the leading axis of xs.

    `state` and `xs` are lists of tensors; `y_t` a tensor or a list. Returns
    the final state (a list) and the stacked `y_t`. `zeros_like_ys()`
    returns zero tensors shaped like the stacked outputs, which only the
    TensorFlow path needs.
    """
    if keras.backend.backend() != "tensorflow":
        state, ys = ops.scan(step, list(state), list(xs))
        return list(state), ys

    # Keras's TensorFlow scan needs every y_t to have the shape of the
    # carry (keras-team/keras#19681) and fails on an unknown length with
    # several xs; a while loop writes y_t into carried buffers instead
    # (scatter_update, which has a gradient in TensorFlow where
    # slice_update has none).
    buffers = zeros_like_ys()
    nested = isinstance(buffers, (list, tuple))
    buffers = list(buffers) if nested else [buffers]
    size = len(state)

    def body(t, carry):
        new_state, y_t = step(carry[:size], [x[t] for x in xs])
        y_t = list(y_t) if nested else [y_t]
        index = ops.reshape(t, (1, 1))
        ys = [
            ops.scatter_update(buffer, index, y[None])
            for buffer, y in zip(carry[size:], y_t, strict=True)
        ]
        return [*new_state, *ys]

    time = ops.shape(xs[0])[0]
    # XLA differentiates a while loop only with a bound on its iterations
    # (it stacks the loop's intermediates in fixed-size tensor lists).
    _, carry = ops.while_loop(
        lambda t, carry: t < time,
        lambda t, carry: (t + 1, body(t, carry)),
        (0, [*state, *buffers]),
        maximum_iterations=time,
    )
    ys = list(carry[size:])
    return list(carry[:size]), ys if nested else ys[0]


def scan_chunks(step, state, xs):
    """Carries the state across chunks: `state_n = step(state_{n-1}, x_n)`.

    `state` and `xs` are lists; the leading axis of `xs` runs over chunks.
    Returns the final state and, stacked over chunks, the states that
    *entered* each chunk (the ones its outputs read).
    """

    def body(carry, x):
        return step(carry, x), list(carry)

    def zeros_like_ys():
        count = ops.shape(xs[0])[0]
        return [ops.zeros((count, *ops.shape(s)), s.dtype) for s in state]

    return scan_time(body, state, xs, zeros_like_ys)


def to_chunks(x, chunk_size, pad_value=0.0):
    """(B, T, ...) -> (B, N, chunk_size, ...), padding T with `pad_value`.

    The layers pick pad values that leave the state unchanged (gate 1,
    input 0), so the final state is that of the last real step.
    """
    time = ops.shape(x)[1]
    padding = (-time) % chunk_size
    pad = [(0, 0), (0, padding)] + [(0, 0)] * (len(x.shape) - 2)
    x = ops.pad(x, pad, constant_values=pad_value)
    return ops.reshape(x, (ops.shape(x)[0], -1, chunk_size, *x.shape[2:]))


def from_chunks(x, time):
    """(B, N, C, ...) -> (B, T, ...), dropping the padded steps."""
    x = ops.reshape(x, (ops.shape(x)[0], -1, *x.shape[3:]))
    return x[:, :time]


def time_major(x):
    """Swaps the first two axes: (B, T, ...) <-> (T, B, ...)."""
    return ops.moveaxis(x, 1, 0)


def causal_mask(chunk_size):
    """Boolean (C, C) mask, True where source s <= target t."""
    positions = ops.arange(chunk_size)
    return positions[:, None] >= positions[None, :]


def masked_decay(log_cumsum, mask):
    """exp(L_t − L_s) for s <= t, 0 above the diagonal.

    `log_cumsum` is (B, N, C, ...), the within-chunk cumulative log-gates;
    the result is (B, N, C_t, C_s, ...). The difference is masked *before*
    exp(): above the diagonal it is positive and may overflow, and the
    factorised form exp(L_t) · exp(−L_s) overflows for long chunks of
    small gates. Every exponent used is <= 0.
    """
    diff = log_cumsum[:, :, :, None] - log_cumsum[:, :, None, :]
    extra = len(log_cumsum.shape) - 3
    mask = ops.reshape(mask, (1, 1, *mask.shape, *([1] * extra)))
    return ops.exp(ops.where(mask, diff, LOG_ZERO))
