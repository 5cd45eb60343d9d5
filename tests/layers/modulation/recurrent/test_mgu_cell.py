import keras
import numpy as np
import pytest
from cell_checks import CellSpec
from cell_checks import assert_same_function
from cell_checks import cell_tests
from cell_checks import random_sequence
from cell_checks import sequence_layer
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.gru_cell import GRUCell
from hadamard_zoo.layers.modulation.recurrent.mgu_cell import MGUCell

MGUSequence = sequence_layer(MGUCell, "MGUSequence")


def mgu_reference(inputs, weights, prefix="rnn/cell/"):
    """Loop over time with the forget gate written through tanh.

    σ(a) = (1 + tanh(a / 2)) / 2, so the reference does not share the
    implementation's sigmoid.
    """
    (x,) = inputs
    x = x.astype("float64")
    kernel = weights[prefix + "kernel"].astype("float64")
    recurrent = weights[prefix + "recurrent_kernel"].astype("float64")
    units = recurrent.shape[0]
    bias = weights.get(prefix + "bias", np.zeros(2 * units))
    w_f, w_h = kernel[:, :units], kernel[:, units:]
    u_f, u_h = recurrent[:, :units], recurrent[:, units:]
    b_f, b_h = bias[:units], bias[units:]
    batch, time, _ = x.shape
    h = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in range(time):
        a = x[:, t] @ w_f + h @ u_f + b_f
        f = 0.5 * (1.0 + np.tanh(0.5 * a))
        candidate = np.tanh(x[:, t] @ w_h + (f * h) @ u_h + b_h)
        h = h + f * (candidate - h)
        outputs[:, t] = h
    return outputs


CASES = [
    LayerCase(
        name="mgu_cell_sequence",
        layer_cls=MGUSequence,
        init_kwargs=dict(cell_kwargs=dict(units=3)),
        input_shapes=(2, 5, 4),
        reference=mgu_reference,
    ),
    LayerCase(
        name="mgu_cell_nobias",
        layer_cls=MGUSequence,
        init_kwargs=dict(cell_kwargs=dict(units=2, use_bias=False)),
        input_shapes=(2, 4, 3),
        reference=mgu_reference,
    ),
]

test_harness = layer_tests(CASES)


def check_mgu_weights(clone):
    clone.build((None, 2))
    shapes = {v.name: tuple(v.shape) for v in clone.weights}
    assert shapes == {
        "kernel": (2, 10),
        "recurrent_kernel": (5, 10),
        "bias": (10,),
    }


test_cell = cell_tests(
    CellSpec(
        cell_cls=MGUCell,
        cell_kwargs=dict(units=4),
        rank_error=r"inputs.*\(batch, input_dim\)",
        states_error=r"states.*\[h\]",
        wrong_ranks=[(2, 3), (2, 5, 3, 1)],
        wrong_states=[[(2, 3)], [(2, 4), (2, 4)]],
        config_kwargs=dict(
            units=5, activation="relu", recurrent_initializer=0.05
        ),
        config_expected={
            "units": 5,
            "activation": "relu",
            "recurrent_activation": "sigmoid",
            "recurrent_initializer": "Constant",
        },
        check_clone=check_mgu_weights,
    )
)


def test_equals_a_gru_whose_gates_are_tied():
    # A GRU with reset gate r = f and update gate z = σ(-a_f) = 1 - f is
    # the MGU: z h + (1 - z) h̃ = (1 - f) h + f h̃.
    def tie(w):
        return np.concatenate([-w[..., :4], w[..., :4], w[..., 4:]], axis=-1)

    assert_same_function(
        keras.layers.RNN(MGUCell(4), return_sequences=True),
        keras.layers.RNN(GRUCell(4), return_sequences=True),
        random_sequence((2, 5, 3)),
        convert=lambda weights: [tie(w) for w in weights],
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=None), "units"),
        (dict(units=3, activation="no_such"), "activation"),
        (dict(units=3, recurrent_activation="no_such"), "recurrent_activ"),
        (dict(units=3, recurrent_initializer="no_such"), "recurrent_init"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MGUCell(**kwargs)
