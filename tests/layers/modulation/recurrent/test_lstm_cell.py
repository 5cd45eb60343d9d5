import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.lstm_cell import LSTMCell

# JAX and TensorFlow compile the step with XLA; torch.compile takes 10-60 s
# for this model on a 2-core CPU and is not what torch users run by default.
JIT = keras.backend.backend() != "torch"


@keras.saving.register_keras_serializable(package="hadamard_zoo_tests")
class LSTMSequence(keras.layers.Layer):
    """`RNN(LSTMCell(**cell_kwargs), return_sequences=True)` as one layer.

    The harness builds a layer from keyword arguments and calls it on
    whole inputs; a cell computes one step, so the harness tests it inside
    Keras' own time loop, the way models use it. The fixed names keep the
    weight names in the golden file stable (`rnn/cell/kernel`, ...).
    """

    def __init__(self, cell_kwargs, **kwargs):
        super().__init__(**kwargs)
        self.cell_kwargs = dict(cell_kwargs)
        cell = LSTMCell(
            **self.cell_kwargs, dtype=self.dtype_policy, name="cell"
        )
        self.rnn = keras.layers.RNN(
            cell, return_sequences=True, dtype=self.dtype_policy, name="rnn"
        )

    def build(self, input_shape):
        self.rnn.build(input_shape)

    def call(self, inputs):
        return self.rnn(inputs)

    def get_config(self):
        return {**super().get_config(), "cell_kwargs": self.cell_kwargs}


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


def random_sequence(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()]
    )


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_matches_keras_lstm():
    x = random_sequence((2, 5, 3))
    ref = keras.layers.LSTM(4, return_sequences=True, return_state=True)
    ours = keras.layers.RNN(
        LSTMCell(4), return_sequences=True, return_state=True
    )
    ref(x)
    ours(x)
    randomize(ref)
    ours.set_weights(ref.get_weights())
    for a, e in zip(ours(x), ref(x), strict=True):
        np.testing.assert_allclose(numpy(a), numpy(e), atol=1e-5, rtol=1e-5)


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


def test_cell_steps_equal_the_rnn_and_state_carries_over():
    x = random_sequence((2, 5, 3))
    cell = LSTMCell(4)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x)
    randomize(rnn)
    whole, h, c = rnn(x)
    first, *state = rnn(x[:, :2])
    second, *state = rnn(x[:, 2:], initial_state=state)
    joined = np.concatenate([numpy(first), numpy(second)], axis=1)
    np.testing.assert_allclose(joined, numpy(whole), atol=1e-6)
    np.testing.assert_allclose(numpy(state[0]), numpy(h), atol=1e-6)
    np.testing.assert_allclose(numpy(state[1]), numpy(c), atol=1e-6)
    states = cell.get_initial_state(2)
    for t in range(5):
        y, states = cell(x[:, t], states)
        np.testing.assert_allclose(numpy(y), numpy(whole[:, t]), atol=1e-6)


def test_stateful_rnn_continues_the_sequence():
    x = random_sequence((2, 6, 3))
    stateful = keras.layers.RNN(
        LSTMCell(4), return_sequences=True, stateful=True
    )
    plain = keras.layers.RNN(LSTMCell(4), return_sequences=True)
    stateful(x[:, :3])
    plain(x)
    randomize(plain)
    stateful.set_weights(plain.get_weights())
    stateful.reset_state()
    first = numpy(stateful(x[:, :3]))
    second = numpy(stateful(x[:, 3:]))
    np.testing.assert_allclose(
        np.concatenate([first, second], axis=1), numpy(plain(x)), atol=1e-6
    )
    stateful.reset_state()
    np.testing.assert_allclose(numpy(stateful(x[:, :3])), first, atol=1e-6)


def test_fit_with_jit_compile():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.RNN(LSTMCell(4, forget_bias=1.0)),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.02), loss="mse", jit_compile=JIT
    )
    losses = model.fit(x, y, epochs=5, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses


def test_config_round_trip_keeps_every_argument():
    cell = LSTMCell(
        5,
        forget_bias=1.0,
        activation=None,
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        kernel_initializer=keras.initializers.RandomUniform(-0.1, 0.1),
        recurrent_initializer=0.05,
        recurrent_regularizer="l2",
    )
    clone = LSTMCell.from_config(cell.get_config())
    config = clone.get_config()
    assert config["units"] == 5 and config["forget_bias"] == 1.0
    assert config["activation"] == "linear"
    assert config["recurrent_activation"] == "hard_sigmoid"
    assert config["use_bias"] is False
    assert config["kernel_initializer"]["class_name"] == "RandomUniform"
    assert config["recurrent_initializer"]["class_name"] == "Constant"
    assert config["recurrent_regularizer"] is not None
    clone.build((None, 2))
    assert [v.name for v in clone.weights] == ["kernel", "recurrent_kernel"]
    np.testing.assert_allclose(numpy(clone.recurrent_kernel), 0.05)


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


@pytest.mark.parametrize("shape", [(2, 3), (2, 5, 3, 1)])
def test_wrong_sequence_rank(shape):
    with pytest.raises(ValueError, match=r"inputs.*\(batch, input_dim\)"):
        keras.layers.RNN(LSTMCell(4))(np.zeros(shape, "float32"))


def test_wrong_step_input():
    cell = LSTMCell(4)
    states = cell.get_initial_state(2)
    with pytest.raises(ValueError, match="inputs"):
        cell(np.zeros((2, 5, 3), "float32"), states)
    cell(np.zeros((2, 3), "float32"), states)
    with pytest.raises(ValueError, match="axis -1"):
        cell(np.zeros((2, 5), "float32"), states)


@pytest.mark.parametrize(
    "state_shapes", [[(2, 4)], [(2, 4), (2, 3)], [(2, 4), (2, 4), (2, 4)]]
)
def test_mismatched_states(state_shapes):
    x = np.zeros((2, 5, 3), "float32")
    states = [np.zeros(s, "float32") for s in state_shapes]
    with pytest.raises(ValueError, match=r"states.*\[h, c\]"):
        keras.layers.RNN(LSTMCell(4))(x, initial_state=states)
    with pytest.raises(ValueError, match="states"):
        LSTMCell(4)(x[:, 0], states)
