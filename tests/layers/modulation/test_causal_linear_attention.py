import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.causal_linear_attention import (
    CausalLinearAttention,
)

MODES = ("quadratic", "recurrent", "chunked")


def elu_plus_one(x):
    return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))


def cla_reference(
    inputs,
    weights,
    num_heads,
    key_dim,
    normalize=False,
    feature_map=None,
    scale=None,
    epsilon=1e-6,
):
    """Y = ((s φ(Q) φ(K)ᵀ) * R) V per head, R lower-triangular ones.

    With `normalize`, each row is divided by ((s φ(Q) φ(K)ᵀ) * R) 1 + ε.
    Heads are concatenated, then projected back to d_model.
    """
    (x,) = inputs
    x = x.astype("float64")
    if feature_map is None:
        feature_map = "elu_plus_one" if normalize else "identity"
    phi = elu_plus_one if feature_map == "elu_plus_one" else (lambda a: a)
    s = 1.0 / np.sqrt(key_dim) if scale is None else scale
    inner = num_heads * key_dim
    qkv = x @ weights["qkv_kernel"] + weights.get("qkv_bias", 0.0)
    q_all, k_all, v_all = (
        qkv[..., i * inner : (i + 1) * inner] for i in range(3)
    )
    time = x.shape[1]
    r = np.tril(np.ones((time, time)))
    heads = []
    for h in range(num_heads):
        cols = slice(h * key_dim, (h + 1) * key_dim)
        q = phi(q_all[..., cols])
        k = phi(k_all[..., cols])
        v = v_all[..., cols]
        a = (s * q @ np.swapaxes(k, -1, -2)) * r  # the Hadamard mask
        y = a @ v
        if normalize:
            y = y / (a.sum(-1, keepdims=True) + epsilon)
        heads.append(y)
    y = np.concatenate(heads, axis=-1)
    return y @ weights["output_kernel"] + weights.get("output_bias", 0.0)


def reference_with(**kwargs):
    return lambda x, w: cla_reference(x, w, **kwargs)


