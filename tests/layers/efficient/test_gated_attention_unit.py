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


def silu(x):
    return x / (1.0 + np.exp(-x))


def attention_function(x, name):
    if name == "relu_squared":
        return np.maximum(x, 0.0) ** 2
    # Mega's Laplace function, μ = √½, σ = √(1/4π).
    mu, sigma = np.sqrt(0.5), np.sqrt(1.0 / (4.0 * np.pi))
    return 0.5 * (1.0 + erf((x - mu) / (sigma * np.sqrt(2.0))))


def gau_reference(
    inputs,
    weights,
    causal=False,
    activation="relu_squared",
    mask=None,
    return_attention=False,
):
    """O = (U * (A V)) W_o, A = f(Q Kᵀ / N) on valid (and past) keys.

    U, V, Z = silu(X W_{u,v,z}); Q, K = Z * γ_{0,1} + β_{0,1}; N counts
    the valid keys of each sequence.
    """
    (x,) = inputs
    x = x.astype("float64")

    def silu_proj(name):
        return silu(
            x @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0)
        )

    u, v, z = silu_proj("u"), silu_proj("v"), silu_proj("z")
    gamma, beta = weights["offset_scale/gamma"], weights["offset_scale/beta"]
    q, k = z * gamma[0] + beta[0], z * gamma[1] + beta[1]
    batch, n = x.shape[:2]
    valid = np.ones((batch, n)) if mask is None else mask.astype("float64")
    out = np.zeros_like(v)
    attention = np.zeros((batch, n, n))
    for b in range(batch):
        count = max(valid[b].sum(), 1.0)
        a = attention_function(q[b] @ k[b].T / count, activation)
        a = a * valid[b][None, :]
        if causal:
            a = a * np.tril(np.ones((n, n)))
        attention[b] = a
        out[b] = a @ v[b]
    if return_attention:
        return attention
    gated = u * out
    return gated @ weights["output_kernel"] + weights.get("output_bias", 0.0)


def reference_with(**kwargs):
    return lambda x, w: gau_reference(x, w, **kwargs)


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
        name="gau_noncausal",
        layer_cls=GatedAttentionUnit,
        init_kwargs=dict(key_dim=4),
        input_shapes=(2, 5, 6),
        reference=reference_with(),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
    LayerCase(
        name="gau_causal_nobias_ef1.5",
        layer_cls=GatedAttentionUnit,
        init_kwargs=dict(
            expansion_factor=1.5, key_dim=3, causal=True, use_bias=False
        ),
        input_shapes=(2, 6, 4),
        reference=reference_with(causal=True),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
    LayerCase(
        name="gau_laplace",
        layer_cls=GatedAttentionUnit,
        init_kwargs=dict(key_dim=4, attention_activation="laplace"),
        input_shapes=(2, 5, 6),
        reference=reference_with(activation="laplace"),
        weight_overrides=OVERRIDES,
        input_range=(-2.0, 2.0),
        bf16_tolerance=BF16_TOLERANCE,
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden_cases_exercise_the_attention(case):
    # relu² attention is dead (all zero) when every score is negative; the
    # golden outputs would then not test it.
    inputs, weights, _ = load_golden(case)
    attention = gau_reference(
        inputs,
        weights,
        causal=case.init_kwargs.get("causal", False),
        activation=case.init_kwargs.get("attention_activation", "relu_squared"),
        return_attention=True,
    )
    assert (attention > 1e-3).mean() > 0.1


# ------------------------------------------------------------ helpers


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer(d_model=6, seed=1, **kwargs):
    """A built layer with random weights; returns it and its weight dict."""
    layer = GatedAttentionUnit(**{"key_dim": 4, **kwargs})
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
    mask = np.ones((3, 7), bool)
    mask[1, 4:] = False  # right padding
    mask[2, [0, 3, 5]] = False  # holes, including the first position
    return mask


# ---------------------------------------------------------------- masks


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("activation", ["relu_squared", "laplace"])
def test_mask_matches_the_reference(causal, activation):
    layer, weights = _layer(causal=causal, attention_activation=activation)
    x, mask = _inputs((3, 7, 6)), _mask()
    expected = gau_reference(
        [x], weights, causal=causal, activation=activation, mask=mask
    )
    actual = _numpy(layer(x, mask=mask))
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_right_padding_with_a_mask_changes_nothing(causal):
    # N counts the valid keys, so padded keys neither attend nor rescale.
    layer, _ = _layer(causal=causal, attention_activation="laplace")
    x = _inputs((2, 5, 6))
    padded = np.concatenate([x, _inputs((2, 3, 6), seed=9) * 5.0], axis=1)
    mask = np.arange(8)[None, :].repeat(2, 0) < 5
    expected = _numpy(layer(x))
    actual = _numpy(layer(padded, mask=mask))[:, :5]
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)


def test_fully_masked_sequence_stays_finite():
    layer, _ = _layer()
    y = _numpy(layer(_inputs((2, 4, 6)), mask=np.zeros((2, 4), bool)))
    assert np.all(np.isfinite(y))


def test_keras_mask_is_used_and_passed_on():
    layer, _ = _layer()
    tokens = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(10, 6, mask_zero=True)
    out = layer(embedding(tokens))
    assert tuple(out._keras_mask.shape) == (None, None)
    model = keras.Model(tokens, out)
    ids = np.array([[3, 1, 4, 1, 0, 0], [5, 9, 2, 6, 5, 3]], "int32")
    embedded = _numpy(embedding(ids))
    expected = _numpy(layer(embedded, mask=ids != 0))
    actual = model.predict(ids, verbose=0)
    np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "mask_shape", [(2, 4, 1), (2,), (2, 5), (3, 4)], ids=str
)
def test_wrong_mask_shape(mask_shape):
    layer, _ = _layer()
    with pytest.raises(ValueError, match="`mask`"):
        layer(_inputs((2, 4, 6)), mask=np.ones(mask_shape, bool))


