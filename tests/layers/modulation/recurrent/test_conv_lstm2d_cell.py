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

from hadamard_zoo.layers.modulation.recurrent.conv_lstm2d_cell import (
    ConvLSTM2DCell,
)

ConvLSTM2DSequence = sequence_layer(
    ConvLSTM2DCell,
    "ConvLSTM2DSequence",
    nested=False,
    output_shape_from_cell=True,
)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def conv_same(x, kernel):
    """Stride-1 'same' cross-correlation, window by window.

    For an even window the extra row/column of zeros goes after (bottom,
    right), as in TensorFlow and Keras.
    """
    batch, height, width, _ = x.shape
    kh, kw = kernel.shape[:2]
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = np.pad(
        x, ((0, 0), (top, kh - 1 - top), (left, kw - 1 - left), (0, 0))
    )
    out = np.zeros((batch, height, width, kernel.shape[-1]))
    for i in range(height):
        for j in range(width):
            window = padded[:, i : i + kh, j : j + kw]
            out[:, i, j] = np.einsum("bklc,klco->bo", window, kernel)
    return out


def conv_lstm_reference(inputs, weights, initial=None):
    """Shi et al.'s ConvLSTM, gate by gate (Keras' order i, f, c, o)."""
    (x,) = inputs
    w = {k: v.astype("float64") for k, v in weights.items()}
    kx, kh = w["cell/kernel"], w["cell/recurrent_kernel"]
    filters = kh.shape[2]
    bias = w.get("cell/bias", np.zeros(4 * filters))
    batch, time, height, width, _ = x.shape
    if initial is None:
        h = np.zeros((batch, height, width, filters))
        c = np.zeros_like(h)
    else:
        h, c = (s.astype("float64") for s in initial)
    outputs = []

    def gate(n, x_t, h_prev):
        cols = slice(n * filters, (n + 1) * filters)
        return (
            conv_same(x_t, kx[..., cols])
            + conv_same(h_prev, kh[..., cols])
            + bias[cols]
        )

    for t in range(time):
        x_t = x[:, t]
        i = sigmoid(gate(0, x_t, h) + w["cell/input_peephole"] * c)
        f = sigmoid(gate(1, x_t, h) + w["cell/forget_peephole"] * c)
        c = f * c + i * np.tanh(gate(2, x_t, h))
        o = sigmoid(gate(3, x_t, h) + w["cell/output_peephole"] * c)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


CASES = [
    LayerCase(
        name="conv_lstm2d_cell_k3",
        layer_cls=ConvLSTM2DSequence,
        init_kwargs=dict(cell_kwargs=dict(filters=3, kernel_size=3)),
        input_shapes=(2, 3, 5, 5, 2),
        reference=conv_lstm_reference,
    ),
    LayerCase(
        name="conv_lstm2d_cell_k2x3_nobias",
        layer_cls=ConvLSTM2DSequence,
        init_kwargs=dict(
            cell_kwargs=dict(filters=2, kernel_size=(2, 3), use_bias=False)
        ),
        input_shapes=(2, 2, 4, 5, 1),
        reference=conv_lstm_reference,
    ),
]

test_harness = layer_tests(CASES)


def check_conv_lstm_clone(clone):
    assert clone.kernel_size == (3, 1)


test_cell = cell_tests(
    CellSpec(
        cell_cls=ConvLSTM2DCell,
        cell_kwargs=dict(filters=3, kernel_size=3),
        step_shape=(5, 5, 2),
        rank_error="`inputs`",
        states_error="`states`",
        wrong_ranks=[(2, 3, 5, 5)],
        wrong_steps=[(None, None, None, 2)],
        wrong_states=[
            [(2, 5, 5, 3), (2, 5, 5, 4)],
            [(2, 5, 5, 3)],
            [(2, 4, 5, 3), (2, 5, 5, 3)],
        ],
        config_kwargs=dict(
            filters=4,
            kernel_size=(3, 1),
            activation="relu",
            recurrent_activation="hard_sigmoid",
            unit_forget_bias=False,
            peephole_initializer=0.1,
            recurrent_regularizer="l2",
            use_bias=False,
        ),
        check_clone=check_conv_lstm_clone,
        # keras.layers.RNN cannot infer the symbolic state shape of a conv
        # cell (state_size -1), which `fit` builds a Sequential model on.
        skip=("fit",),
    )
)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0, kernel_size=3), "filters"),
        (dict(filters=3, kernel_size=0), "kernel_size"),
        (dict(filters=3, kernel_size=(3,)), "kernel_size"),
        (dict(filters=3, kernel_size="3"), "kernel_size"),
        (dict(filters=3, kernel_size=3, unit_forget_bias=1), "unit_forget"),
        (dict(filters=3, kernel_size=3, activation="no_such"), "activation"),
        (
            dict(filters=3, kernel_size=3, peephole_initializer="no_such"),
            "peephole_initializer",
        ),
        (
            dict(filters=3, kernel_size=3, recurrent_initializer="no_such"),
            "recurrent_initializer",
        ),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvLSTM2DCell(**kwargs)


