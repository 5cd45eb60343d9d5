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
from hadamard_zoo.layers.modulation.recurrent.li_gru_cell import LiGRUCell

LiGRUSequence = sequence_layer(LiGRUCell, "LiGRUSequence")


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def layer_norm(a, gamma, epsilon=1e-3):
    centered = a - a.mean(axis=-1, keepdims=True)
    spread = np.sqrt((centered**2).mean(axis=-1, keepdims=True) + epsilon)
    return gamma * centered / spread


def li_gru_reference(inputs, weights, normalize=False, prefix="rnn/cell/"):
    """Loop over time; the gate and the candidate computed separately."""
    (x,) = inputs
    x = x.astype("float64")
    kernel = weights[prefix + "kernel"].astype("float64")
    recurrent = weights[prefix + "recurrent_kernel"].astype("float64")
    units = recurrent.shape[0]
    bias = weights.get(prefix + "bias", np.zeros(2 * units))
    gamma = weights.get(prefix + "input_norm_gamma", np.ones(2 * units))
    blocks = {}
    for n, name in enumerate("zh"):
        cols = slice(n * units, (n + 1) * units)
        blocks[name] = (kernel[:, cols], recurrent[:, cols], bias[cols])
    batch, time, _ = x.shape
    h = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in range(time):
        pre = {}
        for n, (name, (w, u, b)) in enumerate(blocks.items()):
            projected = x[:, t] @ w
            if normalize:
                projected = layer_norm(
                    projected, gamma[n * units : (n + 1) * units]
                )
            pre[name] = projected + h @ u + b
        z = sigmoid(pre["z"])
        candidate = np.maximum(pre["h"], 0.0)
        h = z * h + (1 - z) * candidate
        outputs[:, t] = h
    return outputs


CASES = [
    LayerCase(
        name="li_gru_cell_sequence",
        layer_cls=LiGRUSequence,
        init_kwargs=dict(cell_kwargs=dict(units=3)),
        input_shapes=(2, 5, 4),
        reference=li_gru_reference,
    ),
    LayerCase(
        name="li_gru_cell_normalized_nobias",
        layer_cls=LiGRUSequence,
        init_kwargs=dict(
            cell_kwargs=dict(units=4, normalize_inputs=True, use_bias=False)
        ),
        input_shapes=(2, 4, 3),
        reference=lambda x, w: li_gru_reference(x, w, normalize=True),
        # Drawn around 1 like a trained gain, not around 0.
        weight_overrides={"gamma": lambda rng, s: rng.uniform(0.5, 1.5, s)},
    ),
]

test_harness = layer_tests(CASES)


def check_li_gru_clone(clone):
    clone.build((None, 2))
    shapes = {v.name: tuple(v.shape) for v in clone.weights}
    assert shapes == {
        "kernel": (2, 10),
        "recurrent_kernel": (5, 10),
        "bias": (10,),
        "input_norm_gamma": (10,),
    }
    np.testing.assert_array_equal(numpy(clone.input_norm_gamma), 1.0)
    # The defaults: ReLU and no gain.
    assert LiGRUCell(3).get_config()["activation"] == "relu"
    plain = LiGRUCell(3)
    plain.build((None, 2))
    assert len(plain.weights) == 3


test_cell = cell_tests(
    CellSpec(
        cell_cls=LiGRUCell,
        cell_kwargs=dict(units=4, normalize_inputs=True),
        rank_error=r"inputs.*\(batch, input_dim\)",
        states_error=r"states.*\[h\]",
        wrong_ranks=[(2, 3), (2, 5, 3, 1)],
        wrong_states=[[(2, 3)], [(2, 4), (2, 4)]],
        config_kwargs=dict(units=5, normalize_inputs=True, activation="tanh"),
        config_expected={
            "units": 5,
            "normalize_inputs": True,
            "activation": "tanh",
        },
        check_clone=check_li_gru_clone,
    )
)


def test_equals_a_relu_gru_whose_reset_gate_is_open():
    # With r = σ(100) = 1 in float32, the GRU's candidate sees all of
    # h_{t-1}: it is the Li-GRU's, so the two cells must agree.
    def open_reset(w, value=0.0):
        reset = np.full(w.shape[:-1] + (4,), value, w.dtype)
        return np.concatenate([w[..., :4], reset, w[..., 4:]], axis=-1)

    assert_same_function(
        keras.layers.RNN(LiGRUCell(4), return_sequences=True),
        keras.layers.RNN(GRUCell(4, activation="relu"), return_sequences=True),
        random_sequence((2, 5, 3)),
        convert=lambda w: [
            open_reset(w[0]),
            open_reset(w[1]),
            open_reset(w[2], 100.0),
        ],
    )


def test_normalization_does_not_depend_on_the_batch():
    # Per-example statistics: a sequence gives the same outputs alone as
    # in a batch, in training and in inference.
    x = random_sequence((3, 4, 3))
    rnn = keras.layers.RNN(
        LiGRUCell(4, normalize_inputs=True), return_sequences=True
    )
    rnn(x)
    randomize(rnn)
    together = numpy(rnn(x, training=True))
    alone = numpy(rnn(x[1:2], training=False))
    np.testing.assert_allclose(alone[0], together[1], atol=1e-6)


def test_normalization_removes_the_input_scale():
    # N(W x) is invariant to scaling x (up to ε, negligible for large x),
    # so with U = 0 and b = 0 the outputs are too; without it they are not.
    x = random_sequence((2, 4, 3))
    for normalize in (True, False):
        rnn = keras.layers.RNN(
            LiGRUCell(4, normalize_inputs=normalize), return_sequences=True
        )
        rnn(x)
        randomize(rnn)
        weights = rnn.get_weights()
        weights[1] = 0 * weights[1]
        weights[2] = 0 * weights[2]
        rnn.set_weights(weights)
        gap = np.max(np.abs(numpy(rnn(100 * x)) - numpy(rnn(1000 * x))))
        assert (gap < 1e-4) if normalize else (gap > 0.1), (normalize, gap)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=1, normalize_inputs=True), "units"),
        (dict(units=3, normalize_inputs=1), "normalize_inputs"),
        (dict(units=3, activation="no_such"), "activation"),
        (dict(units=3, recurrent_activation="no_such"), "recurrent_activ"),
        (dict(units=3, recurrent_initializer="no_such"), "recurrent_init"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LiGRUCell(**kwargs)