# ------------------------------------------------------------ causality


def test_outputs_do_not_depend_on_future_inputs():
    layer, _ = _layer(causal=True)
    x = _inputs((2, 7, 6), seed=6)
    before = _numpy(layer(x))
    for t in (0, 3):
        perturbed = x.copy()
        perturbed[:, t + 1 :] = _inputs((2, 6 - t, 6), seed=10 + t) * 3.0
        after = _numpy(layer(perturbed))
        np.testing.assert_allclose(
            after[:, : t + 1], before[:, : t + 1], atol=1e-6, rtol=1e-6
        )
        assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :])


def test_non_causal_outputs_do_depend_on_future_inputs():
    layer, _ = _layer(causal=False)
    x = _inputs((2, 7, 6), seed=6)
    perturbed = x.copy()
    perturbed[:, 4:] += 1.0
    assert not np.allclose(
        _numpy(layer(x))[:, :4], _numpy(layer(perturbed))[:, :4]
    )


# ------------------------------------------------------- unknown length


def test_unknown_sequence_length():
    layer, weights = _layer(causal=True)
    inputs = keras.Input((None, 6))
    outputs = layer(inputs)
    assert tuple(outputs.shape) == (None, None, 6)
    model = keras.Model(inputs, outputs)
    for time in (3, 8):
        x = _inputs((2, time, 6), seed=time)
        expected = gau_reference([x], weights, causal=True)
        actual = model.predict(x, verbose=0)
        np.testing.assert_allclose(actual, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="a graph with an unknown length exists on TensorFlow only",
)
def test_unknown_length_in_a_tensorflow_graph():
    import tensorflow as tf

    layer, weights = _layer()
    fn = tf.function(
        lambda x, m: layer(x, mask=m),
        input_signature=[
            tf.TensorSpec((None, None, 6)),
            tf.TensorSpec((None, None), tf.bool),
        ],
    )
    x, mask = _inputs((3, 7, 6)), _mask()
    expected = gau_reference([x], weights, mask=mask)
    np.testing.assert_allclose(
        fn(x, mask).numpy(), expected, atol=1e-5, rtol=1e-5
    )


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(expansion_factor=0), "expansion_factor"),
        (dict(expansion_factor=-2), "expansion_factor"),
        (dict(expansion_factor="2"), "expansion_factor"),
        (dict(expansion_factor=float("inf")), "expansion_factor"),
        (dict(key_dim=0), "key_dim"),
        (dict(key_dim=-4), "key_dim"),
        (dict(key_dim=2.5), "key_dim"),
        (dict(causal="yes"), "causal"),
        (dict(attention_activation="softmax"), "attention_activation"),
        (dict(use_bias=1), "use_bias"),
        (dict(kernel_initializer="no_such_init"), "kernel_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GatedAttentionUnit(**kwargs)


def test_expansion_to_zero_units():
    layer = GatedAttentionUnit(expansion_factor=0.1, key_dim=4)
    with pytest.raises(ValueError, match="expansion_factor"):
        layer(np.zeros((2, 3, 4), "float32"))


@pytest.mark.parametrize("shape", [(2, 6), (2, 3, 4, 6)])
def test_wrong_rank_input(shape):
    layer = GatedAttentionUnit(key_dim=4)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.zeros(shape, "float32"))


def test_wrong_input_after_build():
    layer = GatedAttentionUnit(key_dim=4)
    layer(np.zeros((2, 7, 8), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 7, 5), "float32"))


def test_defaults():
    layer = GatedAttentionUnit()
    layer.build((None, None, 16))
    assert layer.key_dim == 128 and layer.hidden_dim == 32
    assert tuple(layer.offset_scale.gamma.shape) == (2, 128)
