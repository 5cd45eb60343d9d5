import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.ncp import NCP


def ncp_reference(
    inputs, weights, degree, activation=None, skip=False, output=False
):
    """x_1 = A_1 z + a_1; x_n = (A_n z + a_n) * (S_n x_{n-1} + s_n) [+ x_{n-1}];
    y = C x_N + β."""
    (z,) = inputs

    def affine(x, name):
        return x @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0.0)

    out = affine(z, "a1")
    for n in range(2, degree + 1):
        if activation is not None:
            out = activation(out)
        new = affine(z, f"a{n}") * affine(out, f"s{n}")
        out = new + out if skip else new
    if output:
        out = affine(out, "c")
    return out


CASES = [
    LayerCase(
        name="ncp_degree4_out",
        layer_cls=NCP,
        init_kwargs=dict(rank=6, degree=4, output_units=3),
        input_shapes=(4, 5),
        reference=lambda x, w: ncp_reference(x, w, 4, output=True),
    ),
    LayerCase(
        name="ncp_degree3_skip_tanh_nobias_rank3",
        layer_cls=NCP,
        init_kwargs=dict(
            rank=4, degree=3, activation="tanh", skip=True, use_bias=False
        ),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: ncp_reference(
            x, w, 3, activation=np.tanh, skip=True
        ),
    ),
    LayerCase(
        name="ncp_degree2_skip_out",
        layer_cls=NCP,
        init_kwargs=dict(rank=5, degree=2, output_units=2, skip=True),
        input_shapes=(3, 4),
        reference=lambda x, w: ncp_reference(x, w, 2, skip=True, output=True),
    ),
]

test_harness = layer_tests(CASES)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _built(layer, input_dim, seed=0):
    """Builds `layer` and fills its weights with random values."""
    rng = np.random.default_rng(seed)
    layer(np.zeros((1, input_dim), "float32"))
    for variable in layer.weights:
        variable.assign(rng.uniform(-1, 1, variable.shape).astype("float32"))
    return {v.name: _np(v) for v in layer.weights}


def test_degree_one_is_affine():
    layer = NCP(rank=4, degree=1)
    weights = _built(layer, 5)
    assert sorted(weights) == ["a1_bias", "a1_kernel"]
    z = np.random.default_rng(1).uniform(-1, 1, (3, 5)).astype("float32")
    expected = z @ weights["a1_kernel"] + weights["a1_bias"]
    np.testing.assert_allclose(_np(layer(z)), expected, rtol=1e-5)


def test_skip_adds_previous_degree():
    # With A_n z + a_n = 0 for n >= 2 the products vanish: NCP-Skip keeps
    # x_1, plain NCP collapses to zero.
    z = np.random.default_rng(2).uniform(-1, 1, (3, 5)).astype("float32")
    outputs = {}
    for skip in (False, True):
        layer = NCP(rank=4, degree=3, skip=skip)
        weights = _built(layer, 5)
        for variable in layer.weights:
            if variable.name[:2] in ("a2", "a3"):
                variable.assign(np.zeros(variable.shape, "float32"))
        outputs[skip] = _np(layer(z))
    x1 = z @ weights["a1_kernel"] + weights["a1_bias"]
    np.testing.assert_allclose(outputs[True], x1, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(outputs[False], np.zeros_like(x1))


def test_skip_equals_plain_plus_previous():
    # Degree 2: NCP-Skip(z) = NCP(z) + x_1 with the same weights.
    z = np.random.default_rng(3).uniform(-1, 1, (3, 5)).astype("float32")
    plain, skip = NCP(rank=4, degree=2), NCP(rank=4, degree=2, skip=True)
    weights = _built(plain, 5)
    _built(skip, 5)
    skip.set_weights(plain.get_weights())
    x1 = z @ weights["a1_kernel"] + weights["a1_bias"]
    np.testing.assert_allclose(
        _np(skip(z)), _np(plain(z)) + x1, rtol=1e-5, atol=1e-6
    )


def test_weight_names_and_shapes():
    layer = NCP(rank=4, degree=3, output_units=2)
    layer(np.zeros((1, 5), "float32"))
    shapes = {v.name: tuple(v.shape) for v in layer.weights}
    assert shapes == {
        "a1_kernel": (5, 4),
        "a1_bias": (4,),
        "a2_kernel": (5, 4),
        "a2_bias": (4,),
        "a3_kernel": (5, 4),
        "a3_bias": (4,),
        "s2_kernel": (4, 4),
        "s2_bias": (4,),
        "s3_kernel": (4, 4),
        "s3_bias": (4,),
        "c_kernel": (4, 2),
        "c_bias": (2,),
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rank=4, degree=0), "degree"),
        (dict(rank=0, degree=2), "rank"),
        (dict(rank=2.5, degree=2), "rank"),
        (dict(rank="4", degree=2), "rank"),
        (dict(rank=4, degree=2, output_units=0), "output_units"),
        (dict(rank=4, degree=True), "degree"),
        (dict(rank=4, degree=2, skip="yes"), "skip"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NCP(**kwargs)


def test_wrong_last_axis_at_call():
    layer = NCP(rank=4, degree=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        NCP(rank=4, degree=2)(np.zeros((5,), "float32"))
