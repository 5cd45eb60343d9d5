import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.squeeze_excitation import SqueezeExcitation


def relu(x):
    return np.maximum(x, 0.0)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hard_sigmoid(x):
    return np.clip(x / 6.0 + 0.5, 0.0, 1.0)


def se_reference(inputs, weights, act=relu, gate_act=sigmoid):
    """z = GAP(u); s = σ(W_2 δ(W_1 z + b_1) + b_2); y = u * s."""
    (u,) = inputs
    u = u.astype("float64")
    z = u.reshape(u.shape[0], -1, u.shape[-1]).mean(axis=1)  # (B, C)
    hidden = act(z @ weights["squeeze_kernel"] + weights.get("squeeze_bias", 0))
    s = gate_act(
        hidden @ weights["excite_kernel"] + weights.get("excite_bias", 0)
    )
    # s has shape (B, C): give it one unit axis per spatial axis of u.
    s = s.reshape((u.shape[0],) + (1,) * (u.ndim - 2) + (u.shape[-1],))
    return u * s


CASES = [
    LayerCase(
        name="se_4d_ratio4",
        layer_cls=SqueezeExcitation,
        init_kwargs=dict(ratio=4),
        input_shapes=(2, 4, 4, 8),
        reference=se_reference,
    ),
    LayerCase(
        name="se_3d_min_units_nobias",
        layer_cls=SqueezeExcitation,
        # 8 // 16 == 0, so the bottleneck takes min_units = 3.
        init_kwargs=dict(min_units=3, use_bias=False),
        input_shapes=(2, 5, 8),
        reference=se_reference,
    ),
    LayerCase(
        name="se_5d_tanh_hard_sigmoid",
        layer_cls=SqueezeExcitation,
        init_kwargs=dict(
            ratio=2, activation="tanh", gate_activation="hard_sigmoid"
        ),
        input_shapes=(2, 2, 3, 3, 6),
        reference=lambda x, w: se_reference(x, w, np.tanh, hard_sigmoid),
    ),
]

test_harness = layer_tests(CASES)


def test_squeeze_width():
    layer = SqueezeExcitation(ratio=4, min_units=3)
    layer(np.zeros((1, 2, 2, 32), "float32"))
    assert tuple(layer.squeeze_kernel.shape) == (32, 8)
    assert tuple(layer.excite_kernel.shape) == (8, 32)
    assert layer.squeeze_units(8) == 3


def test_gate_is_constant_over_space():
    """Every spatial position of a channel is scaled by the same factor."""
    layer = SqueezeExcitation(ratio=2)
    u = np.random.default_rng(0).uniform(0.5, 1.0, (2, 3, 4, 6))
    y = keras.ops.convert_to_numpy(layer(u.astype("float32")))
    ratio = y / u
    np.testing.assert_allclose(
        ratio, np.broadcast_to(ratio[:, :1, :1, :], ratio.shape), rtol=1e-5
    )
    assert np.all((ratio > 0) & (ratio < 1))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ratio=0), "ratio"),
        (dict(ratio=2.5), "ratio"),
        (dict(ratio=True), "ratio"),
        (dict(min_units=0), "min_units"),
        (dict(min_units="4"), "min_units"),
        (dict(activation="no_such_activation"), "`activation`"),
        (dict(gate_activation="no_such_activation"), "gate_activation"),
        (dict(gate_activation=3), "gate_activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SqueezeExcitation(**kwargs)


def test_wrong_last_axis_at_call():
    layer = SqueezeExcitation(ratio=2)
    layer(np.zeros((2, 3, 3, 8), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 3, 3, 6), "float32"))


def test_rank_two_input_rejected():
    with pytest.raises(ValueError, match="rank >= 3"):
        SqueezeExcitation(ratio=2)(np.zeros((2, 8), "float32"))
