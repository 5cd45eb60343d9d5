import keras
import numpy as np
import pytest
from cell_checks import CellSpec
from cell_checks import cell_tests
from cell_checks import numpy
from cell_checks import random_sequence
from cell_checks import randomize
from cell_checks import sequence_layer
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.rhn_cell import RHNCell

RHNSequence = sequence_layer(RHNCell, "RHNSequence", nested=False)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rhn_reference(inputs, weights, depth, activation=np.tanh, initial=None):
    """The RHN recurrence, one highway layer and one time step at a time."""
    (x,) = inputs
    w = weights["cell/kernel"].astype("float64")
    units = w.shape[1] // 2
    w_h, w_t = w[:, :units], w[:, units:]
    batch, time, _ = x.shape
    s = np.zeros((batch, units)) if initial is None else initial.copy()
    outputs = np.zeros((batch, time, units))
    for step in range(time):
        for layer in range(1, depth + 1):
            r = weights[f"cell/recurrent_kernel_{layer}"].astype("float64")
            b = weights.get(f"cell/bias_{layer}", np.zeros(2 * units))
            pre_h = s @ r[:, :units] + b[:units]
            pre_t = s @ r[:, units:] + b[units:]
            if layer == 1:
                pre_h = pre_h + x[:, step] @ w_h
                pre_t = pre_t + x[:, step] @ w_t
            gate = sigmoid(pre_t)
            # s + t (h - s) is h t + s (1 - t) rearranged.
            s = s + gate * (activation(pre_h) - s)
        outputs[:, step] = s
    return outputs


CASES = [
    LayerCase(
        name="rhn_cell_depth3",
        layer_cls=RHNSequence,
        init_kwargs=dict(cell_kwargs=dict(units=4, depth=3)),
        input_shapes=(2, 4, 3),
        reference=lambda x, w: rhn_reference(x, w, 3),
    ),
    LayerCase(
        name="rhn_cell_depth1_relu_nobias",
        layer_cls=RHNSequence,
        init_kwargs=dict(
            cell_kwargs=dict(
                units=3, depth=1, activation="relu", use_bias=False
            )
        ),
        input_shapes=(2, 5, 2),
        reference=lambda x, w: rhn_reference(
            x, w, 1, activation=lambda v: np.maximum(v, 0.0)
        ),
    ),
]

test_harness = layer_tests(CASES)


test_cell = cell_tests(
    CellSpec(
        cell_cls=RHNCell,
        cell_kwargs=dict(units=4, depth=2),
        rank_error="`inputs`",
        states_error="`states`",
        wrong_ranks=[(2, 5, 3, 1)],
        wrong_steps=[(2,)],
        wrong_states=[[(2, 3)]],
    )
)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=4, depth=0), "depth"),
        (dict(units=4, depth=2.0), "depth"),
        (dict(units=4, transform_bias="low"), "transform_bias"),
        (dict(units=4, transform_bias=None), "transform_bias"),
        (dict(units=4, activation="no_such"), "activation"),
        (dict(units=4, recurrent_activation="no_such"), "recurrent_act"),
        (dict(units=4, recurrent_initializer="no_such"), "recurrent_init"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RHNCell(**kwargs)


def test_depth_one_is_the_single_layer_highway_recurrence():
    # Depth 1: s_t = tanh(W_H x + R_H s + b_H) * T + s_{t-1} * (1 - T),
    # T = σ(W_T x + R_T s + b_T), with every weight drawn at random.
    cell = RHNCell(3, depth=1)
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = random_sequence((2, 5, 2))
    layer.build(x.shape)
    randomize(cell, seed=0, scale=0.7)
    kernel, recurrent, bias = (
        np.asarray(v.numpy(), "float64")
        for v in (cell.kernel, cell.recurrent_kernels[0], cell.biases[0])
    )
    w_h, w_t = np.split(kernel, 2, axis=1)
    r_h, r_t = np.split(recurrent, 2, axis=1)
    b_h, b_t = np.split(bias, 2)
    s = np.zeros((2, 3))
    expected = []
    for t in range(5):
        transform = np.tanh(x[:, t] @ w_h + s @ r_h + b_h)
        gate = sigmoid(x[:, t] @ w_t + s @ r_t + b_t)
        s = transform * gate + s * (1.0 - gate)
        expected.append(s)
    np.testing.assert_allclose(
        numpy(layer(x)), np.stack(expected, axis=1), atol=1e-5
    )


def test_input_enters_the_first_layer_only():
    # Close layer 1 (t^1 ≈ 0, so s^1 = s^0): the input then has no way in,
    # however the deeper layers are weighted.
    cell = RHNCell(3, depth=2)
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer.build((2, 4, 2))
    randomize(cell, seed=0, scale=0.7)
    bias = np.asarray(cell.biases[0].numpy())
    bias[3:] = -1e4
    cell.biases[0].assign(bias)
    first = layer(random_sequence((2, 4, 2), 0))
    second = layer(random_sequence((2, 4, 2), 1))
    np.testing.assert_allclose(numpy(first), numpy(second), atol=1e-6)


def test_closed_gates_carry_the_state_unchanged():
    # t^l → 0 at every layer: s_t = s_{t-1}, the highway's identity path.
    cell = RHNCell(3, depth=3, transform_bias=-1e4)
    layer = keras.layers.RNN(cell, return_sequences=True)
    s0 = np.array([[0.3, -0.2, 0.9]], "float32")
    out = layer(random_sequence((1, 4, 2)), initial_state=[s0])
    np.testing.assert_allclose(numpy(out), np.repeat(s0[:, None], 4, 1))


def test_transform_bias_initialises_every_gate_bias():
    cell = RHNCell(4, depth=3, transform_bias=-3.0, bias_initializer="ones")
    cell.build((None, 2))
    for bias in cell.biases:
        np.testing.assert_array_equal(numpy(bias), [1.0] * 4 + [-3.0] * 4)
    cell = RHNCell(4, depth=2, use_bias=False)
    cell.build((None, 2))
    assert sorted(v.name for v in cell.weights) == [
        "kernel",
        "recurrent_kernel_1",
        "recurrent_kernel_2",
    ]


def test_each_layer_starts_with_its_own_recurrent_weights():
    cell = RHNCell(4, depth=2)
    cell.build((None, 2))
    first, second = (numpy(k) for k in cell.recurrent_kernels)
    assert not np.allclose(first, second)


def test_nonzero_initial_state_matches_reference():
    cell = RHNCell(3, depth=2)
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = random_sequence((2, 3, 2))
    layer.build(x.shape)
    randomize(cell, seed=0, scale=0.7)
    s0 = np.random.default_rng(2).uniform(-1, 1, (2, 3)).astype("float32")
    weights = {f"cell/{v.name}": np.asarray(v.numpy()) for v in cell.weights}
    np.testing.assert_allclose(
        numpy(layer(x, initial_state=[s0])),
        rhn_reference([x], weights, 2, initial=s0),
        atol=1e-5,
    )
