import keras
import numpy as np
import pytest
from cell_checks import CellSpec
from cell_checks import cell_tests
from cell_checks import numpy
from cell_checks import random_sequence
from cell_checks import sequence_layer
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.ind_rnn_cell import IndRNNCell
from hadamard_zoo.layers.modulation.recurrent.ind_rnn_cell import MaxAbsClip

IndRNNSequence = sequence_layer(IndRNNCell, "IndRNNSequence", nested=False)


def relu(x):
    return np.maximum(x, 0.0)


def ind_rnn_reference(inputs, weights, activation=relu, initial=None):
    """h_t[j] = act(x_t · W[:, j] + b[j] + u[j] h_{t-1}[j]), unit by unit."""
    (x,) = inputs
    kernel = weights["cell/kernel"].astype("float64")
    u = weights["cell/recurrent_kernel"].astype("float64")
    bias = weights.get("cell/bias", np.zeros_like(u)).astype("float64")
    batch, time, _ = x.shape
    units = u.shape[0]
    h = np.zeros((batch, units)) if initial is None else initial.copy()
    outputs = np.zeros((batch, time, units))
    for t in range(time):
        new_h = np.zeros_like(h)
        for j in range(units):
            # Unit j reads its own past only: a scalar weight, no matrix.
            pre = x[:, t] @ kernel[:, j] + bias[j] + u[j] * h[:, j]
            new_h[:, j] = activation(pre)
        h = new_h
        outputs[:, t] = h
    return outputs


CASES = [
    LayerCase(
        name="ind_rnn_cell_relu",
        layer_cls=IndRNNSequence,
        init_kwargs=dict(cell_kwargs=dict(units=4)),
        input_shapes=(2, 5, 3),
        reference=lambda x, w: ind_rnn_reference(x, w),
    ),
    LayerCase(
        name="ind_rnn_cell_tanh_nobias_maxabs",
        layer_cls=IndRNNSequence,
        init_kwargs=dict(
            cell_kwargs=dict(
                units=3,
                activation="tanh",
                use_bias=False,
                recurrent_max_abs=0.9,
            )
        ),
        input_shapes=(2, 4, 2),
        weight_scale=0.8,
        reference=lambda x, w: ind_rnn_reference(x, w, activation=np.tanh),
    ),
]

test_harness = layer_tests(CASES)


def check_ind_rnn_clone(clone):
    assert clone.recurrent_max_abs == 1.2
    assert isinstance(clone.recurrent_constraint, MaxAbsClip)


test_cell = cell_tests(
    CellSpec(
        cell_cls=IndRNNCell,
        cell_kwargs=dict(units=4, activation="tanh"),
        rank_error="`inputs`",
        states_error="`states`",
        wrong_ranks=[(2, 5, 3, 1)],
        wrong_steps=[(2, 5, 3)],
        wrong_states=[[(2, 5)]],
        config_kwargs=dict(
            units=5,
            activation="tanh",
            recurrent_max_abs=1.2,
            recurrent_initializer="zeros",
            recurrent_regularizer="l2",
            use_bias=False,
        ),
        check_clone=check_ind_rnn_clone,
    )
)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.0), "units"),
        (dict(units=4, recurrent_max_abs=0.0), "recurrent_max_abs"),
        (dict(units=4, recurrent_max_abs=-1.0), "recurrent_max_abs"),
        (dict(units=4, recurrent_max_abs=float("inf")), "recurrent_max_abs"),
        (dict(units=4, recurrent_max_abs="1"), "recurrent_max_abs"),
        (dict(units=4, activation="no_such"), "activation"),
        (dict(units=4, recurrent_initializer="no_such"), "recurrent_init"),
        (dict(units=4, use_bias=1), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IndRNNCell(**kwargs)


def test_nonzero_initial_state_matches_reference():
    cell = IndRNNCell(3, activation="tanh")
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = random_sequence((2, 4, 2))
    h0 = np.random.default_rng(1).uniform(-1, 1, (2, 3)).astype("float32")
    actual = layer(x, initial_state=[h0])
    weights = {f"cell/{v.name}": np.asarray(v.numpy()) for v in cell.weights}
    expected = ind_rnn_reference([x], weights, np.tanh, initial=h0)
    np.testing.assert_allclose(numpy(actual), expected, atol=1e-5)


def test_each_unit_sees_only_its_own_past():
    # u * h_{t-1} is a Hadamard product: nudging unit j of the state may
    # change unit j of the next state only (a matrix U would mix units).
    cell = IndRNNCell(4, activation="tanh")
    x = np.ones((1, 3), "float32")
    h = np.zeros((1, 4), "float32")
    base, _ = cell(x, [h])
    for j in range(4):
        nudged = h.copy()
        nudged[0, j] = 1.0
        out, _ = cell(x, [nudged])
        diff = np.abs(numpy(out - base))[0]
        assert diff[j] > 0
        assert np.all(np.delete(diff, j) == 0)


def test_recurrent_max_abs_bounds_initial_and_trained_weights():
    cell = IndRNNCell(
        16,
        recurrent_max_abs=0.5,
        recurrent_initializer=keras.initializers.RandomUniform(-3.0, 3.0),
    )
    model = keras.Sequential(
        [keras.Input((4, 2)), keras.layers.RNN(cell), keras.layers.Dense(1)]
    )
    u = numpy(cell.recurrent_kernel)
    assert np.max(np.abs(u)) <= 0.5
    assert np.max(np.abs(u)) == pytest.approx(0.5)  # clipped, not rescaled
    assert isinstance(cell.recurrent_kernel.constraint, MaxAbsClip)
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss="mse")
    x = random_sequence((8, 4, 2))
    y = np.full((8, 1), 50.0, "float32")
    model.fit(x, y, epochs=2, verbose=0)
    u_after = numpy(cell.recurrent_kernel)
    assert not np.array_equal(u, u_after)
    assert np.max(np.abs(u_after)) <= 0.5 + 1e-7


def test_default_recurrent_initializer_is_bounded():
    cell = IndRNNCell(64, recurrent_max_abs=0.25)
    cell.build((None, 3))
    u = numpy(cell.recurrent_kernel)
    assert np.max(np.abs(u)) <= 0.25
    assert np.min(u) < 0 < np.max(u)
    cell = IndRNNCell(64)
    cell.build((None, 3))
    u = numpy(cell.recurrent_kernel)
    assert np.max(np.abs(u)) <= 1.0
    assert cell.recurrent_kernel.constraint is None


def test_max_abs_clip():
    clip = MaxAbsClip(1.5)
    w = np.array([-4.0, -1.0, 0.0, 1.25, 2.0], "float32")
    np.testing.assert_array_equal(numpy(clip(w)), [-1.5, -1.0, 0.0, 1.25, 1.5])
    clone = keras.constraints.deserialize(keras.constraints.serialize(clip))
    assert isinstance(clone, MaxAbsClip) and clone.max_abs == 1.5
    for bad in (0, -1.0, None, "2"):
        with pytest.raises(ValueError, match="max_abs"):
            MaxAbsClip(bad)
