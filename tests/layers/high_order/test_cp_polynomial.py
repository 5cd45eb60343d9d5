import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.cp_polynomial import CPPolynomial


def cp_polynomial_reference(inputs, weights, degree, rank=False):
    """y = β + Σ_n [W_[n]ᵀ] Π_{i=1..n} (C_{i,[n]}ᵀ z)."""
    (z,) = inputs
    out = weights.get("bias", 0.0)
    for n in range(1, degree + 1):
        term = 1.0
        for i in range(1, n + 1):
            term = term * (z @ weights[f"degree{n}_factor{i}_kernel"])
        if rank:
            term = term @ weights[f"degree{n}_output_kernel"]
        out = out + term
    return out


CASES = [
    LayerCase(
        name="cp_polynomial_degree3",
        layer_cls=CPPolynomial,
        init_kwargs=dict(units=3, degree=3),
        input_shapes=(4, 5),
        reference=lambda x, w: cp_polynomial_reference(x, w, 3),
    ),
    LayerCase(
        name="cp_polynomial_degree4_rank_rank3",
        layer_cls=CPPolynomial,
        init_kwargs=dict(units=2, degree=4, rank=4),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: cp_polynomial_reference(x, w, 4, rank=True),
    ),
    LayerCase(
        name="cp_polynomial_degree2_rank_nobias",
        layer_cls=CPPolynomial,
        init_kwargs=dict(units=3, degree=2, rank=6, use_bias=False),
        input_shapes=(4, 5),
        reference=lambda x, w: cp_polynomial_reference(x, w, 2, rank=True),
    ),
]

test_harness = layer_tests(CASES)


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("rank", [None, 4])
def test_weight_names_and_shapes(rank):
    layer = CPPolynomial(units=3, degree=3, rank=rank)
    layer(np.zeros((1, 5), "float32"))
    width = 3 if rank is None else rank
    expected = {
        f"degree{n}_factor{i}_kernel": (5, width)
        for n in range(1, 4)
        for i in range(1, n + 1)
    }
    if rank is not None:
        expected.update(
            {f"degree{n}_output_kernel": (rank, 3) for n in range(1, 4)}
        )
    expected["bias"] = (3,)
    assert {v.name: tuple(v.shape) for v in layer.weights} == expected


def test_degree_two_without_bias_is_linear_plus_quadratic():
    # y(t z) = t y_1(z) + t² y_2(z): recover y_1, y_2 from y(±z), check 2z.
    layer = CPPolynomial(units=3, degree=2, use_bias=False)
    z = np.random.default_rng(0).uniform(-1, 1, (4, 5)).astype("float32")
    plus, minus, double = (_np(layer(t * z)) for t in (1.0, -1.0, 2.0))
    linear, quadratic = (plus - minus) / 2, (plus + minus) / 2
    np.testing.assert_allclose(
        double, 2 * linear + 4 * quadratic, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=3, degree=0), "degree"),
        (dict(units=0, degree=2), "units"),
        (dict(units=3.0, degree=2), "units"),
        (dict(units=3, degree=2, rank=0), "rank"),
        (dict(units=3, degree=2, rank=1.5), "rank"),
        (dict(units=3, degree=False), "degree"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CPPolynomial(**kwargs)


def test_wrong_last_axis_at_call():
    layer = CPPolynomial(units=3, degree=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        CPPolynomial(units=3, degree=2)(np.zeros((5,), "float32"))
