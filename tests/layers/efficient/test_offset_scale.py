import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.efficient.offset_scale import OffsetScale


def offset_scale_reference(inputs, weights):
    """out_h = x * γ_h + β_h for every row h of γ and β."""
    (x,) = inputs
    gamma, beta = weights["gamma"], weights["beta"]
    return [x * gamma[h] + beta[h] for h in range(gamma.shape[0])]


MULTI_HEAD_CASES = [
    LayerCase(
        name="offset_scale_2heads_rank3",
        layer_cls=OffsetScale,
        init_kwargs=dict(heads=2),
        input_shapes=(2, 5, 4),
        reference=offset_scale_reference,
    ),
]
CASES = [
    LayerCase(
        name="offset_scale_1head_rank2",
        layer_cls=OffsetScale,
        init_kwargs=dict(heads=1),
        input_shapes=(3, 6),
        reference=offset_scale_reference,
    ),
]

test_harness = layer_tests(CASES)
# The harness's training check compiles a list-output model with one "mse"
# loss, which Keras's TensorFlow trainer rejects ("path (0,) in the `loss`
# argument can't be found"); test_training_moves_every_head covers it.
test_harness_multi_head = layer_tests(MULTI_HEAD_CASES, skip=("training",))


def test_training_moves_every_head():
    layer = OffsetScale(heads=3)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Add()(layer(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 4)).astype("float32")
    before = [keras.ops.convert_to_numpy(w) for w in layer.weights]
    first = model.evaluate(x, y, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, y)
    assert model.evaluate(x, y, verbose=0) < first
    for old, new in zip(before, layer.weights, strict=True):
        moved = np.abs(keras.ops.convert_to_numpy(new) - old).min(axis=1)
        assert np.all(moved > 0)  # every head's γ and β


def test_default_initial_values():
    # The paper's scale_offset: γ ~ N(0, 0.02), β = 0.
    layer = OffsetScale(heads=4)
    layer.build((None, 512))
    gamma = keras.ops.convert_to_numpy(layer.gamma)
    beta = keras.ops.convert_to_numpy(layer.beta)
    assert gamma.shape == beta.shape == (4, 512)
    assert abs(float(gamma.std()) - 0.02) < 0.002
    assert abs(float(gamma.mean())) < 0.002
    np.testing.assert_array_equal(beta, 0.0)


def test_returns_a_list_of_heads():
    outputs = OffsetScale(heads=3)(np.ones((2, 4), "float32"))
    assert isinstance(outputs, list) and len(outputs) == 3


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(heads=0), "heads"),
        (dict(heads=1.5), "heads"),
        (dict(heads=True), "heads"),
        (dict(gamma_initializer="no_such_init"), "gamma_initializer"),
        (dict(beta_initializer="no_such_init"), "beta_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OffsetScale(**kwargs)


def test_wrong_last_axis_at_call():
    layer = OffsetScale(heads=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))
