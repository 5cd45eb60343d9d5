import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.pi_sigma import PiSigma


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def pi_sigma_reference(inputs, weights, degree, activation=None):
    """h_j = W_jᵀ z + θ_j; y = σ(Π_j h_j)."""
    (z,) = inputs
    product = np.ones((), "float32")
    for j in range(1, degree + 1):
        h = z @ weights[f"sum{j}_kernel"] + weights.get(f"sum{j}_bias", 0.0)
        product = product * h
    return product if activation is None else activation(product)


CASES = [
    LayerCase(
        name="pi_sigma_degree3_sigmoid",
        layer_cls=PiSigma,
        init_kwargs=dict(units=3, degree=3),
        input_shapes=(4, 5),
        reference=lambda x, w: pi_sigma_reference(x, w, 3, sigmoid),
    ),
    LayerCase(
        name="pi_sigma_degree2_linear_nobias_rank3",
        layer_cls=PiSigma,
        init_kwargs=dict(units=4, degree=2, activation=None, use_bias=False),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: pi_sigma_reference(x, w, 2),
    ),
    LayerCase(
        name="pi_sigma_degree4_tanh",
        layer_cls=PiSigma,
        init_kwargs=dict(units=2, degree=4, activation="tanh"),
        input_shapes=(4, 6),
        reference=lambda x, w: pi_sigma_reference(x, w, 4, np.tanh),
    ),
]

test_harness = layer_tests(CASES)


def test_degree_one_is_a_sigmoid_dense():
    layer = PiSigma(units=3, degree=1)
    z = np.random.default_rng(0).uniform(-1, 1, (4, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(z))
    assert [v.name for v in layer.weights] == ["sum1_kernel", "sum1_bias"]
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, sigmoid(z @ kernel + bias), rtol=1e-5)


def test_weight_names_and_shapes():
    layer = PiSigma(units=3, degree=2)
    layer(np.zeros((1, 5), "float32"))
    assert {v.name: tuple(v.shape) for v in layer.weights} == {
        "sum1_kernel": (5, 3),
        "sum1_bias": (3,),
        "sum2_kernel": (5, 3),
        "sum2_bias": (3,),
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=3, degree=0), "degree"),
        (dict(units=0, degree=2), "units"),
        (dict(units=2.5, degree=2), "units"),
        (dict(units=3, degree="2"), "degree"),
        (dict(units=True, degree=2), "units"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PiSigma(**kwargs)


def test_unknown_activation_rejected():
    with pytest.raises(ValueError, match="activation"):
        PiSigma(units=3, degree=2, activation="not_an_activation")


def test_wrong_last_axis_at_call():
    layer = PiSigma(units=3, degree=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        PiSigma(units=3, degree=2)(np.zeros((5,), "float32"))
