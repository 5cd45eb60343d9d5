import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from harness import load_golden
from scipy.special import erf

from hadamard_zoo.layers.efficient.gated_attention_unit import (
    GatedAttentionUnit,
)
from hadamard_zoo.layers.efficient.mixed_chunk_attention import (
    MixedChunkAttention,
)


def silu(x):
    return x / (1.0 + np.exp(-x))


def attention_function(x, name):
    if name == "relu_squared":
        return np.maximum(x, 0.0) ** 2
    mu, sigma = np.sqrt(0.5), np.sqrt(1.0 / (4.0 * np.pi))
    return 0.5 * (1.0 + erf((x - mu) / (sigma * np.sqrt(2.0))))


def mca_reference(
    inputs,
    weights,
    chunk_size,
    causal=False,
    activation="relu_squared",
    mask=None,
    return_attention=False,
):
    """FLASH, one query at a time, the last chunk simply shorter.

    quad_i = Σ_{j in chunk(i), valid (, j <= i)} f(q_quad,i·k_quad,j / G) v_j
    lin_i  = q_lin,i (Σ_{valid j} k_lin,jᵀ v_j) / N_valid        (non-causal)
    lin_i  = q_lin,i (Σ_{valid j in earlier chunks} k_lin,jᵀ v_j) / G
    O      = (U * (quad + lin)) W_o
    """
    (x,) = inputs
    x = x.astype("float64")

    def silu_proj(name):
        kernel = weights[f"{name}_kernel"]
        return silu(x @ kernel + weights.get(f"{name}_bias", 0.0))

    u, v, z = silu_proj("u"), silu_proj("v"), silu_proj("z")
    gamma, beta = weights["offset_scale/gamma"], weights["offset_scale/beta"]
    quad_q, quad_k, lin_q, lin_k = (z * gamma[h] + beta[h] for h in range(4))
    batch, n = x.shape[:2]
    g = chunk_size
    valid = np.ones((batch, n), bool) if mask is None else mask.astype(bool)
    out = np.zeros_like(v)
    attention = []  # every quadratic weight, for the test below
    for b in range(batch):
        keys = [j for j in range(n) if valid[b, j]]
        empty = np.zeros((z.shape[-1], v.shape[-1]))
        total = sum((np.outer(lin_k[b, j], v[b, j]) for j in keys), empty)
        total = total / max(len(keys), 1)
        for i in range(n):
            start = (i // g) * g
            quad = np.zeros(v.shape[-1])
            for j in range(start, min(start + g, n)):
                if not valid[b, j] or (causal and j > i):
                    continue
                score = quad_q[b, i] @ quad_k[b, j] / g
                attention.append(attention_function(score, activation))
                quad += attention[-1] * v[b, j]
            if causal:
                earlier = [j for j in keys if j < start]
                state = sum(
                    (np.outer(lin_k[b, j], v[b, j]) for j in earlier), empty
                )
                lin = lin_q[b, i] @ state / g
            else:
                lin = lin_q[b, i] @ total
            out[b, i] = quad + lin
    if return_attention:
        return np.array(attention)
    gated = u * out
    return gated @ weights["output_kernel"] + weights.get("output_bias", 0.0)


def reference_with(**kwargs):
    return lambda x, w: mca_reference(x, w, **kwargs)


# γ large enough that the attention term is not lost under the tolerance,
# and positive: Q Kᵀ then has both signs (with β dominant, every score had
# the sign of β_q · β_k and relu² attention was often dead).
OVERRIDES = {
    "gamma": lambda rng, shape: rng.uniform(1.0, 4.0, shape),
    "beta": lambda rng, shape: rng.uniform(-0.5, 0.5, shape),
}

# relu(q·k)² squares a product of two bfloat16 projections: its relative
# error is about four times bfloat16's, above the harness default of 5%.
BF16_TOLERANCE = 0.1

CASES = [
    LayerCase(
        name="mca_noncausal",
        layer_cls=MixedChunkAttention,
        init_kwargs=dict(chunk_size=4, key_dim=4),
        input_shapes=(2, 8, 6),
        reference=reference_with(chunk_size=4),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
    LayerCase(
        name="mca_causal_uneven",
        layer_cls=MixedChunkAttention,
        init_kwargs=dict(chunk_size=3, key_dim=4, causal=True),
        input_shapes=(2, 7, 6),  # 7 is not a multiple of 3
        reference=reference_with(chunk_size=3, causal=True),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
    LayerCase(
        name="mca_noncausal_uneven_laplace_nobias",
        layer_cls=MixedChunkAttention,
        init_kwargs=dict(
            chunk_size=4,
            key_dim=3,
            expansion_factor=1.5,
            attention_activation="laplace",
            use_bias=False,
        ),
        input_shapes=(2, 7, 4),
        reference=reference_with(chunk_size=4, activation="laplace"),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
    LayerCase(
        name="mca_chunk_longer_than_sequence",
        layer_cls=MixedChunkAttention,
        init_kwargs=dict(chunk_size=8, key_dim=4),
        input_shapes=(2, 5, 6),
        reference=reference_with(chunk_size=8),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_cases_exercise_the_attention(case):
    # relu² attention is dead (all zero) when every score is negative; the
    # golden outputs would then not test the quadratic part.
    inputs, weights, _ = load_golden(case)
    kwargs = {
        k: v
        for k, v in case.init_kwargs.items()
        if k in ("chunk_size", "causal")
    }
    attention = mca_reference(
        inputs,
        weights,
        activation=case.init_kwargs.get("attention_activation", "relu_squared"),
        return_attention=True,
        **kwargs,
    )
    assert (attention > 1e-3).mean() > 0.1


# ------------------------------------------------------------ helpers


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer(cls=MixedChunkAttention, d_model=6, seed=1, **kwargs):
    """A built layer with random weights; returns it and its weight dict."""
    layer = cls(**{"key_dim": 4, **kwargs})
    layer.build((None, None, d_model))
    rng = np.random.default_rng(seed)
    weights = {}
    for variable in layer.weights:
        name = variable.path.split("/", 1)[1]
        override = next((f for k, f in OVERRIDES.items() if k in name), None)
        if override is None:
            value = rng.uniform(-0.5, 0.5, variable.shape)
        else:
            value = override(rng, variable.shape)
        weights[name] = value.astype("float32")
        variable.assign(weights[name])
    return layer, weights


def _mask():
    mask = np.ones((3, 10), bool)
    mask[1, 6:] = False  # right padding
    mask[2, [0, 3, 4, 8]] = False  # holes, across chunk boundaries
    return mask


def assert_close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(actual, expected, atol=tol, rtol=tol)


# ---------------------------------------------------------------- masks


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("activation", ["relu_squared", "laplace"])
def test_mask_matches_the_reference(causal, activation):
    layer, weights = _layer(
        chunk_size=4, causal=causal, attention_activation=activation
    )
    x, mask = _inputs((3, 10, 6)), _mask()
    expected = mca_reference(
        [x], weights, 4, causal=causal, activation=activation, mask=mask
    )
    assert_close(_numpy(layer(x, mask=mask)), expected)


@pytest.mark.parametrize("causal", [False, True])
def test_right_padding_with_a_mask_changes_nothing(causal):
    layer, _ = _layer(
        chunk_size=3, causal=causal, attention_activation="laplace"
    )
    x = _inputs((2, 7, 6))
    padded = np.concatenate([x, _inputs((2, 4, 6), seed=9) * 5.0], axis=1)
    mask = np.arange(11)[None, :].repeat(2, 0) < 7
    expected = _numpy(layer(x))
    assert_close(_numpy(layer(padded, mask=mask))[:, :7], expected)


@pytest.mark.parametrize("mask_shape", [(2, 5, 1), (2,), (2, 6)], ids=str)
def test_wrong_mask_shape(mask_shape):
    layer, _ = _layer(chunk_size=2)
    with pytest.raises(ValueError, match="`mask`"):
        layer(_inputs((2, 5, 6)), mask=np.ones(mask_shape, bool))


# ------------------------------------- relation to the gated attention unit


@pytest.mark.parametrize("causal", [False, True])
def test_one_chunk_quadratic_part_is_the_gau(causal):
    # With G = N the quadratic normaliser G equals the GAU's N; zero linear
    # heads (γ, β rows 2, 3) leave the quadratic part alone.
    mca, weights = _layer(chunk_size=6, causal=causal)
    gau = GatedAttentionUnit(key_dim=4, causal=causal)
    gau.build((None, None, 6))
    for variable in gau.weights:
        name = variable.path.split("/", 1)[1]
        value = weights[name]
        if name.startswith("offset_scale/"):
            value = value[:2]
        variable.assign(value)
    for variable in mca.offset_scale.weights:
        value = _numpy(variable).copy()
        value[2:] = 0.0
        variable.assign(value)
    x = _inputs((2, 6, 6), seed=2)
    assert_close(_numpy(mca(x)), _numpy(gau(x)))


def test_causal_single_chunk_has_no_linear_part():
    # The exclusive sum over earlier chunks is empty in the first chunk.
    layer, _ = _layer(chunk_size=8, causal=True)
    x = _inputs((2, 6, 6), seed=3)
    before = _numpy(layer(x))
    gamma = _numpy(layer.offset_scale.gamma).copy()
    gamma[2:] *= -7.0
    layer.offset_scale.gamma.assign(gamma)
    assert_close(_numpy(layer(x)), before)


# ------------------------------------------------------------ causality


@pytest.mark.parametrize("chunk_size", [1, 3, 16])
def test_outputs_do_not_depend_on_future_inputs(chunk_size):
    layer, _ = _layer(chunk_size=chunk_size, causal=True)
    x = _inputs((2, 8, 6), seed=6)
    before = _numpy(layer(x))
    for t in (0, 2, 4):  # with G = 3: t = 2 ends a chunk, t = 4 is inside
        perturbed = x.copy()
        perturbed[:, t + 1 :] = _inputs((2, 7 - t, 6), seed=10 + t) * 3.0
        after = _numpy(layer(perturbed))
        assert_close(after[:, : t + 1], before[:, : t + 1], 1e-6)
        assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :])


def test_causal_outputs_do_not_depend_on_the_length():
    # Constant normalisers (G): a prefix gives the same outputs alone.
    layer, _ = _layer(chunk_size=3, causal=True)
    x = _inputs((2, 10, 6), seed=7)
    assert_close(_numpy(layer(x[:, :5])), _numpy(layer(x))[:, :5])


def test_non_causal_outputs_see_other_chunks():
    layer, _ = _layer(chunk_size=3)
    x = _inputs((2, 9, 6), seed=6)
    perturbed = x.copy()
    perturbed[:, 6:] += 1.0
    assert not np.allclose(
        _numpy(layer(x))[:, :3], _numpy(layer(perturbed))[:, :3]
    )


# ----------------------------------------------------------------- cost


@pytest.mark.parametrize("causal", [False, True])
def test_no_tensor_grows_with_length_squared(causal, monkeypatch):
    # Every pairwise product is an einsum; none may hold two axes of
    # length N (only G × G blocks per chunk).
    shapes = []
    einsum = keras.ops.einsum

    def recording_einsum(*args, **kwargs):
        out = einsum(*args, **kwargs)
        shapes.append(tuple(out.shape))
        return out

    monkeypatch.setattr(keras.ops, "einsum", recording_einsum)
    layer, _ = _layer(chunk_size=4, causal=causal)
    n = 21  # not a multiple of 4; differs from every other size here
    layer(_inputs((2, n, 6)))
    assert shapes
    padded = 24
    for shape in shapes:
        assert shape.count(n) + shape.count(padded) <= 1, shape


# ------------------------------------------------------- unknown length


def test_unknown_sequence_length():
    layer, weights = _layer(chunk_size=3, causal=True)
    inputs = keras.Input((None, 6))
    outputs = layer(inputs)
    assert tuple(outputs.shape) == (None, None, 6)
    model = keras.Model(inputs, outputs)
    for time in (2, 7, 9):
        x = _inputs((2, time, 6), seed=time)
        expected = mca_reference([x], weights, 3, causal=True)
        assert_close(model.predict(x, verbose=0), expected)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="a graph with an unknown length exists on TensorFlow only",
)
@pytest.mark.parametrize("causal", [False, True])
def test_unknown_length_in_a_tensorflow_graph(causal):
    import tensorflow as tf

    layer, weights = _layer(chunk_size=4, causal=causal)
    fn = tf.function(
        lambda x, m: layer(x, mask=m),
        input_signature=[
            tf.TensorSpec((None, None, 6)),
            tf.TensorSpec((None, None), tf.bool),
        ],
    )
    x, mask = _inputs((3, 10, 6)), _mask()
    expected = mca_reference([x], weights, 4, causal=causal, mask=mask)
    assert_close(fn(x, mask).numpy(), expected)


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(chunk_size=0), "chunk_size"),
        (dict(chunk_size=-256), "chunk_size"),
        (dict(chunk_size=2.0), "chunk_size"),
        (dict(chunk_size=None), "chunk_size"),
        (dict(expansion_factor=0), "expansion_factor"),
        (dict(expansion_factor=-1.0), "expansion_factor"),
        (dict(key_dim=0), "key_dim"),
        (dict(key_dim=True), "key_dim"),
        (dict(causal=1), "causal"),
        (dict(attention_activation="relu"), "attention_activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MixedChunkAttention(**kwargs)


@pytest.mark.parametrize("shape", [(2, 6), (2, 3, 4, 6)])
def test_wrong_rank_input(shape):
    layer = MixedChunkAttention(chunk_size=2, key_dim=4)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.zeros(shape, "float32"))


def test_defaults():
    layer = MixedChunkAttention()
    layer.build((None, None, 16))
    assert layer.chunk_size == 256 and layer.key_dim == 128
    assert tuple(layer.offset_scale.gamma.shape) == (4, 128)
