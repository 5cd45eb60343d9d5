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

from hadamard_zoo.layers.modulation.recurrent.lstm_cell import LSTMCell

LSTMSequence = sequence_layer(LSTMCell, "LSTMSequence")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_reference(inputs, weights, forget_bias=0.0, prefix="rnn/cell/"):
    """Step-by-step loop with one matrix per gate (order i, f, c, o)."""
    (x,) = inputs
    x = x.astype("float64")
    kernel = weights[prefix + "kernel"].astype("float64")
    recurrent = weights[prefix + "recurrent_kernel"].astype("float64")
    units = recurrent.shape[0]
    bias = weights.get(prefix + "bias", np.zeros(4 * units))
    gate = {}
    for n, name in enumerate("ifco"):
        cols = slice(n * units, (n + 1) * units)
        gate[name] = (kernel[:, cols], recurrent[:, cols], bias[cols])
    batch, time, _ = x.shape
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in range(time):

        def pre(name, x_t=x[:, t], h_prev=h):
            w, u, b = gate[name]
            return x_t @ w + h_prev @ u + b

        i = sigmoid(pre("i"))
        f = sigmoid(pre("f") + forget_bias)
        g = np.tanh(pre("c"))
        o = sigmoid(pre("o"))
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs[:, t] = h
    return outputs


CASES = [
    LayerCase(
        name="lstm_cell_sequence",
        layer_cls=LSTMSequence,
        init_kwargs=dict(cell_kwargs=dict(units=3)),
        input_shapes=(2, 5, 4),
        reference=lstm_reference,
    ),
    LayerCase(
        name="lstm_cell_forget_bias1_nobias",
        layer_cls=LSTMSequence,
        init_kwargs=dict(
            cell_kwargs=dict(units=2, forget_bias=1.0, use_bias=False)
        ),
        input_shapes=(2, 4, 3),
        reference=lambda x, w: lstm_reference(x, w, forget_bias=1.0),
    ),
]

test_harness = layer_tests(CASES)


def check_lstm_clone(clone):
    clone.build((None, 2))
    assert [v.name for v in clone.weights] == ["kernel", "recurrent_kernel"]
    np.testing.assert_allclose(numpy(clone.recurrent_kernel), 0.05)


test_cell = cell_tests(
    CellSpec(
        cell_cls=LSTMCell,
        cell_kwargs=dict(units=4, forget_bias=1.0),
        rank_error=r"inputs.*\(batch, input_dim\)",
        states_error=r"states.*\[h, c\]",
        wrong_ranks=[(2, 3), (2, 5, 3, 1)],
        wrong_steps=[(2, 5, 3)],
        wrong_states=[[(2, 4)], [(2, 4), (2, 3)], [(2, 4), (2, 4), (2, 4)]],
        config_kwargs=dict(
            units=5,
            forget_bias=1.0,
            activation=None,
            recurrent_activation="hard_sigmoid",
            use_bias=False,
            kernel_initializer=keras.initializers.RandomUniform(-0.1, 0.1),
            recurrent_initializer=0.05,
            recurrent_regularizer="l2",
        ),
        config_expected={
            "units": 5,
            "forget_bias": 1.0,
            "activation": "linear",
            "recurrent_activation": "hard_sigmoid",
            "use_bias": False,
            "kernel_initializer": "RandomUniform",
            "recurrent_initializer": "Constant",
            "recurrent_regularizer": "L2",
        },
        check_clone=check_lstm_clone,
        fit_epochs=5,
    )
)


def test_matches_keras_lstm():
    assert_same_function(
        keras.layers.LSTM(4, return_sequences=True, return_state=True),
        keras.layers.RNN(LSTMCell(4), return_sequences=True, return_state=True),
        random_sequence((2, 5, 3)),
    )


def test_forget_bias_is_not_a_weight():
    # forget_bias=b must equal a copy with b folded into the forget bias.
    x = random_sequence((2, 4, 3))
    shifted = keras.layers.RNN(LSTMCell(2, forget_bias=1.5))
    folded = keras.layers.RNN(LSTMCell(2))
    shifted(x)
    folded(x)
    randomize(shifted)
    kernel, recurrent, bias = shifted.get_weights()
    assert len(shifted.weights) == 3
    folded.set_weights([kernel, recurrent, bias + np.repeat([0, 1.5, 0, 0], 2)])
    np.testing.assert_allclose(
        numpy(shifted(x)), numpy(folded(x)), atol=1e-6, rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.5), "units"),
        (dict(units=3, forget_bias="1"), "forget_bias"),
        (dict(units=3, forget_bias=True), "forget_bias"),
        (dict(units=3, activation="no_such"), "activation"),
        (dict(units=3, recurrent_activation="no_such"), "recurrent_activ"),
        (dict(units=3, recurrent_initializer="no_such"), "recurrent_init"),
        (dict(units=3, use_bias="yes"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMCell(**kwargs)
