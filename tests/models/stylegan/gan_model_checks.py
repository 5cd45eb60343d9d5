"""Checks shared by the tests of the GAN backbones (StyleGAN, DCGAN, SPADE).

Each takes a built backbone and inputs for it, and asserts what every
hadamard_zoo backbone must do (DESIGN.md §4): complete configs, identical
outputs after `from_config`, `.keras` and keras-hub preset round trips, a
training step that lowers a loss, and `mixed_bfloat16`.
"""

import inspect
import json

import keras
import keras_hub
import numpy as np
from keras import ops


def to_numpy(outputs):
    """Every tensor of a (nested) output as a float64 NumPy array."""
    return [
        np.asarray(ops.convert_to_numpy(t)).astype("float64")
        for t in keras.tree.flatten(outputs)
    ]


def assert_same_outputs(actual, expected, atol=0.0):
    actual, expected = to_numpy(actual), to_numpy(expected)
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape, (a.shape, e.shape)
        np.testing.assert_allclose(a, e, atol=atol, rtol=0)


def check_round_trips(model, inputs, tmp_path):
    """Config (every argument, JSON), `.keras` and preset round trips."""
    cls = type(model)
    expected = model(inputs)
    config = model.get_config()
    params = inspect.signature(cls.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    clone = cls.from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    clone.set_weights(model.get_weights())
    assert_same_outputs(clone(inputs), expected)

    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is cls
    assert loaded.get_config() == config
    assert_same_outputs(loaded(inputs), expected)

    preset = tmp_path / "preset"
    model.save_to_preset(str(preset))
    restored = keras_hub.models.Backbone.from_preset(str(preset))
    assert type(restored) is cls
    assert_same_outputs(restored(inputs), expected)
    return restored


def check_training_step(model, inputs, select=None, steps=3):
    """A few Adam steps on `mean(outputs)` lower it and move the weights.

    `select(outputs)` picks the tensors whose mean is the loss (default:
    all of them). Losses are those `train_on_batch` returns, computed in
    training mode before each update, so batch-normalised models are
    compared with themselves. Returns the wrapper model.
    """
    outputs = model.output
    chosen = keras.tree.flatten(select(outputs) if select else outputs)
    flat = [
        keras.layers.Flatten(name=f"check_flatten_{i}")(t)
        for i, t in enumerate(chosen)
    ]
    score = flat[0]
    if len(flat) > 1:
        score = keras.layers.Concatenate(name="check_concatenate")(flat)
    wrapper = keras.Model(model.input, score)
    wrapper.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=lambda y_true, y_pred: ops.mean(y_pred),
    )
    batch = keras.tree.flatten(inputs)[0].shape[0]
    targets = np.zeros((batch, 1), "float32")
    before = [
        np.array(ops.convert_to_numpy(v)) for v in model.trainable_weights
    ]
    losses = [
        float(wrapper.train_on_batch(inputs, targets)) for _ in range(steps + 1)
    ]
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses
    unchanged = [
        v.path
        for v, old in zip(model.trainable_weights, before, strict=True)
        if np.array_equal(old, ops.convert_to_numpy(v))
    ]
    assert not unchanged, f"training did not update {unchanged}"
    return wrapper


def check_mixed_bfloat16(model, make, inputs, tolerance=0.1):
    """`make(dtype=...)` under `mixed_bfloat16` with `model`'s weights:
    float32 variables, bfloat16 outputs close to `model`'s."""
    mixed = make(dtype="mixed_bfloat16")
    assert mixed.dtype_policy.name == "mixed_bfloat16"
    for variable in mixed.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    mixed.set_weights(model.get_weights())
    outputs = keras.tree.flatten(mixed(inputs))
    for tensor in outputs:
        assert keras.backend.standardize_dtype(tensor.dtype) == "bfloat16"
    expected = to_numpy(model(inputs))
    for actual, wanted in zip(to_numpy(outputs), expected, strict=True):
        assert np.all(np.isfinite(actual))
        scale = float(np.max(np.abs(wanted))) or 1.0
        np.testing.assert_allclose(
            actual, wanted, atol=tolerance * scale, rtol=0
        )
    return mixed
