import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.gla import GLA

MODES = ("recurrent", "chunkwise")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gla_reference(
    inputs,
    weights,
    num_heads,
    expand_k=0.5,
    expand_v=1.0,
    normalizer=16.0,
    epsilon=1e-5,
    s0=None,
    return_state=False,
):
    """GLA as a loop over time and heads, one matrix state each, float64.

    α_t = σ(x W_α1 W_α2 + b)^(1/τ), S_t = diag(α_t) S_{t−1} + k_tᵀ v_t,
    o_t = q_t S_t / √d_k, y_t = (RMSNorm_head(o_t) * SiLU(x W_g)) W_o.
    """
    (x,) = inputs
    x = x.astype("float64")

    def linear(name, a):
        return a @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0.0)

    batch, time, d = x.shape
    hk = int(d * expand_k) // num_heads
    hv = int(d * expand_v) // num_heads
    if s0 is None:
        s0 = np.zeros((batch, num_heads, hk, hv))
    states = np.array(s0, "float64")
    outputs = []
    for t in range(time):
        x_t = x[:, t]
        q, k = linear("q", x_t), linear("k", x_t)
        v, g = linear("v", x_t), linear("g", x_t)
        low_rank = x_t @ weights["gate_down_kernel"]
        alpha = sigmoid(linear("gate_up", low_rank)) ** (1.0 / normalizer)
        heads = []
        for b in range(batch):
            row = []
            for h in range(num_heads):
                ks, vs = (
                    slice(h * hk, (h + 1) * hk),
                    slice(h * hv, (h + 1) * hv),
                )
                s = np.diag(alpha[b, ks]) @ states[b, h]
                s = s + np.outer(k[b, ks], v[b, vs])
                states[b, h] = s
                o = q[b, ks] @ s / np.sqrt(hk)
                rms = np.sqrt(np.mean(o**2) + epsilon)
                row.append(o / rms * weights["norm_scale"])
            heads.append(np.concatenate(row))
        o = np.stack(heads) * g * sigmoid(g)
        outputs.append(linear("output", o))
    y = np.stack(outputs, axis=1)
    return (y, states) if return_state else y


def reference_with(**kwargs):
    return lambda x, w: gla_reference(x, w, **kwargs)


CASES = [
    LayerCase(
        name="gla_recurrent",
        layer_cls=GLA,
        init_kwargs=dict(num_heads=2, mode="recurrent", gate_low_rank_dim=3),
        input_shapes=(2, 5, 8),
        reference=reference_with(num_heads=2),
    ),
    LayerCase(
        name="gla_chunkwise_bias_normalizer4",
        layer_cls=GLA,
        init_kwargs=dict(
            num_heads=2,
            mode="chunkwise",
            chunk_size=2,  # T = 5 is not a multiple of it
            gate_low_rank_dim=3,
            gate_logit_normalizer=4.0,
            use_bias=True,
        ),
        input_shapes=(2, 5, 8),
        reference=reference_with(num_heads=2, normalizer=4.0),
    ),
    LayerCase(
        name="gla_chunkwise_short_one_head",
        layer_cls=GLA,
        init_kwargs=dict(
            num_heads=1,
            mode="chunkwise",
            chunk_size=8,  # T < chunk_size
            expand_k=1.0,
            gate_low_rank_dim=2,
        ),
        input_shapes=(2, 3, 4),
        reference=reference_with(num_heads=1, expand_k=1.0),
    ),
]

test_harness = layer_tests(CASES)


# ------------------------------------------------------------ helpers


def _numpy(tensors):
    if isinstance(tensors, (list, tuple)):
        return [keras.ops.convert_to_numpy(t) for t in tensors]
    return keras.ops.convert_to_numpy(tensors)


