import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.recurrent.gru_cell import GRUCell
from hadamard_zoo.layers.modulation.recurrent.li_gru_cell import LiGRUCell

# JAX and TensorFlow compile the step with XLA; torch.compile takes 10-60 s
# for this model on a 2-core CPU and is not what torch users run by default.
JIT = keras.backend.backend() != "torch"


@keras.saving.register_keras_serializable(package="hadamard_zoo_tests")
class LiGRUSequence(keras.layers.Layer):
    """`RNN(LiGRUCell(**cell_kwargs), return_sequences=True)` as one layer.

    The harness builds a layer from keyword arguments and calls it on
    whole inputs; a cell computes one step, so the harness tests it inside
    Keras' own time loop, the way models use it. The fixed names keep the
    weight names in the golden file stable (`rnn/cell/kernel`, ...).
    """

    def __init__(self, cell_kwargs, **kwargs):
        super().__init__(**kwargs)
        self.cell_kwargs = dict(cell_kwargs)
        cell = LiGRUCell(
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


def random_sequence(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.uniform(-0.5, 0.5, w.shape) for w in layer.get_weights()]
    )


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_equals_a_relu_gru_whose_reset_gate_is_open():
    # With r = σ(100) = 1 in float32, the GRU's candidate sees all of
    # h_{t-1}: it is the Li-GRU's, so the two cells must agree.
    x = random_sequence((2, 5, 3))
    li_gru = keras.layers.RNN(LiGRUCell(4), return_sequences=True)
    gru = keras.layers.RNN(GRUCell(4, activation="relu"), return_sequences=True)
    li_gru(x)
    gru(x)
    randomize(li_gru)
    kernel, recurrent, bias = li_gru.get_weights()

    def open_reset(w, value=0.0):
        reset = np.full(w.shape[:-1] + (4,), value, w.dtype)
        return np.concatenate([w[..., :4], reset, w[..., 4:]], axis=-1)

    gru.set_weights(
        [open_reset(kernel), open_reset(recurrent), open_reset(bias, 100.0)]
    )
    np.testing.assert_allclose(
        numpy(li_gru(x)), numpy(gru(x)), atol=1e-5, rtol=1e-5
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


def test_cell_steps_equal_the_rnn_and_state_carries_over():
    x = random_sequence((2, 5, 3))
    cell = LiGRUCell(4, normalize_inputs=True)
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
        LiGRUCell(4), return_sequences=True, stateful=True
    )
    plain = keras.layers.RNN(LiGRUCell(4), return_sequences=True)
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
            keras.layers.RNN(LiGRUCell(4, normalize_inputs=True)),
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
    cell = LiGRUCell(5, normalize_inputs=True, activation="tanh")
    cell.build((None, 2))
    shapes = {v.name: tuple(v.shape) for v in cell.weights}
    assert shapes == {
        "kernel": (2, 10),
        "recurrent_kernel": (5, 10),
        "bias": (10,),
        "input_norm_gamma": (10,),
    }
    np.testing.assert_array_equal(numpy(cell.input_norm_gamma), 1.0)
    config = LiGRUCell.from_config(cell.get_config()).get_config()
    assert config["units"] == 5 and config["normalize_inputs"] is True
    assert config["activation"] == "tanh"
    assert LiGRUCell(3).get_config()["activation"] == "relu"
    plain = LiGRUCell(3)
    plain.build((None, 2))
    assert len(plain.weights) == 3


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


@pytest.mark.parametrize("shape", [(2, 3), (2, 5, 3, 1)])
def test_wrong_sequence_rank(shape):
    with pytest.raises(ValueError, match=r"inputs.*\(batch, input_dim\)"):
        keras.layers.RNN(LiGRUCell(4))(np.zeros(shape, "float32"))


@pytest.mark.parametrize("state_shapes", [[(2, 3)], [(2, 4), (2, 4)]])
def test_mismatched_states(state_shapes):
    x = np.zeros((2, 5, 3), "float32")
    states = [np.zeros(s, "float32") for s in state_shapes]
    with pytest.raises(ValueError, match=r"states.*\[h\]"):
        keras.layers.RNN(LiGRUCell(4))(x, initial_state=states)
