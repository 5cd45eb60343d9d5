import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.gru_cell import GRUCell
from hadamard_zoo.layers.modulation.recurrent.mgu_cell import MGUCell

# JAX and TensorFlow compile the step with XLA; torch.compile takes 10-60 s
# for this model on a 2-core CPU and is not what torch users run by default.
JIT = keras.backend.backend() != "torch"


@keras.saving.register_keras_serializable(package="hadamard_zoo_tests")
class MGUSequence(keras.layers.Layer):
    """`RNN(MGUCell(**cell_kwargs), return_sequences=True)` as one layer.

    The harness builds a layer from keyword arguments and calls it on
    whole inputs; a cell computes one step, so the harness tests it inside
    Keras' own time loop, the way models use it. The fixed names keep the
    weight names in the golden file stable (`rnn/cell/kernel`, ...).
    """

    def __init__(self, cell_kwargs, **kwargs):
        super().__init__(**kwargs)
        self.cell_kwargs = dict(cell_kwargs)
        cell = MGUCell(**self.cell_kwargs, dtype=self.dtype_policy, name="cell")
        self.rnn = keras.layers.RNN(
            cell, return_sequences=True, dtype=self.dtype_policy, name="rnn"
        )

    def build(self, input_shape):
        self.rnn.build(input_shape)

    def call(self, inputs):
        return self.rnn(inputs)

    def get_config(self):
        return {**super().get_config(), "cell_kwargs": self.cell_kwargs}


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


def random_sequence(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()]
    )


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_equals_a_gru_whose_gates_are_tied():
    # A GRU with reset gate r = f and update gate z = σ(-a_f) = 1 - f is
    # the MGU: z h + (1 - z) h̃ = (1 - f) h + f h̃.
    x = random_sequence((2, 5, 3))
    mgu = keras.layers.RNN(MGUCell(4), return_sequences=True)
    gru = keras.layers.RNN(GRUCell(4), return_sequences=True)
    mgu(x)
    gru(x)
    randomize(mgu)
    kernel, recurrent, bias = mgu.get_weights()

    def tie(w):
        return np.concatenate([-w[..., :4], w[..., :4], w[..., 4:]], axis=-1)

    gru.set_weights([tie(kernel), tie(recurrent), tie(bias)])
    np.testing.assert_allclose(
        numpy(mgu(x)), numpy(gru(x)), atol=1e-5, rtol=1e-5
    )


def test_cell_steps_equal_the_rnn_and_state_carries_over():
    x = random_sequence((2, 5, 3))
    cell = MGUCell(4)
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x)
    randomize(rnn)
    whole, h = rnn(x)
    first, state = rnn(x[:, :2])
    second, state = rnn(x[:, 2:], initial_state=state)
    joined = np.concatenate([numpy(first), numpy(second)], axis=1)
    np.testing.assert_allclose(joined, numpy(whole), atol=1e-6)
    np.testing.assert_allclose(numpy(state), numpy(h), atol=1e-6)
    states = cell.get_initial_state(2)
    for t in range(5):
        y, states = cell(x[:, t], states)
        np.testing.assert_allclose(numpy(y), numpy(whole[:, t]), atol=1e-6)


def test_stateful_rnn_continues_the_sequence():
    x = random_sequence((2, 6, 3))
    stateful = keras.layers.RNN(
        MGUCell(4), return_sequences=True, stateful=True
    )
    plain = keras.layers.RNN(MGUCell(4), return_sequences=True)
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


def test_fit_with_jit_compile():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.RNN(MGUCell(4)),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.02), loss="mse", jit_compile=JIT
    )
    losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses


def test_weights_and_config():
    cell = MGUCell(5, activation="relu", recurrent_initializer=0.05)
    cell.build((None, 2))
    shapes = {v.name: tuple(v.shape) for v in cell.weights}
    assert shapes == {
        "kernel": (2, 10),
        "recurrent_kernel": (5, 10),
        "bias": (10,),
    }
    config = MGUCell.from_config(cell.get_config()).get_config()
    assert config["units"] == 5 and config["activation"] == "relu"
    assert config["recurrent_activation"] == "sigmoid"
    assert config["recurrent_initializer"]["class_name"] == "Constant"


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


@pytest.mark.parametrize("shape", [(2, 3), (2, 5, 3, 1)])
def test_wrong_sequence_rank(shape):
    with pytest.raises(ValueError, match=r"inputs.*\(batch, input_dim\)"):
        keras.layers.RNN(MGUCell(4))(np.zeros(shape, "float32"))


@pytest.mark.parametrize("state_shapes", [[(2, 3)], [(2, 4), (2, 4)]])
def test_mismatched_states(state_shapes):
    x = np.zeros((2, 5, 3), "float32")
    states = [np.zeros(s, "float32") for s in state_shapes]
    with pytest.raises(ValueError, match=r"states.*\[h\]"):
        keras.layers.RNN(MGUCell(4))(x, initial_state=states)