def test_zero_peepholes_equal_keras_conv_lstm2d():
    x = random_sequence((2, 3, 5, 5, 2))
    reference = keras.layers.ConvLSTM2D(
        3, 3, padding="same", return_sequences=True
    )
    expected = reference(x)
    rng = np.random.default_rng(1)
    # Random biases too: Keras' unit forget bias alone would not show a
    # swapped gate order.
    for v in reference.weights:
        v.assign(rng.uniform(-0.5, 0.5, v.shape).astype("float32"))
    expected = numpy(reference(x))
    cell = ConvLSTM2DCell(3, 3)
    layer = keras.layers.RNN(cell, return_sequences=True)
    layer(x)
    # Same layout: kernel, recurrent_kernel, bias copy one to one.
    cell.kernel.assign(reference.cell.kernel)
    cell.recurrent_kernel.assign(reference.cell.recurrent_kernel)
    cell.bias.assign(reference.cell.bias)
    for peephole in (
        cell.input_peephole,
        cell.forget_peephole,
        cell.output_peephole,
    ):
        np.testing.assert_array_equal(numpy(peephole), 0.0)
    np.testing.assert_allclose(numpy(layer(x)), expected, atol=1e-5)
    # Nonzero peepholes make it a different function.
    cell.output_peephole.assign(np.full(cell.output_peephole.shape, 0.5))
    assert np.max(np.abs(numpy(layer(x)) - expected)) > 1e-3


def test_peepholes_act_position_by_position():
    # W_co * C_t is a Hadamard product: a peephole weight at one position
    # and channel changes the output there and nowhere else.
    cell = ConvLSTM2DCell(3, 3)
    x = random_sequence((1, 5, 5, 2))[:1]
    cell.build(x.shape)
    randomize(cell, seed=0)
    zeros = [np.zeros((1, 5, 5, 3), "float32")] * 2
    for peephole in (
        cell.input_peephole,
        cell.forget_peephole,
        cell.output_peephole,
    ):
        peephole.assign(np.zeros(peephole.shape, "float32"))
    base, _ = cell(x, zeros)
    weights = np.zeros((5, 5, 3), "float32")
    weights[1, 3, 2] = 2.0
    cell.output_peephole.assign(weights)
    out, _ = cell(x, zeros)
    changed = np.abs(numpy(out) - numpy(base))[0] > 0
    assert changed[1, 3, 2]
    assert changed.sum() == 1


def test_input_and_forget_peepholes_read_the_previous_memory():
    # W_ci * C_{t-1} and W_cf * C_{t-1} add nothing from a zero memory and
    # change the step from a nonzero one.
    cell = ConvLSTM2DCell(2, 3)
    x = random_sequence((1, 4, 4, 1))
    cell.build(x.shape)
    randomize(cell, seed=0)
    h = np.zeros((1, 4, 4, 2), "float32")
    memories = [np.zeros_like(h), np.full_like(h, 0.7)]
    for peephole in (cell.input_peephole, cell.forget_peephole):
        for p in (cell.input_peephole, cell.forget_peephole):
            p.assign(np.zeros(p.shape, "float32"))
        before = [numpy(cell(x, [h, c])[0]) for c in memories]
        peephole.assign(np.ones(peephole.shape, "float32"))
        after = [numpy(cell(x, [h, c])[0]) for c in memories]
        np.testing.assert_array_equal(after[0], before[0])
        assert np.max(np.abs(after[1] - before[1])) > 1e-3


def test_state_shapes_follow_keras():
    cell = ConvLSTM2DCell(3, 3)
    layer = keras.layers.RNN(cell, return_state=True)
    output, h, c = layer(random_sequence((2, 3, 5, 5, 2)))
    assert tuple(output.shape) == (2, 5, 5, 3)
    assert tuple(h.shape) == tuple(c.shape) == (2, 5, 5, 3)
    assert [tuple(s.shape) for s in cell.get_initial_state(4)] == [
        (4, 5, 5, 3)
    ] * 2
    assert cell.compute_output_shape((None, 5, 5, 2)) == (
        (None, 5, 5, 3),
        [(None, 5, 5, 3), (None, 5, 5, 3)],
    )
    keras_cell = keras.layers.ConvLSTM2D(3, 3, padding="same").cell
    keras_cell.build((None, 5, 5, 2))
    assert cell.state_size == keras_cell.state_size == -1
    assert [tuple(s.shape) for s in keras_cell.get_initial_state(4)] == [
        (4, 5, 5, 3)
    ] * 2


def test_unit_forget_bias():
    cell = ConvLSTM2DCell(2, 3)
    cell.build((None, 4, 4, 1))
    np.testing.assert_array_equal(numpy(cell.bias), [0, 0, 1, 1, 0, 0, 0, 0])
    cell = ConvLSTM2DCell(2, 3, unit_forget_bias=False, bias_initializer=0.5)
    cell.build((None, 4, 4, 1))
    np.testing.assert_array_equal(numpy(cell.bias), [0.5] * 8)


def test_initial_state_needs_a_built_cell():
    with pytest.raises(ValueError, match="built"):
        ConvLSTM2DCell(3, 3).get_initial_state(2)


def test_nonzero_initial_state_matches_reference():
    cell = ConvLSTM2DCell(2, 3)
    layer = keras.layers.RNN(cell, return_sequences=True)
    x = random_sequence((2, 2, 4, 4, 1))
    layer(x)
    randomize(cell, seed=0)
    rng = np.random.default_rng(3)
    state = [rng.uniform(-1, 1, (2, 4, 4, 2)).astype("float32")] * 2
    weights = {f"cell/{v.name}": np.asarray(v.numpy()) for v in cell.weights}
    np.testing.assert_allclose(
        numpy(layer(x, initial_state=state)),
        conv_lstm_reference([x], weights, initial=state),
        atol=1e-5,
    )
