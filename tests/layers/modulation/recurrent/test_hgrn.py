import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.hgrn import HGRN

MODES = ("recurrent", "chunkwise")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hgrn_reference(
    inputs,
    weights,
    lower_bound=0.0,
    gate_activation="sigmoid",
    epsilon=1e-5,
    h0=None,
    return_state=False,
):
    """The HGRN recurrence as a plain loop over time, in float64.

    f_t = γ + (1 − γ) σ(x W_f), h_t = f_t h_{t−1} + (1 − f_t) SiLU(x W_i),
    y_t = (RMSNorm(h_t) * act(x W_g)) W_o.
    """
    (x,) = inputs
    x = x.astype("float64")

    def linear(name, a):
        return a @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0.0)

    batch, time, d = x.shape
    h = np.zeros((batch, d)) if h0 is None else np.asarray(h0, "float64")
    outputs = []
    for t in range(time):
        x_t = x[:, t]
        f = lower_bound + (1.0 - lower_bound) * sigmoid(linear("f", x_t))
        z_i = linear("i", x_t)
        h = f * h + (1.0 - f) * z_i * sigmoid(z_i)
        rms = np.sqrt(np.mean(h**2, axis=-1, keepdims=True) + epsilon)
        z_g = linear("g", x_t)
        gate = (
            sigmoid(z_g) if gate_activation == "sigmoid" else z_g * sigmoid(z_g)
        )
        outputs.append(linear("output", h / rms * weights["norm_scale"] * gate))
    y = np.stack(outputs, axis=1)
    return (y, h) if return_state else y


def reference_with(**kwargs):
    return lambda x, w: hgrn_reference(x, w, **kwargs)


