"""What the recurrent cell tests share: a sequence wrapper and the checks
every cell must pass inside `keras.layers.RNN`.

A cell's test module describes the cell with a `CellSpec` and gets the
checks below as one parametrised test, as `harness.layer_tests` gives the
layer checks: `test_cell = cell_tests(SPEC)`. Its own module keeps what is
particular to the cell: the NumPy reference, the `LayerCase`s, parity with
other cells and the argument checks.

- `steps`: stepping the cell by hand gives the RNN's outputs, and a
  sequence run in two calls (the first call's final states handed to the
  second) gives the outputs and final states of one call.
- `stateful`: a stateful RNN continues the sequence across calls and
  `reset_state()` starts it over.
- `fit`: `model.fit` lowers the loss, XLA-compiled on TensorFlow and JAX.
- `config`: `from_config(get_config())` keeps every argument.
- `wrong_sequence_rank`, `wrong_step`, `wrong_states`: wrong inputs and
  states raise errors that name `inputs` or `states`.
"""

import dataclasses
from collections.abc import Callable

import keras
import numpy as np
import pytest

# JAX and TensorFlow compile the step with XLA; torch.compile takes 10-60 s
# for these models on a 2-core CPU and is not what torch users run by
# default.
JIT = keras.backend.backend() != "torch"