CASES = [
    LayerCase(
        name="cla_quadratic_identity",
        layer_cls=CausalLinearAttention,
        init_kwargs=dict(num_heads=2, key_dim=3, mode="quadratic"),
        input_shapes=(2, 5, 6),
        reference=reference_with(num_heads=2, key_dim=3),
    ),
    LayerCase(
        name="cla_recurrent_identity_scale1_nobias",
        layer_cls=CausalLinearAttention,
        init_kwargs=dict(
            num_heads=2,
            key_dim=3,
            mode="recurrent",
            scale=1.0,
            use_bias=False,
        ),
        input_shapes=(2, 5, 6),
        reference=reference_with(num_heads=2, key_dim=3, scale=1.0),
    ),
    LayerCase(
        name="cla_chunked_elu_plus_one",
        layer_cls=CausalLinearAttention,
        init_kwargs=dict(
            num_heads=1,
            key_dim=4,
            mode="chunked",
            chunk_size=2,
            feature_map="elu_plus_one",
        ),
        input_shapes=(2, 5, 6),  # 5 is not a multiple of chunk_size
        reference=reference_with(
            num_heads=1, key_dim=4, feature_map="elu_plus_one"
        ),
    ),
    LayerCase(
        name="cla_recurrent_normalized",
        layer_cls=CausalLinearAttention,
        init_kwargs=dict(
            num_heads=2, key_dim=3, mode="recurrent", normalize=True
        ),
        input_shapes=(2, 4, 6),
        reference=reference_with(num_heads=2, key_dim=3, normalize=True),
    ),
    LayerCase(
        name="cla_chunked_normalized",
        layer_cls=CausalLinearAttention,
        init_kwargs=dict(
            num_heads=2,
            key_dim=3,
            mode="chunked",
            chunk_size=3,
            normalize=True,
        ),
        input_shapes=(2, 5, 6),
        reference=reference_with(num_heads=2, key_dim=3, normalize=True),
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
    """One layer per mode, all with the weights of the first."""
    layers = {}
    weights = None
    for mode in modes:
        layer = CausalLinearAttention(mode=mode, **kwargs)
        layer.build((None, None, d_model))
        if weights is None:
            rng = np.random.default_rng(1)
            weights = [
                rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                for w in layer.get_weights()
            ]
        layer.set_weights(weights)
        layers[mode] = layer
    return layers


def assert_close(actual, expected, tol=1e-5, what=""):
    np.testing.assert_allclose(
        actual, expected, atol=tol, rtol=tol, err_msg=what
    )


FORMS = [
    dict(),  # the survey's Eq. 7: identity map, no normaliser
    dict(feature_map="elu_plus_one"),
    dict(normalize=True),  # Katharopoulos et al.: elu + 1, normalised
    dict(scale=1.0),  # the survey's listing, without 1/sqrt(d)
]
FORM_IDS = ["eq7", "elu", "normalized", "scale1"]


# ------------------------------------------------- the forms agree


AGREEMENT_CASES = [
    # (form, time, chunk_size): every size for Eq. 7 and the normalised
    # form, including T < chunk, T == 1, chunk_size == 1 and T not a
    # multiple of chunk_size; the other forms at one size.
    *(
        pytest.param(FORMS[f], t, c, id=f"{FORM_IDS[f]}-T{t}-c{c}")
        for f in (0, 2)
        for t, c in [(1, 3), (6, 3), (7, 3), (7, 1), (5, 8)]
    ),
    pytest.param(FORMS[1], 7, 3, id="elu-T7-c3"),
    pytest.param(FORMS[3], 7, 3, id="scale1-T7-c3"),
]


@pytest.mark.parametrize("form, time, chunk_size", AGREEMENT_CASES)
def test_quadratic_recurrent_and_chunked_forms_agree(form, time, chunk_size):
    # The done-when of the issue: the masked form ((Q Kᵀ) * R) V and the
    # linear-time forms give the same outputs (and final states) to 1e-5.
    layers = _layers(num_heads=2, key_dim=4, chunk_size=chunk_size, **form)
    x = _inputs((2, time, 8))
    outs = {
        m: _numpy(layer(x, return_state=True)) for m, layer in layers.items()
    }
    expected = outs["quadratic"]
    for mode in ("recurrent", "chunked"):
        assert len(outs[mode]) == len(expected)
        for got, want in zip(outs[mode], expected, strict=True):
            assert got.shape == want.shape
            assert_close(got, want, 1e-5, f"{mode} != quadratic")


@pytest.mark.parametrize("form", FORMS[:3], ids=FORM_IDS[:3])
def test_forms_match_the_numpy_reference(form):
    layers = _layers(num_heads=2, key_dim=4, chunk_size=3, **form)
    x = _inputs((2, 7, 8), seed=3)
    names = [v.path.split("/", 1)[1] for v in layers["quadratic"].weights]
    weights = dict(zip(names, layers["quadratic"].get_weights(), strict=True))
    expected = cla_reference([x], weights, num_heads=2, key_dim=4, **form)
    for mode, layer in layers.items():
        assert_close(_numpy(layer(x)), expected, 1e-5, mode)


# ------------------------------------------- autoregressive decoding


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_step_by_step_decoding_equals_full_sequence(mode, normalize):
    layer = _layers(
        modes=(mode,), num_heads=2, key_dim=4, chunk_size=3, normalize=normalize
    )[mode]
    x = _inputs((2, 7, 8), seed=4)
    full, *full_state = layer(x, return_state=True)
    state = layer.get_initial_state(2)
    steps = []
    for t in range(7):
        y, *state = layer(
            x[:, t : t + 1], initial_state=state, return_state=True
        )
        steps.append(_numpy(y))
    assert_close(np.concatenate(steps, axis=1), _numpy(full), 1e-5)
    for got, want in zip(state, full_state, strict=True):
        assert_close(_numpy(got), _numpy(want), 1e-5)


@pytest.mark.parametrize("normalize", [False, True])
def test_state_carries_across_modes_and_uneven_pieces(normalize):
    # Prefill 4 steps in one mode, continue in another: the state format is
    # the same for all three paths.
    layers = _layers(num_heads=2, key_dim=4, chunk_size=3, normalize=normalize)
    x = _inputs((2, 7, 8), seed=5)
    full = _numpy(layers["quadratic"](x))
    pieces = [("chunked", 0, 4), ("recurrent", 4, 5), ("quadratic", 5, 7)]
    state, outs = None, []
    for mode, start, stop in pieces:
        y, *state = layers[mode](
            x[:, start:stop], initial_state=state, return_state=True
        )
        outs.append(_numpy(y))
    assert_close(np.concatenate(outs, axis=1), full, 1e-5)


def test_return_state_in_a_functional_model():
    layer = CausalLinearAttention(num_heads=2, key_dim=4, mode="recurrent")
    x_in = keras.Input((None, 8))
    s_in = keras.Input((2, 4, 4))
    y, s = layer(x_in, initial_state=[s_in], return_state=True)
    assert tuple(y.shape) == (None, None, 8)
    assert tuple(s.shape) == (None, 2, 4, 4)
    model = keras.Model([x_in, s_in], [y, s])
    x = _inputs((2, 7, 8))
    y1, s1 = model.predict([x[:, :3], np.zeros((2, 2, 4, 4))], verbose=0)
    y2, _ = model.predict([x[:, 3:], s1], verbose=0)
    full = _numpy(layer(x))
    assert_close(np.concatenate([y1, y2], axis=1), full, 1e-5)


# ------------------------------------------------------------ causality


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_outputs_do_not_depend_on_future_inputs(mode, normalize):
    layer = _layers(
        modes=(mode,), num_heads=2, key_dim=4, chunk_size=3, normalize=normalize
    )[mode]
    x = _inputs((2, 7, 8), seed=6)
    before = _numpy(layer(x))
    for t in (0, 4):  # t = 4 falls inside the chunk [3, 6)
        perturbed = x.copy()
        perturbed[:, t + 1 :] = _inputs((2, 6 - t, 8), seed=10 + t) * 3.0
        after = _numpy(layer(perturbed))
        assert_close(after[:, : t + 1], before[:, : t + 1], 1e-6)
        assert not np.allclose(after[:, t + 1 :], before[:, t + 1 :])


# ------------------------------------------------------- dtypes, misc


@pytest.mark.parametrize("mode", MODES)
def test_state_is_float32_under_mixed_precision(mode):
    layer = CausalLinearAttention(
        num_heads=2,
        key_dim=4,
        mode=mode,
        normalize=True,
        dtype="mixed_bfloat16",
    )
    y, s, z = layer(_inputs((2, 7, 8)), return_state=True)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    assert keras.backend.standardize_dtype(s.dtype) == "float32"
    assert keras.backend.standardize_dtype(z.dtype) == "float32"


def test_defaults_and_config():
    layer = CausalLinearAttention(num_heads=2, key_dim=16)
    assert layer.mode == "quadratic"
    assert layer.feature_map == "identity"
    assert layer.scale is None and layer.effective_scale == 0.25
    assert CausalLinearAttention(
        num_heads=1, key_dim=2, normalize=True
    ).feature_map == ("elu_plus_one")
    config = layer.get_config()
    assert config["scale"] is None
    clone = CausalLinearAttention.from_config(config)
    assert clone.effective_scale == 0.25


# -------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_heads=0), "num_heads"),
        (dict(key_dim=2.5), "key_dim"),
        (dict(key_dim="4"), "key_dim"),
        (dict(key_dim=True), "key_dim"),
        (dict(feature_map="relu"), "feature_map"),
        (dict(feature_map="identity", normalize=True), "feature_map"),
        (dict(normalize="yes"), "normalize"),
        (dict(scale=0.0), "scale"),
        (dict(scale=-1.0), "scale"),
        (dict(scale="auto"), "scale"),
        (dict(mode="fast"), "mode"),
        (dict(chunk_size=0), "chunk_size"),
        (dict(chunk_size=2.0), "chunk_size"),
        (dict(epsilon=-1e-6), "epsilon"),
        (dict(use_bias="no"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    arguments = dict(num_heads=2, key_dim=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        CausalLinearAttention(**arguments)


@pytest.mark.parametrize("shape", [(2, 6), (2, 3, 4, 6)])
def test_wrong_rank_input(shape):
    layer = CausalLinearAttention(num_heads=2, key_dim=4)
    with pytest.raises(ValueError, match="rank 3"):
        layer(np.zeros(shape, "float32"))


def test_wrong_input_after_build():
    layer = CausalLinearAttention(num_heads=2, key_dim=4)
    layer(np.zeros((2, 7, 8), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 7, 5), "float32"))
    with pytest.raises(ValueError, match="ndim=3"):
        layer(np.zeros((2, 8), "float32"))


@pytest.mark.parametrize("normalize", [False, True])
def test_wrong_initial_state(normalize):
    layer = CausalLinearAttention(num_heads=2, key_dim=4, normalize=normalize)
    x = np.zeros((2, 7, 8), "float32")
    state = layer.get_initial_state(2)
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=state[:1] * (3 - len(state)))
    with pytest.raises(ValueError, match="initial_state"):
        layer(x, initial_state=state[0])
