import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.efficient.poly_sa import PolySA


def poly_reference(inputs, weights, causal=False, mask=None):
    """Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3, φ a (masked) mean.

    Token axes are every axis between batch and channels; φ_t averages the
    valid tokens (all of them, or those s <= t when causal), 0 if none.
    Written as a loop over tokens, independent of the layer's cumsum.
    """
    (x,) = inputs
    x = x.astype("float64")
    batch, channels = x.shape[0], x.shape[-1]
    tokens = x.reshape(batch, -1, channels)
    n = tokens.shape[1]
    valid = np.ones((batch, n))
    if mask is not None:
        valid = np.asarray(mask, "float64").reshape(batch, n)

    def linear(i, a):
        return a @ weights[f"w{i}_kernel"] + weights.get(f"w{i}_bias", 0.0)

    p = linear(1, tokens) * linear(2, tokens)
    phi = np.zeros_like(p)
    for b in range(batch):
        for t in range(n):
            seen = slice(0, t + 1) if causal else slice(0, n)
            m = valid[b, seen]
            total = (m[:, None] * p[b, seen]).sum(axis=0)
            phi[b, t] = total / max(1.0, m.sum())
    y = linear(3, phi * tokens)
    z = weights["alpha"] * tokens + weights["beta"] * y
    return z.reshape(x.shape)


def reference_with(**kwargs):
    return lambda x, w: poly_reference(x, w, **kwargs)


# Row 0: trailing padding; row 1: leading padding (no valid token before
# t = 2, the 0-count guard of the causal mean); row 2: nothing valid.
MASK = np.array(
    [
        [1, 1, 1, 1, 0, 0],
        [0, 0, 1, 0, 1, 1],
        [0, 0, 0, 0, 0, 0],
    ],
    bool,
)

CASES = [
    LayerCase(
        name="polysa_default",
        layer_cls=PolySA,
        init_kwargs=dict(),
        input_shapes=(2, 6, 4),
        reference=reference_with(),
    ),
    LayerCase(
        name="polysa_causal",
        layer_cls=PolySA,
        init_kwargs=dict(causal=True),
        input_shapes=(2, 6, 4),
        reference=reference_with(causal=True),
    ),
    LayerCase(
        name="polysa_bias_inits",
        layer_cls=PolySA,
        init_kwargs=dict(
            use_bias=True, alpha_initializer=0.5, beta_initializer="ones"
        ),
        input_shapes=(3, 5, 3),
        reference=reference_with(),
        weight_scale=0.8,
        # Draw α, β away from 0 so both paths weigh in the golden output.
        weight_overrides={
            "alpha": lambda rng, shape: rng.uniform(0.5, 1.5, shape),
            "beta": lambda rng, shape: rng.uniform(1.0, 2.0, shape),
        },
    ),
    LayerCase(
        name="polysa_masked",
        layer_cls=PolySA,
        init_kwargs=dict(),
        input_shapes=(3, 6, 4),
        reference=reference_with(mask=MASK),
        call_kwargs=dict(mask=MASK),
    ),
    LayerCase(
        name="polysa_causal_masked_bias",
        layer_cls=PolySA,
        init_kwargs=dict(causal=True, use_bias=True),
        input_shapes=(3, 6, 4),
        reference=reference_with(causal=True, mask=MASK),
        call_kwargs=dict(mask=MASK),
    ),
]

test_harness = layer_tests(CASES)


def random_layer(seed=0, channels=4, **kwargs):
    """A built layer whose weights (β included) are all non-trivial."""
    layer = PolySA(
        kernel_initializer=keras.initializers.RandomUniform(-0.8, 0.8, seed),
        bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed),
        alpha_initializer=0.7,
        beta_initializer=1.3,
        **kwargs,
    )
    layer.build((None, None, channels))
    return layer