def random_sequence(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def randomize(layer, seed=1, scale=0.5):
    """Every weight of `layer` drawn uniformly from ±scale."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [rng.uniform(-scale, scale, w.shape) for w in layer.get_weights()]
    )


def numpy(x):
    return keras.ops.convert_to_numpy(x)


def assert_same_function(layer, other, x, convert=None):
    """`layer` and `other` compute the same on `x` with the same weights.

    `layer`'s weights are drawn at random; `other` gets them as they are
    or through `convert(weights) -> other's weights`. Every output (the
    sequence, the states where returned) must agree.
    """
    layer(x)
    other(x)
    randomize(layer)
    weights = layer.get_weights()
    other.set_weights(weights if convert is None else convert(weights))
    actual = keras.tree.flatten(other(x))
    expected = keras.tree.flatten(layer(x))
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(numpy(a), numpy(e), atol=1e-5, rtol=1e-5)


# ------------------------------------------------------ the sequence wrapper


class _NestedSequence(keras.layers.Layer):
    """A layer holding `RNN(cell, return_sequences=True)` named `rnn`."""

    cell_cls = None

    def __init__(self, cell_kwargs, **kwargs):
        super().__init__(**kwargs)
        self.cell_kwargs = dict(cell_kwargs)
        cell = self.cell_cls(
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


class _RNNSequence(keras.layers.RNN):
    """`keras.layers.RNN` creating its own cell, as `keras.layers.LSTM`."""

    cell_cls = None

    def __init__(self, cell_kwargs, return_sequences=True, **kwargs):
        self.cell_kwargs = dict(cell_kwargs)
        cell = self.cell_cls(
            **cell_kwargs, dtype=kwargs.get("dtype"), name="cell"
        )
        super().__init__(cell, return_sequences=return_sequences, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        return {**config, "cell_kwargs": self.cell_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _CellShapedRNNSequence(_RNNSequence):
    """`_RNNSequence` taking its output shape from the cell.

    `keras.layers.RNN` infers symbolic shapes from an integer
    `state_size`, which a conv cell (like Keras' own) does not have;
    `keras.layers.ConvLSTM2D` asks the cell instead, and so does this.
    """

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, steps = sequences_shape[:2]
        step_shape = (batch,) + tuple(sequences_shape[2:])
        output_shape = self.cell.compute_output_shape(step_shape)[0]
        if self.return_sequences:
            return (batch, steps) + tuple(output_shape[1:])
        return tuple(output_shape)


def sequence_layer(
    cell_cls, class_name, *, nested=True, output_shape_from_cell=False
):
    """`RNN(cell_cls(**cell_kwargs), return_sequences=True)` as a class.

    The harness builds a layer as `layer_cls(**init_kwargs)` and calls it
    on whole inputs; a cell computes one step, so the harness tests it
    inside Keras' own time loop, the way models use it. The class is
    created as `class_name(cell_kwargs, **kwargs)`, registered under
    `hadamard_zoo_tests>class_name` so that `.keras` archives reload it.
    It creates the cell itself, with the dtype policy the harness's
    mixed-precision checks pass to the layer.

    The fixed names `rnn` and `cell` keep the weight names in the golden
    files stable. `nested=True` gives a layer holding the RNN, weights
    `rnn/cell/kernel`, ...; `nested=False` a `keras.layers.RNN` subclass,
    weights `cell/kernel`, ...: each cell's golden files fix which.
    `output_shape_from_cell` (with `nested=False`) is for cells without
    an integer `state_size` (see `_CellShapedRNNSequence`).
    """
    if nested:
        base = _NestedSequence
    elif output_shape_from_cell:
        base = _CellShapedRNNSequence
    else:
        base = _RNNSequence
    doc = f"`RNN({cell_cls.__name__}(**cell_kwargs))` as one layer."
    cls = type(class_name, (base,), {"cell_cls": cell_cls, "__doc__": doc})
    return keras.saving.register_keras_serializable(
        package="hadamard_zoo_tests"
    )(cls)


# ------------------------------------------------------------ the checks


@dataclasses.dataclass
class CellSpec:
    """What the shared checks need to know about one cell.

    Attributes:
        cell_cls: the cell class.
        cell_kwargs: arguments of the cell that `steps`, `stateful`, `fit`
            and the error checks run.
        rank_error: pattern of the error raised for inputs of a wrong
            rank or with undefined dimensions.
        states_error: pattern of the error raised for wrong states.
        step_shape: one step's input shape without the batch axis.
        wrong_ranks: sequence shapes the RNN must reject (`rank_error`).
        wrong_steps: step shapes `build` must reject (`rank_error`); with
            any, the `wrong_step` check also feeds a built cell a step of
            another width.
        wrong_states: lists of state shapes that the RNN's `initial_state`
            and a call of the cell must reject (`states_error`).
        config_kwargs: arguments (not the defaults) of the `config`
            check's cell; `None` skips the check.
        config_expected: `{key: value}` the round-tripped config must
            hold; a serialised object (initializer, regularizer) is
            compared by its `class_name`.
        check_clone: `check_clone(clone)` checks more of the round-tripped
            cell (its weights, attributes).
        bare_state: a single-state cell also takes the bare state tensor
            instead of a one-element list.
        fit_epochs: epochs of the `fit` check.
        skip: names of checks that do not apply.
    """

    cell_cls: type
    cell_kwargs: dict
    rank_error: str
    states_error: str
    step_shape: tuple = (3,)
    wrong_ranks: tuple = ()
    wrong_steps: tuple = ()
    wrong_states: tuple = ()
    config_kwargs: dict | None = None
    config_expected: dict = dataclasses.field(default_factory=dict)
    check_clone: Callable | None = None
    bare_state: bool = False
    fit_epochs: int = 3
    skip: tuple = ()

    def make_cell(self):
        return self.cell_cls(**self.cell_kwargs)

    def sequence(self, steps, seed=0):
        return random_sequence((2, steps) + tuple(self.step_shape), seed)


def check_steps(spec, _):
    x = spec.sequence(5)
    cell = spec.make_cell()
    rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    rnn(x)
    randomize(rnn)
    whole, *final = rnn(x)
    first, *state = rnn(x[:, :2])
    second, *state = rnn(x[:, 2:], initial_state=state)
    joined = np.concatenate([numpy(first), numpy(second)], axis=1)
    np.testing.assert_allclose(joined, numpy(whole), atol=1e-6)
    assert len(state) == len(final)
    for carried, expected in zip(state, final, strict=True):
        np.testing.assert_allclose(numpy(carried), numpy(expected), atol=1e-6)
    states = cell.get_initial_state(2)
    for t in range(5):
        y, states = cell(x[:, t], states)
        np.testing.assert_allclose(numpy(y), numpy(whole[:, t]), atol=1e-6)
    if spec.bare_state:
        (h0,) = cell.get_initial_state(2)
        y, _ = cell(x[:, 0], h0)
        np.testing.assert_allclose(numpy(y), numpy(whole[:, 0]), atol=1e-6)


def check_stateful(spec, _):
    x = spec.sequence(6)
    stateful = keras.layers.RNN(
        spec.make_cell(), return_sequences=True, stateful=True
    )
    plain = keras.layers.RNN(spec.make_cell(), return_sequences=True)
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


def check_fit(spec, _):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 5) + tuple(spec.step_shape)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    model = keras.Sequential(
        [
            keras.Input(x.shape[1:]),
            keras.layers.RNN(spec.make_cell()),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.02), loss="mse", jit_compile=JIT
    )
    history = model.fit(x, y, epochs=spec.fit_epochs, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < losses[0], losses


def _summary(value):
    if isinstance(value, dict) and "class_name" in value:
        return value["class_name"]
    return value


def check_config(spec, _):
    config = spec.cell_cls(**spec.config_kwargs).get_config()
    clone = spec.cell_cls.from_config(config)
    assert clone.get_config() == config
    actual = {key: _summary(config[key]) for key in spec.config_expected}
    assert actual == spec.config_expected
    if spec.check_clone is not None:
        spec.check_clone(clone)


def check_wrong_sequence_rank(spec, shape):
    with pytest.raises(ValueError, match=spec.rank_error):
        keras.layers.RNN(spec.make_cell())(np.zeros(shape, "float32"))


def check_wrong_step(spec, _):
    for shape in spec.wrong_steps:
        with pytest.raises(ValueError, match=spec.rank_error):
            spec.make_cell().build(shape)
    cell = spec.make_cell()
    step = np.zeros((2,) + tuple(spec.step_shape), "float32")
    cell.build(step.shape)
    states = cell.get_initial_state(2)
    cell(step, states)
    wider = np.zeros(step.shape[:-1] + (step.shape[-1] + 2,), "float32")
    with pytest.raises(ValueError, match="axis -1"):
        cell(wider, states)


def check_wrong_states(spec, state_shapes):
    x = spec.sequence(5)
    states = [np.zeros(s, "float32") for s in state_shapes]
    with pytest.raises(ValueError, match=spec.states_error):
        keras.layers.RNN(spec.make_cell())(x, initial_state=states)
    with pytest.raises(ValueError, match=spec.states_error):
        spec.make_cell()(x[:, 0], states)


CHECKS = {
    "steps": check_steps,
    "stateful": check_stateful,
    "fit": check_fit,
    "config": check_config,
    "wrong_sequence_rank": check_wrong_sequence_rank,
    "wrong_step": check_wrong_step,
    "wrong_states": check_wrong_states,
}


def _shape_id(shape):
    return "x".join(str(d) for d in shape)


def _params(spec):
    """`pytest.param(check, argument)`s, one per wrong shape."""
    params = [(name, None, name) for name in ("steps", "stateful", "fit")]
    if spec.config_kwargs is not None:
        params.append(("config", None, "config"))
    params += [
        ("wrong_sequence_rank", s, f"wrong_sequence_rank-{_shape_id(s)}")
        for s in spec.wrong_ranks
    ]
    if spec.wrong_steps:
        params.append(("wrong_step", None, "wrong_step"))
    params += [
        ("wrong_states", s, "wrong_states-" + "+".join(map(_shape_id, s)))
        for s in spec.wrong_states
    ]
    return [
        pytest.param(name, arg, id=test_id)
        for name, arg, test_id in params
        if name not in spec.skip
    ]


def cell_tests(spec):
    """A pytest test running every shared check that applies to `spec`.

    Use at module level: `test_cell = cell_tests(SPEC)`.
    """

    @pytest.mark.parametrize("check, argument", _params(spec))
    def test_cell(check, argument):
        CHECKS[check](spec, argument)

    return test_cell
