import keras
import numpy as np
import pytest
from cell_checks import CellSpec
from cell_checks import assert_same_function
from cell_checks import cell_tests
from cell_checks import numpy
from cell_checks import random_sequence
from cell_checks import randomize
from cell_checks import sequence_layer
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.gru_cell import GRUCell

GRUSequence = sequence_layer(GRUCell, "GRUSequence")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_reference(inputs, weights, prefix="rnn/cell/"):
    """Loop over time and over units: each unit's gates one at a time."""
    (x,) = inputs
    x = x.astype("float64")
    kernel = weights[prefix + "kernel"].astype("float64")
    recurrent = weights[prefix + "recurrent_kernel"].astype("float64")
    units = recurrent.shape[0]
    bias = weights.get(prefix + "bias", np.zeros(3 * units))
    batch, time, _ = x.shape
    h = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in range(time):
        x_t = x[:, t]
        z = np.empty((batch, units))
        r = np.empty((batch, units))
        for j in range(units):
            z[:, j] = sigmoid(
                x_t @ kernel[:, j] + h @ recurrent[:, j] + bias[j]
            )
            r[:, j] = sigmoid(
                x_t @ kernel[:, units + j]
                + h @ recurrent[:, units + j]
                + bias[units + j]
            )
        new_h = np.empty((batch, units))
        for j in range(units):
            candidate = np.tanh(
                x_t @ kernel[:, 2 * units + j]
                + (r * h) @ recurrent[:, 2 * units + j]
                + bias[2 * units + j]
            )
            new_h[:, j] = z[:, j] * h[:, j] + (1 - z[:, j]) * candidate
        h = new_h
        outputs[:, t] = h
    return outputs


CASES = [
    LayerCase(
        name="gru_cell_sequence",
        layer_cls=GRUSequence,
        init_kwargs=dict(cell_kwargs=dict(units=3)),
        input_shapes=(2, 5, 4),
        reference=gru_reference,
    ),
    LayerCase(
        name="gru_cell_nobias",
        layer_cls=GRUSequence,
        init_kwargs=dict(cell_kwargs=dict(units=2, use_bias=False)),
        input_shapes=(2, 4, 3),
        reference=gru_reference,
    ),
]

test_harness = layer_tests(CASES)


test_cell = cell_tests(
    CellSpec(
        cell_cls=GRUCell,
        cell_kwargs=dict(units=4),
        rank_error=r"inputs.*\(batch, input_dim\)",
        states_error=r"states.*\[h\]",
        wrong_ranks=[(2, 3), (2, 5, 3, 1)],
        wrong_steps=[(2, 5, 3)],
        wrong_states=[[(2, 3)], [(2, 4), (2, 4)], [(4,)]],
        config_kwargs=dict(
            units=5,
            activation="relu",
            recurrent_activation="hard_sigmoid",
            use_bias=False,
            recurrent_initializer=0.05,
            recurrent_regularizer="l2",
        ),
        config_expected={
            "units": 5,
            "activation": "relu",
            "recurrent_activation": "hard_sigmoid",
            "use_bias": False,
            "recurrent_initializer": "Constant",
            "recurrent_regularizer": "L2",
        },
        bare_state=True,
    )
)


def test_matches_keras_gru_with_reset_before():
    assert_same_function(
        keras.layers.GRU(
            4, reset_after=False, return_sequences=True, return_state=True
        ),
        keras.layers.RNN(GRUCell(4), return_sequences=True, return_state=True),
        random_sequence((2, 5, 3)),
    )


def test_differs_from_keras_default_reset_after():
    # Guards against computing the cuDNN form: with the same W, U and b
    # (the reset_after bias's recurrent row zero) the outputs differ.
    x = random_sequence((2, 5, 3))
    ref = keras.layers.GRU(4, return_sequences=True)
    ours = keras.layers.RNN(GRUCell(4), return_sequences=True)
    ref(x)
    ours(x)
    randomize(ours)
    kernel, recurrent, bias = ours.get_weights()
    ref.set_weights([kernel, recurrent, np.stack([bias, 0 * bias])])
    assert np.max(np.abs(numpy(ours(x)) - numpy(ref(x)))) > 1e-3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units="3"), "units"),
        (dict(units=3, activation="no_such"), "activation"),
        (dict(units=3, recurrent_activation="no_such"), "recurrent_activ"),
        (dict(units=3, recurrent_initializer="no_such"), "recurrent_init"),
        (dict(units=3, bias_initializer="no_such"), "bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GRUCell(**kwargs)
