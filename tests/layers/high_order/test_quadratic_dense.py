import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.quadratic_dense import QuadraticDense


def quadratic_dense_reference(inputs, weights, activation=None):
    """y = σ((z w1 + b1) * (z w2 + b2) + (z * z) w3 + b3)."""
    (z,) = inputs

    def affine(x, name):
        return x @ weights[f"{name}_kernel"] + weights.get(f"{name}_bias", 0.0)

    out = affine(z, "w1") * affine(z, "w2") + affine(z**2, "w3")
    return out if activation is None else activation(out)


CASES = [
    LayerCase(
        name="quadratic_dense_linear",
        layer_cls=QuadraticDense,
        init_kwargs=dict(units=3),
        input_shapes=(4, 5),
        reference=lambda x, w: quadratic_dense_reference(x, w),
    ),
    LayerCase(
        name="quadratic_dense_tanh_nobias_rank3",
        layer_cls=QuadraticDense,
        init_kwargs=dict(units=4, activation="tanh", use_bias=False),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: quadratic_dense_reference(x, w, np.tanh),
    ),
    LayerCase(
        name="quadratic_dense_sigmoid_quadinit",
        layer_cls=QuadraticDense,
        init_kwargs=dict(
            units=2,
            activation="sigmoid",
            quadratic_initializer="random_normal",
        ),
        input_shapes=(4, 6),
        reference=lambda x, w: quadratic_dense_reference(
            x, w, lambda v: 1.0 / (1.0 + np.exp(-v))
        ),
    ),
]

test_harness = layer_tests(CASES)


def _np(x):
    return keras.ops.convert_to_numpy(x)


def test_default_initialisation_is_a_dense_layer():
    # ReLinear: w2 = w3 = 0, b2 = 1, b1 = b3 = 0, so y = σ(z w1) at init.
    layer = QuadraticDense(units=3, activation="tanh")
    z = np.random.default_rng(0).uniform(-1, 1, (4, 5)).astype("float32")
    out = _np(layer(z))
    weights = {v.name: _np(v) for v in layer.weights}
    np.testing.assert_array_equal(weights["w2_kernel"], 0.0)
    np.testing.assert_array_equal(weights["w3_kernel"], 0.0)
    np.testing.assert_array_equal(weights["w2_bias"], 1.0)
    np.testing.assert_array_equal(weights["w1_bias"], 0.0)
    np.testing.assert_array_equal(weights["w3_bias"], 0.0)
    assert np.any(weights["w1_kernel"] != 0.0)
    np.testing.assert_allclose(
        out, np.tanh(z @ weights["w1_kernel"]), rtol=1e-5, atol=1e-6
    )


def test_quadratic_initializer_is_used():
    layer = QuadraticDense(units=3, quadratic_initializer="ones")
    layer(np.zeros((1, 5), "float32"))
    weights = {v.name: _np(v) for v in layer.weights}
    np.testing.assert_array_equal(weights["w2_kernel"], 1.0)
    np.testing.assert_array_equal(weights["w3_kernel"], 1.0)


def test_weight_names_and_shapes():
    layer = QuadraticDense(units=3)
    layer(np.zeros((1, 5), "float32"))
    assert {v.name: tuple(v.shape) for v in layer.weights} == {
        "w1_kernel": (5, 3),
        "w1_bias": (3,),
        "w2_kernel": (5, 3),
        "w2_bias": (3,),
        "w3_kernel": (5, 3),
        "w3_bias": (3,),
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.5), "units"),
        (dict(units=None), "units"),
        (dict(units=3, quadratic_initializer="nope"), "quadratic_initializer"),
        (dict(units=3, activation="nope"), "activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        QuadraticDense(**kwargs)


def test_wrong_last_axis_at_call():
    layer = QuadraticDense(units=3)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        QuadraticDense(units=3)(np.zeros((5,), "float32"))
