"""The shared layer test harness (DESIGN.md §4).

A layer test module describes its layer with one or more `LayerCase`s and
a NumPy reference of the layer's equation, then calls `layer_tests(cases)`
to get a parametrised pytest test that runs every check below under the
current `KERAS_BACKEND`:

- `shapes`: the symbolic output shape (functional graph) equals the eager
  one, and `compute_output_shape` agrees where the layer defines it.
- `golden`: outputs on the golden inputs and weights in
  `tests/golden/<case>.npz` match the golden outputs, which were computed by
  the NumPy reference. The same file serves every backend, so passing on
  all three is the cross-backend parity check. The reference is re-run on
  the stored arrays too, so a stale file cannot hide a changed reference.
- `config`: `get_config()` names every `__init__` argument and
  `from_config()` rebuilds a layer with identical outputs.
- `saving`: a `.keras` archive of a model holding the layer reloads with
  identical outputs.
- `training`: a few SGD steps on a regression target lower the loss and
  move every trainable weight.
- `mixed_precision`, `mixed_float16`: under `mixed_bfloat16` (and
  `mixed_float16`) the variables stay float32, the outputs are bfloat16
  (float16), finite and close to the float32 golden outputs.

Golden files are (re)written with `HADAMARD_ZOO_UPDATE_GOLDEN=1`; weights and
inputs come from a seeded NumPy generator, never from `keras.random`, whose
streams differ per backend.
"""

import dataclasses
import inspect
import os
import pathlib
import zlib
from collections.abc import Callable

import keras
import numpy as np
import pytest

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"
UPDATE_GOLDEN = os.environ.get("HADAMARD_ZOO_UPDATE_GOLDEN") == "1"


@dataclasses.dataclass
class LayerCase:
    """One configuration of a layer under test.

    Attributes:
        name: unique id; the golden file is `tests/golden/<name>.npz`.
        layer_cls: the layer class.
        init_kwargs: arguments of `layer_cls(...)`.
        input_shapes: one shape (with batch axis) or a list of shapes when
            the layer takes a list of inputs.
        reference: `reference(inputs, weights) -> output(s)`: NumPy code of
            the layer's equation. `inputs` is a list of arrays, `weights` a
            dict from weight name (the variable path without the layer's
            own name, e.g. `"u1_kernel"` or `"conv/kernel"`) to array.
        input_range: inputs are drawn uniformly from this interval.
        weight_scale: weights are drawn uniformly from ±weight_scale.
        weight_overrides: `{name_substring: fn(rng, shape)}` for weights
            that need other values (e.g. positive variances).
        atol, rtol: tolerances of the golden comparison (float32).
        bf16_tolerance: max error under mixed_bfloat16, relative to the
            largest golden output magnitude.
        call_kwargs: extra keyword arguments of `layer(...)`.
        train_tolerance: loss after training must be below
            `(1 - train_tolerance) * loss before`.
        frozen_weights: names of trainable weights that legitimately get no
            gradient from the training check's loss.
    """

    name: str
    layer_cls: type
    init_kwargs: dict
    input_shapes: object
    reference: Callable
    input_range: tuple = (-1.0, 1.0)
    weight_scale: float = 0.5
    weight_overrides: dict = dataclasses.field(default_factory=dict)
    atol: float = 1e-5
    rtol: float = 1e-5
    bf16_tolerance: float = 0.05
    call_kwargs: dict = dataclasses.field(default_factory=dict)
    train_tolerance: float = 0.0
    frozen_weights: tuple = ()

    @property
    def multi_input(self):
        return isinstance(self.input_shapes, list)

    @property
    def shapes(self):
        return self.input_shapes if self.multi_input else [self.input_shapes]

    def make_layer(self, **overrides):
        return self.layer_cls(**{**self.init_kwargs, **overrides})

    def pack(self, arrays):
        """Arrays in the form the layer's call takes (list or single)."""
        return list(arrays) if self.multi_input else arrays[0]


def weight_name(layer, variable):
    """The variable's path relative to `layer`, e.g. `conv/kernel`."""
    prefix = layer.name + "/"
    path = variable.path
    return path[len(prefix) :] if path.startswith(prefix) else path


def as_list(outputs):
    if isinstance(outputs, (list, tuple)):
        return list(outputs)
    return [outputs]


def to_numpy(outputs):
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in as_list(outputs)]


def build(case, layer):
    """Builds `layer` by calling it on zeros of the case's input shapes."""
    zeros = [np.zeros(s, "float32") for s in case.shapes]
    layer(case.pack(zeros), **case.call_kwargs)
    return layer


