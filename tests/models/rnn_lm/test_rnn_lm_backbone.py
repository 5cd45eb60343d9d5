"""The recurrent LM backbone: NumPy parity, config, TBPTT, padding, dtypes."""

import inspect
import json

import keras
import numpy as np
import pytest
from harness import assert_outputs_close
from rnn_lm_references import CELLS
from rnn_lm_references import CONFIG
from rnn_lm_references import backbone_reference
from rnn_lm_references import golden_backbone
from rnn_lm_references import load_golden
from rnn_lm_references import logits_of
from rnn_lm_references import make_backbone
from rnn_lm_references import named_weights
from rnn_lm_references import to_numpy

from hadamard_zoo.models.rnn_lm import RNNLMBackbone
from hadamard_zoo.models.rnn_lm import StatefulHGRN

# The two kinds of recurrent layer: StatefulRNN around a cell (the LSTM,
# with two states) and StatefulHGRN. The golden test covers every cell.
KINDS = ("lstm", "hgrn")


def _inputs(token_ids, lengths=None):
    token_ids = np.asarray(token_ids, "int32")
    if lengths is None:
        lengths = [token_ids.shape[1]] * token_ids.shape[0]
    mask = np.arange(token_ids.shape[1]) < np.asarray(lengths)[:, None]
    return {"token_ids": token_ids, "padding_mask": mask.astype("int32")}


def _random_ids(seed, shape):
    rng = np.random.default_rng(seed)
    return rng.integers(0, CONFIG["vocabulary_size"], shape)


@pytest.mark.parametrize("cell", CELLS)
def test_golden(cell):
    """Logits on the golden weights == the NumPy forward, every backend."""
    inputs, weights, logits = load_golden(cell)
    reference = backbone_reference(
        inputs["token_ids"],
        inputs["padding_mask"],
        weights,
        cell,
        CONFIG["num_layers"],
    )
    assert_outputs_close(
        [reference],
        [logits],
        1e-6,
        1e-6,
        "the NumPy reference no longer reproduces the golden file",
    )
    backbone, inputs, _, logits = golden_backbone(cell)
    backend = keras.backend.backend()
    assert_outputs_close(
        [to_numpy(backbone(inputs))],
        [logits],
        1e-5,
        1e-5,
        f"{backend} logits differ from the golden logits",
    )
    # The logits are not trivially flat: the recurrences did something.
    assert np.ptp(logits) > 0.5


def test_hgrn_lower_bounds_grow_with_depth():
    backbone = make_backbone("hgrn", num_layers=3)
    bounds = [layer.lower_bound for layer in backbone.recurrent_layers]
    assert bounds == [0.0, 1 / 3, 2 / 3]
    assert all(isinstance(x, StatefulHGRN) for x in backbone.recurrent_layers)


@pytest.mark.parametrize("cell", KINDS)
def test_config_and_keras_round_trip(cell, tmp_path):
    """get_config names every argument; from_config and .keras rebuild it."""
    backbone, inputs, _, _ = golden_backbone(cell)
    config = backbone.get_config()
    params = inspect.signature(RNNLMBackbone.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    assert config["cell"] == cell
    clone = RNNLMBackbone.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.set_weights(backbone.get_weights())
    expected = to_numpy(backbone(inputs))
    np.testing.assert_array_equal(to_numpy(clone(inputs)), expected)

    path = tmp_path / f"{cell}.keras"
    backbone.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, RNNLMBackbone)
    assert loaded.get_config() == config
    np.testing.assert_array_equal(to_numpy(loaded(inputs)), expected)


def _stateful_pair(cell, batch_size=2):
    """A stateful backbone with golden weights and its stateless twin."""
    stateful, _, _, _ = golden_backbone(
        cell, stateful=True, batch_size=batch_size
    )
    stateless = make_backbone(cell)
    stateless.set_weights(stateful.stateless_weights())
    return stateful, stateless