def _inputs(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layers(modes=MODES, d_model=8, scale=0.8, **kwargs):
    """One layer per mode, all with the same (random) weights."""
    kwargs = {"num_heads": 2, "gate_low_rank_dim": 4, **kwargs}
    layers = {}
    weights = None
    for mode in modes:
        layer = GLA(mode=mode, **kwargs)
        layer.build((None, None, d_model))
        if weights is None:
            rng = np.random.default_rng(1)
            weights = [
                rng.uniform(-scale, scale, w.shape).astype("float32")
                for w in layer.get_weights()
            ]
        layer.set_weights(weights)
        layers[mode] = layer
    return layers


def _weights_by_name(layer):
    names = [v.path.split("/", 1)[1] for v in layer.weights]
    return dict(zip(names, layer.get_weights(), strict=True))


def assert_close(actual, expected, tol=1e-5, what=""):
    np.testing.assert_allclose(
        actual, expected, atol=tol, rtol=tol, err_msg=what
    )


# ------------------------------------------------- the paths agree


@pytest.mark.parametrize("time, chunk_size", [(3, 4), (6, 3), (7, 3), (9, 1)])
def test_recurrent_and_chunkwise_agree(time, chunk_size):
    # T < chunk_size, T a multiple and not a multiple of it, chunk_size 1
    # (T = 1 is the decoding test's first piece).
    layers = _layers(chunk_size=chunk_size)
    x = _inputs((2, time, 8))
    y_rec, s_rec = _numpy(layers["recurrent"](x, return_state=True))
    y_chk, s_chk = _numpy(layers["chunkwise"](x, return_state=True))
    assert y_chk.shape == (2, time, 8) and s_chk.shape == (2, 2, 2, 4)
    assert_close(y_chk, y_rec, 1e-5, "outputs")
    assert_close(s_chk, s_rec, 1e-5, "final states")


def test_chunkwise_stays_finite_with_strong_decay():
    # τ = 1/16 makes log α = 16 log σ(·): its sum over the first chunk of
    # 8 steps goes below −88, so the factor e^{−L_s} of a factorised chunk
    # form, exp(L_t) · exp(−L_s), would overflow float32. The per-pair
    # decay e^{L_t − L_s} never exceeds 1.
    layers = _layers(chunk_size=8, gate_logit_normalizer=1.0 / 16.0)
    x = _inputs((2, 9, 8), seed=7)
    w = _weights_by_name(layers["recurrent"])
    logits = x @ w["gate_down_kernel"] @ w["gate_up_kernel"]
    log_alpha = -16.0 * np.logaddexp(0.0, -(logits + w["gate_up_bias"]))
    assert np.cumsum(log_alpha[:, :8], axis=1).min() < -88.0
    y_rec, s_rec = _numpy(layers["recurrent"](x, return_state=True))
    y_chk, s_chk = _numpy(layers["chunkwise"](x, return_state=True))
    assert np.all(np.isfinite(y_chk)) and np.all(np.isfinite(s_chk))
    assert_close(y_chk, y_rec, 1e-5, "outputs")
    assert_close(s_chk, s_rec, 1e-5, "final states")


@pytest.mark.parametrize("mode", MODES)
def test_matches_the_loop_reference_with_its_state(mode):
    layer = _layers(modes=(mode,), chunk_size=4)[mode]
    x = _inputs((2, 9, 8), seed=2)
    s0 = _inputs((2, 2, 2, 4), seed=3)
    y, s = _numpy(layer(x, initial_state=[s0], return_state=True))
    want_y, want_s = gla_reference(
        [x], _weights_by_name(layer), num_heads=2, s0=s0, return_state=True
    )
    assert_close(y, want_y, 1e-5, "outputs")
    assert_close(s, want_s, 1e-5, "state")


# ------------------------------------------- autoregressive decoding


@pytest.mark.parametrize("mode", MODES)
def test_carried_state_decoding_equals_whole_sequence(mode):
    layer = _layers(modes=(mode,), chunk_size=3)[mode]
    x = _inputs((2, 9, 8), seed=4)
    full, full_s = _numpy(layer(x, return_state=True))
    for pieces in ([4, 5], [1, 1, 1, 6]):
        state, outs, start = layer.get_initial_state(2), [], 0
        for size in pieces:
            y, *state = layer(
                x[:, start : start + size],
                initial_state=state,
                return_state=True,
            )
            outs.append(_numpy(y))
            start += size
        assert_close(np.concatenate(outs, axis=1), full, 1e-5, str(pieces))
        assert_close(_numpy(state[0]), full_s, 1e-5, str(pieces))


def test_state_carries_across_modes():
    layers = _layers(chunk_size=3)
    x = _inputs((2, 8, 8), seed=5)
    full = _numpy(layers["recurrent"](x))
    y1, s = layers["chunkwise"](x[:, :5], return_state=True)
    y2 = layers["recurrent"](x[:, 5:], initial_state=[s])
    assert_close(np.concatenate(_numpy([y1, y2]), axis=1), full, 1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_return_state_in_a_functional_model(mode):
    layer = _layers(modes=(mode,), chunk_size=2)[mode]
    x_in, s_in = keras.Input((None, 8)), keras.Input((2, 2, 4))
    y, s = layer(x_in, initial_state=[s_in], return_state=True)
    assert tuple(y.shape) == (None, None, 8)
    assert tuple(s.shape) == (None, 2, 2, 4)
    model = keras.Model([x_in, s_in], [y, s])
    x = _inputs((2, 7, 8))
    y1, s1 = model.predict([x[:, :3], np.zeros((2, 2, 2, 4))], verbose=0)
    y2, _ = model.predict([x[:, 3:], s1], verbose=0)
    assert_close(np.concatenate([y1, y2], axis=1), _numpy(layer(x)), 1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_outputs_do_not_depend_on_future_inputs(mode):
    layer = _layers(modes=(mode,), chunk_size=3)[mode]
    x = _inputs((2, 7, 8), seed=6)
    before = _numpy(layer(x))
    for t in (0, 4):  # t = 4 lies inside the chunk [3, 6)
        perturbed = x.copy()
        perturbed[:, t + 1 :] += 3.0
        after = _numpy(layer(perturbed))
        assert_close(after[:, : t + 1], before[:, : t + 1], 1e-6)
        assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :])


@pytest.mark.parametrize("mode", MODES)
def test_state_is_float32_under_mixed_precision(mode):
    layer = GLA(num_heads=2, mode=mode, chunk_size=3, dtype="mixed_bfloat16")
    y, s = layer(_inputs((2, 7, 8)), return_state=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(s.dtype) == "float32"


def test_defaults_and_widths():
    layer = GLA()
    assert (layer.mode, layer.chunk_size, layer.num_heads) == (
        "chunkwise",
        64,
        4,
    )
    assert (layer.gate_low_rank_dim, layer.gate_logit_normalizer) == (16, 16)
    layer.build((None, None, 32))
    # key width 0.5 · d = 16, value width d = 32, over 4 heads.
    assert (layer.head_k, layer.head_v) == (4, 8)
    assert tuple(layer.gate_down_kernel.shape) == (32, 16)
    assert tuple(layer.gate_up_kernel.shape) == (16, 16)


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_heads=0), "num_heads"),
        (dict(expand_k=0.0), "expand_k"),
        (dict(expand_v=-1.0), "expand_v"),
        (dict(gate_low_rank_dim=0), "gate_low_rank_dim"),
        (dict(gate_logit_normalizer=0.0), "gate_logit_normalizer"),
        (dict(mode="parallel"), "mode"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(use_bias="no"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GLA(**kwargs)


@pytest.mark.parametrize("num_heads, d_model", [(3, 8), (8, 8)])
def test_heads_must_divide_the_widths(num_heads, d_model):
    # 3 divides neither 4 nor 8; 8 heads do not fit 0.5 · 8 = 4 key dims.
    with pytest.raises(ValueError, match="num_heads"):
        GLA(num_heads=num_heads)(np.zeros((2, 3, d_model), "float32"))


def test_initial_state_needs_a_built_layer():
    with pytest.raises(ValueError, match="build"):
        GLA(num_heads=2).get_initial_state(2)


@pytest.mark.parametrize("shape", [(2, 8), (2, 3, 4, 8)])
def test_wrong_rank_input(shape):
    with pytest.raises(ValueError, match="rank 3"):
        GLA(num_heads=2)(np.zeros(shape, "float32"))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_initial_state(mode):
    layer = GLA(num_heads=2, mode=mode)
    x = np.zeros((2, 5, 8), "float32")
    layer(x)
    (s,) = layer.get_initial_state(2)
    bad = [
        s,  # not a list
        [s, s],  # too many
        [np.zeros((2, 2, 4, 2), "float32")],  # key and value axes swapped
        [np.zeros((3, 2, 2, 4), "float32")],  # wrong batch
        [np.zeros((2, 2, 2), "float32")],  # wrong rank
    ]
    for state in bad:
        with pytest.raises(ValueError, match="initial_state"):
            layer(x, initial_state=state)