def set_weights_by_name(layer, weights):
    names = [weight_name(layer, v) for v in layer.weights]
    assert sorted(names) == sorted(weights), (
        "The layer's weights differ from the golden file's: "
        f"{sorted(names)} vs {sorted(weights)}. Regenerate the golden file "
        "with HADAMARD_ZOO_UPDATE_GOLDEN=1 if the change is intended."
    )
    for name, variable in zip(names, layer.weights, strict=True):
        variable.assign(weights[name].astype(variable.dtype))


def _draw_weights(case, layer, rng):
    weights = {}
    for variable in layer.weights:
        name = weight_name(layer, variable)
        shape = tuple(variable.shape)
        override = next(
            (fn for key, fn in case.weight_overrides.items() if key in name),
            None,
        )
        if override is not None:
            value = override(rng, shape)
        else:
            value = rng.uniform(-case.weight_scale, case.weight_scale, shape)
        weights[name] = np.asarray(value, "float32")
    return weights


def _write_golden(case, path):
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    inputs = [
        rng.uniform(*case.input_range, shape).astype("float32")
        for shape in case.shapes
    ]
    weights = _draw_weights(case, build(case, case.make_layer()), rng)
    outputs = as_list(case.reference(inputs, weights))
    arrays = {f"input_{i}": x for i, x in enumerate(inputs)}
    arrays.update({f"output_{i}": y for i, y in enumerate(outputs)})
    arrays.update({f"weight:{k}": v for k, v in weights.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def load_golden(case):
    """Returns `(inputs, weights, outputs)` of the case's golden file."""
    path = GOLDEN_DIR / f"{case.name}.npz"
    if UPDATE_GOLDEN:
        _write_golden(case, path)
    if not path.exists():
        pytest.fail(
            f"Missing golden file {path}. Create it with "
            "HADAMARD_ZOO_UPDATE_GOLDEN=1 pytest <this test>."
        )
    with np.load(path) as data:
        keys = list(data.keys())

        def collect(prefix):
            found = sorted(
                (k for k in keys if k.startswith(prefix)),
                key=lambda k: int(k[len(prefix) :]),
            )
            return [data[k] for k in found]

        inputs = collect("input_")
        outputs = collect("output_")
        weights = {
            k[len("weight:") :]: data[k]
            for k in keys
            if k.startswith("weight:")
        }
    return inputs, weights, outputs


def golden_layer(case, **overrides):
    """A layer of the case built and loaded with the golden weights."""
    inputs, weights, outputs = load_golden(case)
    layer = build(case, case.make_layer(**overrides))
    set_weights_by_name(layer, weights)
    return layer, inputs, outputs


def assert_outputs_close(actual, expected, atol, rtol, what):
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected, strict=True):
        assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
        np.testing.assert_allclose(
            a.astype("float64"), e, atol=atol, rtol=rtol, err_msg=what
        )


# ----------------------------------------------------------------- checks


def check_shapes(case, tmp_path):
    layer = case.make_layer()
    symbolic_inputs = [
        keras.Input(shape=s[1:], batch_size=None) for s in case.shapes
    ]
    symbolic = as_list(layer(case.pack(symbolic_inputs), **case.call_kwargs))
    eager_inputs = [np.zeros(s, "float32") for s in case.shapes]
    eager = as_list(layer(case.pack(eager_inputs), **case.call_kwargs))
    for sym, eag in zip(symbolic, eager, strict=True):
        expected = (None,) + tuple(eag.shape[1:])
        assert tuple(sym.shape) == expected, (sym.shape, eag.shape)
    if (
        type(layer).compute_output_shape
        is not keras.layers.Layer.compute_output_shape
    ):
        shapes = case.pack([tuple(s) for s in case.shapes])
        computed = layer.compute_output_shape(shapes)
        if not isinstance(computed, list):
            computed = [computed]
        for shape, eag in zip(computed, eager, strict=True):
            assert tuple(shape) == tuple(eag.shape)


def check_golden(case, tmp_path):
    inputs, weights, outputs = load_golden(case)
    assert_outputs_close(
        to_numpy(case.reference(inputs, weights)),
        outputs,
        1e-6,
        1e-6,
        "the NumPy reference no longer reproduces the golden file",
    )
    layer, inputs, outputs = golden_layer(case)
    actual = to_numpy(layer(case.pack(inputs), **case.call_kwargs))
    assert_outputs_close(
        actual,
        outputs,
        case.atol,
        case.rtol,
        f"{keras.backend.backend()} output differs from the golden output",
    )


def check_config(case, tmp_path):
    layer, inputs, outputs = golden_layer(case)
    config = layer.get_config()
    params = inspect.signature(case.layer_cls.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        if name not in config
    ]
    assert not missing, f"get_config() lacks __init__ arguments {missing}"
    clone = case.layer_cls.from_config(config)
    build(case, clone)
    clone.set_weights(layer.get_weights())
    actual = to_numpy(clone(case.pack(inputs), **case.call_kwargs))
    expected = to_numpy(layer(case.pack(inputs), **case.call_kwargs))
    assert_outputs_close(actual, expected, 0, 0, "from_config clone differs")


def _model_of(case, layer):
    inputs = [keras.Input(shape=s[1:]) for s in case.shapes]
    outputs = layer(case.pack(inputs), **case.call_kwargs)
    return keras.Model(case.pack(inputs), outputs)


def check_saving(case, tmp_path):
    layer, inputs, outputs = golden_layer(case)
    model = _model_of(case, layer)
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    expected = to_numpy(model(case.pack(inputs)))
    actual = to_numpy(restored(case.pack(inputs)))
    assert_outputs_close(actual, expected, 1e-6, 1e-6, ".keras reload differs")
    # predict() runs the compiled graph (jax.jit, tf.function): compilers
    # have fused ops into wrong results that eager calls never show.
    compiled = to_numpy(restored.predict(case.pack(inputs), verbose=0))
    assert_outputs_close(
        compiled, outputs, case.atol, case.rtol, "compiled predict() differs"
    )


def check_training(case, tmp_path):
    layer, inputs, outputs = golden_layer(case)
    model = _model_of(case, layer)
    rng = np.random.default_rng(0)
    targets = [rng.normal(size=o.shape).astype("float32") for o in outputs]
    before = {
        weight_name(layer, v): np.array(v) for v in layer.trainable_weights
    }
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    x, y = case.pack(inputs), case.pack(targets)
    first = float(as_list(model.evaluate(x, y, verbose=0))[0])
    for _ in range(3):
        model.train_on_batch(x, y)
    last = float(as_list(model.evaluate(x, y, verbose=0))[0])
    assert np.isfinite(last), last
    assert last < (1 - case.train_tolerance) * first, (first, last)
    unchanged = [
        name
        for name, v in before.items()
        if name not in case.frozen_weights
        and np.array_equal(v, keras.ops.convert_to_numpy(_find(layer, name)))
    ]
    assert not unchanged, f"training did not update {unchanged}"


def _find(layer, name):
    return next(v for v in layer.weights if weight_name(layer, v) == name)


def _check_policy(case, policy):
    compute = policy.removeprefix("mixed_")
    layer, inputs, outputs = golden_layer(case, dtype=policy)
    for variable in layer.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    actual = as_list(layer(case.pack(inputs), **case.call_kwargs))
    for tensor in actual:
        assert keras.backend.standardize_dtype(tensor.dtype) == compute
    scale = max(float(np.max(np.abs(o))) for o in outputs) or 1.0
    actual = [a.astype("float32") for a in to_numpy(actual)]
    for array in actual:
        assert np.isfinite(array).all(), f"{policy} output is not finite"
    # float16 has 3 more mantissa bits than bfloat16 (and less range, which
    # the finiteness check covers): the bfloat16 tolerance bounds both.
    assert_outputs_close(
        actual,
        outputs,
        case.bf16_tolerance * scale,
        0,
        f"{policy} output is far from the float32 output",
    )


def check_mixed_precision(case, tmp_path):
    _check_policy(case, "mixed_bfloat16")


def check_mixed_float16(case, tmp_path):
    _check_policy(case, "mixed_float16")


CHECKS = {
    "shapes": check_shapes,
    "golden": check_golden,
    "config": check_config,
    "saving": check_saving,
    "training": check_training,
    "mixed_precision": check_mixed_precision,
    "mixed_float16": check_mixed_float16,
}


def layer_tests(cases, skip=()):
    """A pytest test running every harness check on every case.

    Use at module level: `test_harness = layer_tests(CASES)`. `skip` names
    checks that do not apply (say why in a comment where it is used).
    """
    names = [n for n in CHECKS if n not in skip]

    @pytest.mark.parametrize("check", names)
    @pytest.mark.parametrize("case", cases, ids=[c.name for c in cases])
    def test_harness(case, check, tmp_path):
        CHECKS[check](case, tmp_path)

    return test_harness