CASES = [
    LayerCase(
        name="hgrn_recurrent",
        layer_cls=HGRN,
        init_kwargs=dict(mode="recurrent"),
        input_shapes=(2, 5, 4),
        reference=reference_with(),
    ),
    LayerCase(
        name="hgrn_chunkwise_lower_bound_silu_bias",
        layer_cls=HGRN,
        init_kwargs=dict(
            mode="chunkwise",
            chunk_size=2,  # T = 5 is not a multiple of it
            lower_bound=0.6,
            gate_activation="silu",
            use_bias=True,
        ),
        input_shapes=(2, 5, 4),
        reference=reference_with(lower_bound=0.6, gate_activation="silu"),
    ),
    LayerCase(
        name="hgrn_chunkwise_short",
        layer_cls=HGRN,
        init_kwargs=dict(mode="chunkwise", chunk_size=8),  # T < chunk_size
        input_shapes=(2, 3, 4),
        reference=reference_with(),
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
    layers = {}
    weights = None
    for mode in modes:
        layer = HGRN(mode=mode, **kwargs)
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


def assert_close(actual, expected, tol=1e-5, what=""):
    np.testing.assert_allclose(
        actual, expected, atol=tol, rtol=tol, err_msg=what
    )


# ------------------------------------------------- the paths agree


@pytest.mark.parametrize("lower_bound", [0.0, 0.9])
@pytest.mark.parametrize("time, chunk_size", [(3, 4), (6, 3), (7, 3), (9, 1)])
def test_recurrent_and_chunkwise_agree(time, chunk_size, lower_bound):
    # T < chunk_size, T a multiple and not a multiple of it, chunk_size 1
    # (T = 1 is the decoding test's first piece).
    layers = _layers(chunk_size=chunk_size, lower_bound=lower_bound)
    x = _inputs((2, time, 8))
    y_rec, h_rec = _numpy(layers["recurrent"](x, return_state=True))
    y_chk, h_chk = _numpy(layers["chunkwise"](x, return_state=True))
    assert y_chk.shape == (2, time, 8) and h_chk.shape == (2, 8)
    assert_close(y_chk, y_rec, 1e-5, "outputs")
    assert_close(h_chk, h_rec, 1e-5, "final states")


@pytest.mark.parametrize("mode", MODES)
def test_matches_the_loop_reference_with_its_state(mode):
    layer = _layers(modes=(mode,), chunk_size=4, lower_bound=0.3)[mode]
    x = _inputs((2, 9, 8), seed=2)
    h0 = _inputs((2, 8), seed=3)
    y, h = _numpy(layer(x, initial_state=[h0], return_state=True))
    want_y, want_h = hgrn_reference(
        [x], _weights_by_name(layer), lower_bound=0.3, h0=h0, return_state=True
    )
    assert_close(y, want_y, 1e-5, "outputs")
    assert_close(h, want_h, 1e-5, "state")


def test_forget_gate_keeps_the_state_near_the_lower_bound():
    # With f ≡ γ (σ(x W_f) ≈ 0), one step gives h_1 = γ h_0 + (1 − γ) i_1.
    layer = HGRN(mode="chunkwise", chunk_size=2, lower_bound=0.75)
    layer.build((None, None, 4))
    layer.f_kernel.assign(np.zeros((4, 4), "float32"))
    layer.i_kernel.assign(np.zeros((4, 4), "float32"))  # i = SiLU(0) = 0
    x = _inputs((2, 3, 4))
    h0 = np.ones((2, 4), "float32")
    _, h = _numpy(layer(x, initial_state=[h0], return_state=True))
    # σ(0) = 1/2: f = 0.75 + 0.25 / 2 = 0.875 at every step.
    assert_close(h, np.full((2, 4), 0.875**3), 1e-6)


# ------------------------------------------- autoregressive decoding


@pytest.mark.parametrize("mode", MODES)
def test_carried_state_decoding_equals_whole_sequence(mode):
    layer = _layers(modes=(mode,), chunk_size=3, lower_bound=0.2)[mode]
    x = _inputs((2, 9, 8), seed=4)
    full, full_h = _numpy(layer(x, return_state=True))
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
        assert_close(_numpy(state[0]), full_h, 1e-5, str(pieces))


def test_state_carries_across_modes():
    layers = _layers(chunk_size=3)
    x = _inputs((2, 8, 8), seed=5)
    full = _numpy(layers["recurrent"](x))
    y1, h = layers["chunkwise"](x[:, :5], return_state=True)
    y2 = layers["recurrent"](x[:, 5:], initial_state=[h])
    assert_close(np.concatenate(_numpy([y1, y2]), axis=1), full, 1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_return_state_in_a_functional_model(mode):
    layer = _layers(modes=(mode,), chunk_size=2)[mode]
    x_in, h_in = keras.Input((None, 8)), keras.Input((8,))
    y, h = layer(x_in, initial_state=[h_in], return_state=True)
    assert tuple(y.shape) == (None, None, 8)
    assert tuple(h.shape) == (None, 8)
    model = keras.Model([x_in, h_in], [y, h])
    x = _inputs((2, 7, 8))
    y1, h1 = model.predict([x[:, :3], np.zeros((2, 8))], verbose=0)
    y2, _ = model.predict([x[:, 3:], h1], verbose=0)
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
    layer = HGRN(mode=mode, chunk_size=3, dtype="mixed_bfloat16")
    y, h = layer(_inputs((2, 7, 8)), return_state=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(h.dtype) == "float32"


def test_defaults():
    layer = HGRN()
    assert (layer.mode, layer.chunk_size) == ("chunkwise", 64)
    assert layer.lower_bound == 0.0 and layer.gate_activation == "sigmoid"
    assert layer.use_bias is False


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lower_bound=1.0), "lower_bound"),
        (dict(lower_bound=-0.1), "lower_bound"),
        (dict(lower_bound="0.5"), "lower_bound"),
        (dict(gate_activation="tanh"), "gate_activation"),
        (dict(mode="chunked"), "mode"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(chunk_size=2.0), "chunk_size"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(use_bias=1), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HGRN(**kwargs)


def test_initial_state_needs_a_built_layer():
    with pytest.raises(ValueError, match="build"):
        HGRN().get_initial_state(2)


@pytest.mark.parametrize("shape", [(2, 8), (2, 3, 4, 8)])
def test_wrong_rank_input(shape):
    with pytest.raises(ValueError, match="rank 3"):
        HGRN()(np.zeros(shape, "float32"))


@pytest.mark.parametrize("mode", MODES)
def test_wrong_initial_state(mode):
    layer = HGRN(mode=mode)
    x = np.zeros((2, 5, 8), "float32")
    layer(x)
    (h,) = layer.get_initial_state(2)
    bad = [
        h,  # not a list
        [h, h],  # too many
        [np.zeros((2, 5), "float32")],  # wrong width
        [np.zeros((3, 8), "float32")],  # wrong batch
        [np.zeros((2, 1, 8), "float32")],  # wrong rank
    ]
    for state in bad:
        with pytest.raises(ValueError, match="initial_state"):
            layer(x, initial_state=state)
    with pytest.raises(ValueError, match="return_state"):
        layer(x, return_state=1)