@pytest.mark.parametrize("cell", KINDS)
def test_stateful_windows_equal_the_whole_sequence(cell):
    """Truncated BPTT reads consecutive windows as one sequence."""
    stateful, stateless = _stateful_pair(cell)
    config = stateful.get_config()
    assert (config["stateful"], config["batch_size"]) == (True, 2)
    assert RNNLMBackbone.from_config(config).get_config() == config
    whole = _inputs(_random_ids(0, (2, 7)))
    first = _inputs(whole["token_ids"][:, :4])
    second = _inputs(whole["token_ids"][:, 4:])
    expected = to_numpy(stateless(whole))
    parts = np.concatenate(
        [to_numpy(stateful(first)), to_numpy(stateful(second))], axis=1
    )
    np.testing.assert_allclose(parts, expected, atol=1e-5, rtol=1e-5)

    # Without a reset the second window starts from the carried state, so
    # it differs from a fresh start (else the check above proves nothing).
    fresh = to_numpy(stateless(second))
    carried = to_numpy(stateful(second))
    assert not np.allclose(carried, fresh, atol=1e-4)
    stateful.reset_states()
    np.testing.assert_allclose(
        to_numpy(stateful(second)), fresh, atol=1e-5, rtol=1e-5
    )
    # stateless_weights(): the stateless twin's names, order and values.
    names = list(named_weights(stateful))
    assert names == list(named_weights(stateless))
    for a, b in zip(
        stateful.stateless_weights(), stateless.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", KINDS)
def test_states_are_non_trainable_weights(cell):
    stateful, _ = _stateful_pair(cell, batch_size=3)
    states = [v for v in stateful.weights if not v.trainable]
    count = 4 if cell == "lstm" else 2  # (h, c) or h, for each layer
    assert [tuple(v.shape) for v in states] == [(3, 6)] * count
    assert all(v.dtype == "float32" for v in states)
    stateful(_inputs(_random_ids(1, (3, 4))))
    assert np.any(to_numpy(states[1]) != 0)
    stateful.reset_states()
    assert all(not np.any(to_numpy(v)) for v in states)


@pytest.mark.parametrize("cell", KINDS)
def test_fit_carries_the_states(cell):
    """fit() updates the carried states as a direct call does (JAX too)."""
    stateful, _ = _stateful_pair(cell)
    states = [v for v in stateful.weights if not v.trainable]
    assert len(states) == (4 if cell == "lstm" else 2)
    stateful.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    window = _inputs(_random_ids(4, (2, 4)))
    targets = _random_ids(5, (2, 4))
    stateful.fit(window, targets, batch_size=2, shuffle=False, verbose=0)
    fitted = [to_numpy(v) for v in states]
    assert all(np.any(f) for f in fitted)
    stateful.reset_states()
    stateful(window)
    for variable, value in zip(states, fitted, strict=True):
        np.testing.assert_allclose(to_numpy(variable), value, atol=1e-5)


@pytest.mark.parametrize("cell", KINDS)
def test_padding_does_not_reach_valid_positions(cell):
    """Right padding: the valid logits equal those of the unpadded text."""
    backbone, _, _, _ = golden_backbone(cell)
    token_ids = _random_ids(2, (2, 6))
    lengths = [6, 3]
    padded = logits_of(backbone, _inputs(token_ids, lengths))
    short = to_numpy(backbone(_inputs(token_ids[1:, :3])))
    np.testing.assert_allclose(padded[1, :3], short[0], atol=1e-5, rtol=1e-5)
    # Other ids at the padded positions change nothing that is valid ...
    other = token_ids.copy()
    other[1, 3:] = (other[1, 3:] + 5) % CONFIG["vocabulary_size"]
    changed = logits_of(backbone, _inputs(other, lengths))
    np.testing.assert_allclose(changed[1, :3], padded[1, :3], atol=1e-6)
    np.testing.assert_allclose(changed[0], padded[0], atol=1e-6)
    # ... because padded tokens read a zero vector: the ids there do not
    # matter at all, and a padded position differs from a real token.
    np.testing.assert_allclose(changed[1, 3:], padded[1, 3:], atol=1e-6)
    unmasked = logits_of(backbone, _inputs(token_ids))
    assert not np.allclose(unmasked[1, 3:], padded[1, 3:], atol=1e-4)


@pytest.mark.parametrize("cell", KINDS)
def test_mixed_bfloat16(cell):
    backbone, inputs, _, logits = golden_backbone(cell, dtype="mixed_bfloat16")
    for variable in backbone.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    outputs = backbone(inputs)
    assert keras.backend.standardize_dtype(outputs.dtype) == "bfloat16"
    outputs = to_numpy(outputs).astype("float32")
    assert np.all(np.isfinite(outputs))
    # bfloat16 keeps ~3 significant digits through two layers.
    tolerance = 0.05 * np.max(np.abs(logits))
    np.testing.assert_allclose(outputs, logits, atol=tolerance, rtol=0)


def _next_token_data(num=8, time=6, period=4):
    """Counting sequences mod 4: w_{t+1} = (w_t + 1) mod 4.

    Only 4 of the 12 words occur, so even the first steps gain (the
    output bias), and the rest needs the current word.
    """
    start = np.arange(num)[:, None] % period
    ids = (start + np.arange(time + 1)) % period
    return _inputs(ids[:, :-1]), ids[:, 1:]


@pytest.mark.parametrize("cell", KINDS)
def test_sgd_steps_lower_the_next_token_loss(cell):
    keras.utils.set_random_seed(0)
    backbone = make_backbone(cell)
    backbone.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = _next_token_data()
    before = backbone.evaluate(x, y, batch_size=8, verbose=0)
    initial = [to_numpy(v) for v in backbone.trainable_weights]
    backbone.fit(x, y, batch_size=4, epochs=2, verbose=0)
    after = backbone.evaluate(x, y, batch_size=8, verbose=0)
    assert after < 0.95 * before, (before, after)
    # Gradients reach the embedding through both recurrent layers.
    moved = [
        not np.allclose(to_numpy(v), w)
        for v, w in zip(backbone.trainable_weights, initial, strict=True)
    ]
    assert all(moved), [
        v.path
        for v, m in zip(backbone.trainable_weights, moved, strict=True)
        if not m
    ]


def test_defaults_and_initial_scale():
    defaults = {
        name: p.default
        for name, p in inspect.signature(RNNLMBackbone).parameters.items()
    }
    assert (defaults["hidden_dim"], defaults["num_layers"]) == (200, 2)
    assert (defaults["cell"], defaults["dropout"]) == ("lstm", 0.0)
    assert defaults["init_scale"] == 0.1
    assert (defaults["stateful"], defaults["batch_size"]) == (False, None)
    assert defaults["recurrence_mode"] == "recurrent"
    backbone = RNNLMBackbone(vocabulary_size=20, hidden_dim=16)
    assert backbone.get_config()["cell"] == "lstm"
    assert tuple(backbone.output.shape) == (None, None, 20)
    # Every weight starts uniform in ±init_scale (Zaremba et al.).
    for variable in backbone.weights:
        value = to_numpy(variable)
        assert np.max(np.abs(value)) <= 0.1 + 1e-7, variable.path
        assert np.std(value) > 0.02, variable.path
    # Zaremba's LSTM has no forget-gate constant.
    assert backbone.recurrent_layers[0].cell.forget_bias == 0.0


def test_recurrence_modes_agree():
    recurrent, inputs, _, logits = golden_backbone("hgrn")
    chunkwise = make_backbone("hgrn", recurrence_mode="chunkwise")
    chunkwise.set_weights(recurrent.get_weights())
    assert [layer.mode for layer in chunkwise.recurrent_layers] == [
        "chunkwise",
        "chunkwise",
    ]
    np.testing.assert_allclose(
        to_numpy(chunkwise(inputs)), logits, atol=1e-5, rtol=1e-5
    )


def test_dropout_is_active_in_training_only():
    backbone = make_backbone("hgrn", num_layers=1, dropout=0.5)
    inputs = _inputs(_random_ids(3, (2, 5)))
    first = to_numpy(backbone(inputs))
    np.testing.assert_array_equal(to_numpy(backbone(inputs)), first)
    trained = to_numpy(backbone(inputs, training=True))
    assert not np.allclose(trained, first)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(cell="rnn"), "cell"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(init_scale=0.0), "init_scale"),
        (dict(init_scale=-0.1), "init_scale"),
        (dict(stateful=True), "batch_size"),
        (dict(batch_size=4), "batch_size"),
        (dict(stateful=True, batch_size=0), "batch_size"),
        (dict(stateful=1, batch_size=4), "stateful"),
        (dict(vocabulary_size=1), "vocabulary_size"),
        (dict(vocabulary_size=12.0), "vocabulary_size"),
        (dict(hidden_dim=0), "hidden_dim"),
        (dict(num_layers=0), "num_layers"),
        (dict(recurrence_mode="parallel"), "recurrence_mode"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNNLMBackbone(**{**CONFIG, **kwargs})


@pytest.mark.parametrize("shape", [(5,), (2, 5, 3)])
def test_wrong_input_rank(shape):
    backbone = make_backbone("lstm")
    ids = np.ones(shape, "int32")
    with pytest.raises(ValueError, match="token_ids") as error:
        backbone({"token_ids": ids, "padding_mask": np.ones((2, 5), "int32")})
    assert "(None, None)" in str(error.value)