def inputs(shape, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def run(layer, x, **kwargs):
    return keras.ops.convert_to_numpy(layer(x, **kwargs))


def layer_weights(layer):
    return {
        v.path.split("/")[-1]: keras.ops.convert_to_numpy(v)
        for v in layer.weights
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(causal="yes"), "causal"),
        (dict(causal=1), "causal"),
        (dict(use_bias="yes"), "use_bias"),
        (dict(alpha_initializer="no_such_init"), "alpha_initializer"),
        (dict(beta_initializer="no_such_init"), "beta_initializer"),
        (dict(kernel_initializer="no_such_init"), "kernel_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolySA(**kwargs)


@pytest.mark.parametrize("shape", [(2, 4), (2, 3, 4, 5)])
def test_wrong_input_rank(shape):
    with pytest.raises(ValueError, match="rank 3"):
        PolySA()(np.zeros(shape, "float32"))


def test_wrong_last_axis_at_call():
    layer = PolySA()
    layer(np.zeros((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 3, 5), "float32"))


@pytest.mark.parametrize("mask_shape", [(2, 5), (2, 6, 1), (6,), (3, 6)])
def test_mask_of_wrong_shape(mask_shape):
    with pytest.raises(ValueError, match=r"`mask` of shape .*\(2, 6\)"):
        PolySA()(np.zeros((2, 6, 4), "float32"), mask=np.ones(mask_shape))


def test_mask_of_wrong_shape_symbolic():
    x = keras.Input((6, 4))
    mask = keras.Input((5,), dtype="bool")
    with pytest.raises(ValueError, match="`mask` of shape"):
        PolySA()(x, mask=mask)


def test_starts_as_the_identity():
    # α = 1, β = 0 by default: a residual block that starts as a no-op.
    x = inputs((2, 5, 4))
    np.testing.assert_allclose(run(PolySA(), x), x, atol=1e-6)


def test_beta_init_zero_still_trains_the_kernels():
    # With β = 0 the kernels get no gradient at step 1, only β does; from
    # step 2 on they move too.
    x, y = inputs((4, 5, 3)), inputs((4, 5, 3), seed=2)
    layer = PolySA()
    model = keras.Sequential([keras.Input((5, 3)), layer])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = layer_weights(layer)
    for _ in range(2):
        model.train_on_batch(x, y)
    after = layer_weights(layer)
    for name in ("w1_kernel", "w2_kernel", "w3_kernel", "beta"):
        assert not np.array_equal(before[name], after[name]), name


@pytest.mark.parametrize("use_mask", [False, True])
def test_causal_output_ignores_future_tokens(use_mask):
    layer = random_layer(causal=True)
    x = inputs((2, 8, 4))
    changed = x.copy()
    changed[:, 5:] = inputs((2, 3, 4), seed=7) * 10
    mask = None
    if use_mask:
        mask = np.array([[1, 0, 1, 1, 1, 1, 0, 1], [0] * 3 + [1] * 5], bool)
    first = run(layer, x, mask=mask)
    second = run(layer, changed, mask=mask)
    np.testing.assert_allclose(first[:, :5], second[:, :5], atol=1e-6)
    assert not np.allclose(first[:, 5:], second[:, 5:])


def test_causal_last_position_equals_non_causal():
    causal = random_layer(causal=True)
    full = random_layer(causal=False)
    full.set_weights(causal.get_weights())
    x = inputs((2, 7, 4))
    np.testing.assert_allclose(
        run(causal, x)[:, -1], run(full, x)[:, -1], atol=1e-5, rtol=1e-5
    )
    assert not np.allclose(run(causal, x)[:, 0], run(full, x)[:, 0])


@pytest.mark.parametrize("causal", [False, True])
def test_masked_tokens_do_not_reach_valid_outputs(causal):
    layer = random_layer(causal=causal)
    x = inputs((2, 6, 4))
    mask = np.array([[1, 1, 0, 1, 0, 0], [0, 1, 1, 1, 1, 0]], bool)
    changed = np.where(mask[..., None], x, np.inf).astype("float32")
    expected = run(layer, x, mask=mask)
    actual = run(layer, changed, mask=mask)
    np.testing.assert_allclose(actual[mask], expected[mask], atol=1e-6)
    # Masked tokens still get an output, from the valid tokens' average.
    reference = poly_reference([x], layer_weights(layer), causal, mask)
    np.testing.assert_allclose(expected, reference, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("causal", [False, True])
def test_all_tokens_masked_gives_no_nan(causal):
    layer = random_layer(causal=causal, use_bias=True)
    x = inputs((2, 5, 4))
    out = run(layer, x, mask=np.zeros((2, 5), bool))
    w = layer_weights(layer)
    # φ = 0, so Y is the bias of W_3 alone.
    np.testing.assert_allclose(
        out, w["alpha"] * x + w["beta"] * w["w3_bias"], atol=1e-6
    )


def test_float_mask_is_accepted():
    layer = random_layer()
    x = inputs((2, 5, 4))
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 0, 1]])
    np.testing.assert_allclose(
        run(layer, x, mask=mask.astype("float32")),
        run(layer, x, mask=mask.astype(bool)),
        atol=1e-6,
    )


def test_keras_padding_mask_is_used_and_passed_on():
    ids = np.array([[3, 1, 4, 1, 0, 0], [5, 9, 2, 6, 5, 0]], "int32")
    embedding = keras.layers.Embedding(10, 4, mask_zero=True)
    layer = random_layer()
    pooling = keras.layers.GlobalAveragePooling1D()
    inp = keras.Input((6,), dtype="int32")
    hidden = layer(embedding(inp))
    model = keras.Model(inp, [hidden, pooling(hidden)])
    hidden_out, pooled_out = (keras.ops.convert_to_numpy(t) for t in model(ids))

    mask = ids != 0
    vectors = keras.ops.convert_to_numpy(embedding(ids))
    expected = run(layer, vectors, mask=mask)
    np.testing.assert_allclose(hidden_out, expected, atol=1e-6)
    # The pooling saw the mask PolySA passed on: padding is left out.
    masked_mean = (expected * mask[..., None]).sum(1) / mask.sum(1)[:, None]
    np.testing.assert_allclose(pooled_out, masked_mean, atol=1e-5)


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="reads the traced jaxpr"
)
@pytest.mark.parametrize("causal", [False, True])
def test_no_token_by_token_tensor(causal):
    import jax

    n, channels = 11, 4
    layer = random_layer(causal=causal, channels=channels)
    x = inputs((2, n, channels))
    mask = np.ones((2, n), bool)
    jaxpr = jax.make_jaxpr(lambda a, m: layer(a, mask=m))(x, mask)

    def shapes(jaxpr):
        for eqn in jaxpr.eqns:
            for var in eqn.outvars:
                yield tuple(getattr(var.aval, "shape", ()))
            for param in eqn.params.values():
                inner = getattr(param, "jaxpr", None)
                if inner is not None:
                    yield from shapes(getattr(inner, "jaxpr", inner))

    found = list(shapes(jaxpr.jaxpr))
    assert found
    assert all(shape.count(n) <= 1 for shape in found), found


