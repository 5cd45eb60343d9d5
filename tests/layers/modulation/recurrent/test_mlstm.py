import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.mlstm import MLSTM

MODES = ("recurrent", "chunkwise")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def mlstm_reference(
    inputs,
    weights,
    num_heads,
    forget_gate="sigmoid",
    state=None,
    return_state=False,
):
    """The mLSTM without stabilisation, a loop over time and heads, float64.

    i = exp(ĩ), f = σ(f̃) or exp(f̃), C_t = f C + i v kᵀ, n_t = f n + i k,
    h_t = o_t * C_t q_t / max(|n_tᵀ q_t|, 1), y_t = h_t W_out. float64
    holds exp(ĩ) for the gate sizes used here; `state` is `(C, n)`
    unstabilised, and so is the returned state.
    """
    (x,) = inputs
    x = x.astype("float64")

    def linear(name, a):
        return a @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0.0)

    batch, time, d = x.shape
    hd = d // num_heads
    if state is None:
        state = (
            np.zeros((batch, num_heads, hd, hd)),
            np.zeros((batch, num_heads, hd)),
        )
    c, n = (np.array(s, "float64") for s in state)
    outputs = []
    for t in range(time):
        x_t = x[:, t]
        q, v = linear("q", x_t), linear("v", x_t)
        k = linear("k", x_t) / np.sqrt(hd)
        i = np.exp(linear("igate", x_t))
        f_pre = linear("fgate", x_t)
        f = sigmoid(f_pre) if forget_gate == "sigmoid" else np.exp(f_pre)
        o = sigmoid(linear("ogate", x_t))
        h = np.zeros((batch, d))
        for b in range(batch):
            for j in range(num_heads):
                cols = slice(j * hd, (j + 1) * hd)
                c[b, j] = f[b, j] * c[b, j] + i[b, j] * np.outer(
                    v[b, cols], k[b, cols]
                )
                n[b, j] = f[b, j] * n[b, j] + i[b, j] * k[b, cols]
                scale = max(abs(n[b, j] @ q[b, cols]), 1.0)
                h[b, cols] = c[b, j] @ q[b, cols] / scale
        outputs.append(linear("output", o * h))
    y = np.stack(outputs, axis=1)
    return (y, c, n) if return_state else y


def reference_with(**kwargs):
    return lambda x, w: mlstm_reference(x, w, **kwargs)


