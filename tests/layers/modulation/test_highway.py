import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.highway import Highway


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def identity(x):
    return x


def highway_reference(inputs, weights, act=relu):
    """H = act(x W_H + b_H); T = σ(x W_T + b_T); y = H * T + x * (1 - T)."""
    (x,) = inputs
    x = x.astype("float64")
    h = act(x @ weights["transform_kernel"] + weights.get("transform_bias", 0))
    t = sigmoid(x @ weights["gate_kernel"] + weights.get("gate_bias", 0.0))
    return h * t + x * (1.0 - t)


CASES = [
    LayerCase(
        name="highway_relu",
        layer_cls=Highway,
        init_kwargs=dict(),
        input_shapes=(4, 5),
        reference=highway_reference,
    ),
    LayerCase(
        name="highway_tanh_nobias_rank3",
        layer_cls=Highway,
        init_kwargs=dict(activation="tanh", use_bias=False),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: highway_reference(x, w, np.tanh),
    ),
    LayerCase(
        name="highway_linear_zero_gate_bias",
        layer_cls=Highway,
        init_kwargs=dict(activation=None, gate_bias_initializer="zeros"),
        input_shapes=(4, 6),
        reference=lambda x, w: highway_reference(x, w, identity),
    ),
]

test_harness = layer_tests(CASES)


def _values(variable):
    return keras.ops.convert_to_numpy(variable)


def test_gate_bias_initializer():
    layer = Highway()
    layer.build((None, 4))
    np.testing.assert_array_equal(_values(layer.gate_bias), -np.ones(4))
    np.testing.assert_array_equal(_values(layer.transform_bias), np.zeros(4))
    layer = Highway(gate_bias_initializer=keras.initializers.Constant(-3.0))
    layer.build((None, 4))
    np.testing.assert_array_equal(_values(layer.gate_bias), np.full(4, -3.0))


def test_gate_bias_initializer_config_round_trip():
    layer = Highway(gate_bias_initializer=-2)
    clone = Highway.from_config(layer.get_config())
    clone.build((None, 3))
    np.testing.assert_array_equal(_values(clone.gate_bias), np.full(3, -2.0))


def test_closed_gate_carries_the_input():
    """With T ≈ 0 (very negative gate bias) the layer is the identity."""
    layer = Highway(gate_bias_initializer=-40.0)
    x = np.random.default_rng(0).uniform(-1, 1, (3, 5)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x)), x, atol=1e-6
    )


def test_no_bias_has_no_gate_bias():
    layer = Highway(use_bias=False)
    layer.build((None, 4))
    names = sorted(v.path.split("/")[-1] for v in layer.weights)
    assert names == ["gate_kernel", "transform_kernel"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(activation="no_such_activation"), "activation"),
        (dict(activation=3), "activation"),
        (dict(gate_bias_initializer="no_such_init"), "gate_bias_initializer"),
        (dict(gate_bias_initializer=True), "gate_bias_initializer"),
        (dict(gate_bias_initializer=None), "gate_bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Highway(**kwargs)


def test_wrong_last_axis_at_call():
    layer = Highway()
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        Highway()(np.zeros((5,), "float32"))