@pytest.mark.parametrize("causal", [False, True])
def test_long_sequence_under_mixed_precision(causal):
    # A cumulative sum kept in bfloat16 (TensorFlow keeps it so) drifts far
    # from the float32 one over 4096 terms; the layer sums in float32.
    weights = random_layer(causal=causal, channels=8).get_weights()
    x = inputs((1, 4096, 8)) + 1.0
    outs = []
    for dtype in ("float32", "mixed_bfloat16"):
        layer = random_layer(causal=causal, channels=8, dtype=dtype)
        layer.set_weights(weights)
        outs.append(run(layer, x).astype("float32"))
    scale = np.abs(outs[0]).max()
    np.testing.assert_allclose(outs[1], outs[0], atol=0.03 * scale)


@pytest.mark.parametrize("causal", [False, True])
def test_unknown_sequence_length(causal):
    layer = random_layer(causal=causal)
    inp = keras.Input((None, 4))
    mask = keras.Input((None,), dtype="bool")
    model = keras.Model([inp, mask], layer(inp, mask=mask))
    for length in (3, 9):
        x = inputs((2, length, 4))
        m = inputs((2, length), seed=4) > -0.5
        # predict() compiles the graph (tf.function / jit) with N unknown.
        np.testing.assert_allclose(
            model.predict([x, m], verbose=0),
            poly_reference([x], layer_weights(layer), causal, m),
            atol=1e-5,
            rtol=1e-5,
        )


@pytest.mark.parametrize("use_bias", [False, True])
def test_compiled_batch_of_wide_sequences(use_bias):
    # jaxlib 0.10.2's CPU compiler, given the pooled product written as
    # sum(W_1 * (G W_2), axis=1) followed by `pooled * tokens`, returned
    # wrong values for the second half of a batch of 8 at C = 128 (eager
    # was right); predict() compiles on every backend.
    batch, length, channels = 8, 64, 128
    layer = PolySA(
        use_bias=use_bias,
        kernel_initializer=keras.initializers.RandomUniform(-0.1, 0.1, 0),
        bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, 0),
        beta_initializer=1.0,
    )
    inp = keras.Input((length, channels))
    mask = keras.Input((length,), dtype="bool")
    model = keras.Model([inp, mask], layer(inp, mask=mask))
    x = inputs((batch, length, channels))
    counts = np.random.default_rng(3).integers(1, length + 1, size=batch)
    m = np.arange(length)[None] < counts[:, None]
    expected = poly_reference([x], layer_weights(layer), mask=m)
    actual = model.predict([x, m], verbose=0, batch_size=batch)
    scale = np.abs(expected).max(axis=(1, 2), keepdims=True)
    np.testing.assert_array_less(np.abs(actual - expected) / scale, 1e-5)


@pytest.mark.parametrize("use_bias", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_single_example_matches_the_reference(use_bias, masked):
    # A batch of one takes 2-D matrix products (`_gram_matrix`); the
    # reference and the batched path must agree with it, eager and
    # compiled (predict() traces with the batch size known on JAX).
    layer = random_layer(use_bias=use_bias, channels=6)
    x = inputs((1, 7, 6))
    m = np.array([[1, 1, 0, 1, 1, 0, 1]], bool) if masked else None
    expected = poly_reference([x], layer_weights(layer), mask=m)
    np.testing.assert_allclose(run(layer, x, mask=m), expected, atol=1e-5)
    batched = run(
        layer,
        np.concatenate([x, x + 0.5]),
        mask=None if m is None else np.concatenate([m, m]),
    )
    np.testing.assert_allclose(batched[:1], expected, atol=1e-5)
    inp = keras.Input((7, 6))
    if masked:
        mask_in = keras.Input((7,), dtype="bool")
        model = keras.Model([inp, mask_in], layer(inp, mask=mask_in))
        compiled = model.predict([x, m], verbose=0, batch_size=1)
    else:
        model = keras.Model(inp, layer(inp))
        compiled = model.predict(x, verbose=0, batch_size=1)
    np.testing.assert_allclose(compiled, expected, atol=1e-5)