CASES = [
    LayerCase(
        name="mlstm_recurrent",
        layer_cls=MLSTM,
        init_kwargs=dict(num_heads=2, mode="recurrent"),
        input_shapes=(2, 5, 4),
        reference=reference_with(num_heads=2),
    ),
    LayerCase(
        name="mlstm_chunkwise_exponential_bias",
        layer_cls=MLSTM,
        init_kwargs=dict(
            num_heads=2,
            mode="chunkwise",
            chunk_size=2,  # T = 5 is not a multiple of it
            forget_gate="exponential",
            use_bias=True,
        ),
        input_shapes=(2, 5, 4),
        reference=reference_with(num_heads=2, forget_gate="exponential"),
    ),
    LayerCase(
        name="mlstm_chunkwise_short_one_head",
        layer_cls=MLSTM,
        init_kwargs=dict(num_heads=1, mode="chunkwise", chunk_size=8),
        input_shapes=(2, 3, 4),  # T < chunk_size
        reference=reference_with(num_heads=1),
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


def _layers(modes=MODES, d_model=8, **kwargs):
    """One layer per mode, all with the same (random) weights."""
    kwargs = {"num_heads": 2, **kwargs}
    layers = {}
    weights = None
    for mode in modes:
        layer = MLSTM(mode=mode, **kwargs)
        layer.build((None, None, d_model))
        if weights is None:
            rng = np.random.default_rng(1)
            weights = [
                rng.uniform(-0.8, 0.8, w.shape).astype("float32")
                for w in layer.get_weights()
            ]
        layer.set_weights(weights)
        layers[mode] = layer
    return layers


def _weights_by_name(layer):
    names = [v.path.split("/", 1)[1] for v in layer.weights]
    return dict(zip(names, layer.get_weights(), strict=True))


def _unstabilised(state):
    """(C', n', m) -> (C, n) = (C' e^m, n' e^m)."""
    c, n, m = (np.asarray(s, "float64") for s in state)
    return c * np.exp(m)[..., None, None], n * np.exp(m)[..., None]


def assert_close(actual, expected, tol=1e-5, what=""):
    np.testing.assert_allclose(
        actual, expected, atol=tol, rtol=tol, err_msg=what
    )


# ------------------------------------------------- the paths agree


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exponential"])
@pytest.mark.parametrize("time, chunk_size", [(3, 4), (6, 3), (7, 3), (9, 1)])
def test_recurrent_and_chunkwise_agree(time, chunk_size, forget_gate):
    # T < chunk_size, T a multiple and not a multiple of it, chunk_size 1
    # (T = 1 is the decoding test's first piece).
    layers = _layers(chunk_size=chunk_size, forget_gate=forget_gate)
    x = _inputs((2, time, 8))
    rec = _numpy(layers["recurrent"](x, return_state=True))
    chk = _numpy(layers["chunkwise"](x, return_state=True))
    assert [a.shape for a in chk] == [
        (2, time, 8),
        (2, 2, 4, 4),
        (2, 2, 4),
        (2, 2),
    ]
    for name, got, want in zip(["y", "C", "n", "m"], chk, rec, strict=True):
        # The stabilised states agree too, m included: both paths compute
        # the same running maximum.
        assert_close(got, want, 1e-5, name)


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exponential"])
@pytest.mark.parametrize("mode", MODES)
def test_matches_the_unstabilised_loop_reference(mode, forget_gate):
    layer = _layers(modes=(mode,), chunk_size=4, forget_gate=forget_gate)[mode]
    x = _inputs((2, 9, 8), seed=2)
    y, *state = _numpy(layer(x, return_state=True))
    want_y, want_c, want_n = mlstm_reference(
        [x],
        _weights_by_name(layer),
        num_heads=2,
        forget_gate=forget_gate,
        return_state=True,
    )
    assert_close(y, want_y, 1e-5, "outputs")
    c, n = _unstabilised(state)
    np.testing.assert_allclose(c, want_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(n, want_n, rtol=1e-5, atol=1e-6)


def _large_gate_layers(**kwargs):
    """Layers whose gate pre-activations reach about ±30.

    Head 0 gets ĩ ≈ +30, f̃ ≈ −30 (write hard, forget at once), head 1 the
    opposite; gate kernels of ±1 move them by up to ±8 from step to step.
    """
    layers = _layers(chunk_size=4, **kwargs)
    rng = np.random.default_rng(2)
    kernels = {g: rng.uniform(-1.0, 1.0, (8, 2)) for g in "if"}
    biases = {"i": [30.0, -30.0], "f": [-30.0, 30.0]}
    for layer in layers.values():
        for g in "if":
            getattr(layer, f"{g}gate_kernel").assign(kernels[g])
            getattr(layer, f"{g}gate_bias").assign(biases[g])
    return layers


@pytest.mark.parametrize("forget_gate", ["sigmoid", "exponential"])
def test_large_gate_pre_activations_stay_finite(forget_gate):
    # exp(30) per step overflows no float64, but unstabilised float32
    # states would reach e^{270} with the exponential forget gate (and
    # e^{30}·e^{30} products anywhere). Both paths stay finite and match
    # the float64 reference.
    layers = _large_gate_layers(forget_gate=forget_gate)
    x = np.clip(_inputs((2, 9, 8), seed=8), -1.0, 1.0)
    weights = _weights_by_name(layers["recurrent"])
    for g in "if":
        pre = x @ weights[f"{g}gate_kernel"] + weights[f"{g}gate_bias"]
        assert np.max(pre) > 25.0 and np.min(pre) < -25.0
    want = mlstm_reference([x], weights, num_heads=2, forget_gate=forget_gate)
    outputs = {}
    for mode, layer in layers.items():
        y, *state = _numpy(layer(x, return_state=True))
        assert all(np.all(np.isfinite(a)) for a in [y, *state]), mode
        np.testing.assert_allclose(
            y, want, rtol=1e-4, atol=1e-5 * np.abs(want).max(), err_msg=mode
        )
        outputs[mode] = y
    np.testing.assert_allclose(
        outputs["chunkwise"], outputs["recurrent"], rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("mode", MODES)
def test_training_with_large_gates_stays_finite(mode):
    layer = _large_gate_layers(modes=(mode,))[mode]
    inputs = keras.Input((None, 8))
    model = keras.Model(inputs, layer(inputs))
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    x = np.clip(_inputs((2, 9, 8), seed=8), -1.0, 1.0)
    y = _inputs((2, 9, 8), seed=9)
    for _ in range(2):
        loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    for weight in layer.get_weights():
        assert np.all(np.isfinite(weight))


def test_tiny_input_gate_keeps_the_normaliser_floor_finite():
    # ĩ ≈ −200: e^{−m} would overflow float32; the floor is capped and the
    # output (e^{−200}-small) comes out as zeros, in both paths.
    layers = _layers(chunk_size=4)
    for layer in layers.values():
        layer.igate_kernel.assign(np.zeros((8, 2), "float32"))
        layer.igate_bias.assign(np.full((2,), -200.0, "float32"))
    x = _inputs((2, 5, 8), seed=3)
    for mode, layer in layers.items():
        y, *state = _numpy(layer(x, return_state=True))
        assert all(np.all(np.isfinite(a)) for a in [y, *state]), mode
        assert np.max(np.abs(y)) < 1e-30, mode


# ------------------------------------------- autoregressive decoding


@pytest.mark.parametrize("mode", MODES)
def test_carried_state_decoding_equals_whole_sequence(mode):
    layer = _layers(modes=(mode,), chunk_size=3)[mode]
    x = _inputs((2, 9, 8), seed=4)
    full, *full_state = _numpy(layer(x, return_state=True))
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
        for got, want in zip(_numpy(state), full_state, strict=True):
            assert_close(got, want, 1e-5, str(pieces))


def test_state_carries_across_modes():
    layers = _layers(chunk_size=3)
    x = _inputs((2, 8, 8), seed=5)
    full = _numpy(layers["recurrent"](x))
    y1, *state = layers["chunkwise"](x[:, :5], return_state=True)
    y2 = layers["recurrent"](x[:, 5:], initial_state=state)
    assert_close(np.concatenate(_numpy([y1, y2]), axis=1), full, 1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_return_state_in_a_functional_model(mode):
    layer = _layers(modes=(mode,), chunk_size=2)[mode]
    x_in = keras.Input((None, 8))
    s_in = [keras.Input((2, 4, 4)), keras.Input((2, 4)), keras.Input((2,))]
    y, *s = layer(x_in, initial_state=s_in, return_state=True)
    assert tuple(y.shape) == (None, None, 8)
    assert [tuple(a.shape) for a in s] == [
        (None, 2, 4, 4),
        (None, 2, 4),
        (None, 2),
    ]
    model = keras.Model([x_in, *s_in], [y, *s])
    x = _inputs((2, 7, 8))
    zeros = [np.zeros((2, *a.shape[1:]), "float32") for a in s_in]
    y1, *s1 = model.predict([x[:, :3], *zeros], verbose=0)
    y2, *_ = model.predict([x[:, 3:], *s1], verbose=0)
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
    layer = MLSTM(num_heads=2, mode=mode, chunk_size=3, dtype="mixed_bfloat16")
    y, *state = layer(_inputs((2, 7, 8)), return_state=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    for s in state:
        assert keras.backend.standardize_dtype(s.dtype) == "float32"


def test_defaults_and_forget_bias_init():
    layer = MLSTM()
    assert (layer.mode, layer.chunk_size, layer.num_heads) == (
        "chunkwise",
        64,
        4,
    )
    assert layer.forget_gate == "sigmoid" and layer.use_bias is False
    layer.build((None, None, 8))
    np.testing.assert_allclose(
        _numpy(layer.fgate_bias), [3.0, 4.0, 5.0, 6.0], rtol=1e-6
    )
    single = MLSTM(num_heads=1)
    single.build((None, None, 8))
    np.testing.assert_allclose(_numpy(single.fgate_bias), [3.0])


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_heads=0), "num_heads"),
        (dict(num_heads=2.0), "num_heads"),
        (dict(forget_gate="tanh"), "forget_gate"),
        (dict(mode="parallel"), "mode"),
        (dict(chunk_size=-1), "chunk_size"),
        (dict(use_bias=None), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MLSTM(**kwargs)


def test_heads_must_divide_d_model():
    with pytest.raises(ValueError, match="num_heads"):
        MLSTM(num_heads=3)(np.zeros((2, 3, 8), "float32"))


def test_initial_state_needs_a_built_layer():
    with pytest.raises(ValueError, match="build"):
        MLSTM(num_heads=2).get_initial_state(2)


@pytest.mark.parametrize("shape", [(2, 8), (2, 3, 4, 8)])
def test_wrong_rank_input(shape):
    with pytest.raises(ValueError, match="rank 3"):
        MLSTM(num_heads=2)(np.zeros(shape, "float32"))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_initial_state(mode):
    layer = MLSTM(num_heads=2, mode=mode)
    x = np.zeros((2, 5, 8), "float32")
    layer(x)
    c, n, m = layer.get_initial_state(2)
    bad = [
        c,  # not a list
        [c, n],  # m missing
        [c, m, n],  # out of order
        [c, n, np.zeros((2, 4), "float32")],  # m of the wrong shape
        [np.zeros((3, 2, 4, 4), "float32"), n, m],  # wrong batch
    ]
    for state in bad:
        with pytest.raises(ValueError, match="initial_state"):
            layer(x, initial_state=state)
