import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.soft_mask_blend import SoftMaskBlend


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def blend_reference(inputs, weights, mask_activation=None):
    """Y = R * A + (1 - R) * B, R = act(r)."""
    r, a, b = (v.astype("float64") for v in inputs)
    if mask_activation is not None:
        r = mask_activation(r)
    return r * a + (1.0 - r) * b


CASES = [
    LayerCase(
        name="soft_mask_blend_same_shape",
        layer_cls=SoftMaskBlend,
        init_kwargs=dict(),
        input_shapes=[(2, 3, 4), (2, 3, 4), (2, 3, 4)],
        input_range=(0.0, 1.0),
        reference=blend_reference,
    ),
    LayerCase(
        name="soft_mask_blend_sigmoid_channel_mask",
        layer_cls=SoftMaskBlend,
        init_kwargs=dict(mask_activation="sigmoid"),
        input_shapes=[(2, 3, 3, 1), (2, 3, 3, 4), (2, 3, 3, 4)],
        input_range=(-2.0, 2.0),
        reference=lambda x, w: blend_reference(x, w, sigmoid),
    ),
    LayerCase(
        name="soft_mask_blend_broadcast_b",
        layer_cls=SoftMaskBlend,
        init_kwargs=dict(mask_activation="sigmoid"),
        input_shapes=[(3, 5), (3, 5), (3, 1)],
        reference=lambda x, w: blend_reference(x, w, sigmoid),
    ),
]

# SoftMaskBlend has no weights: the training check, which trains the layer
# alone and requires the loss to fall, has nothing to train. Gradients to
# the inputs are checked by test_gradients_flow_to_every_input instead.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_mask_extremes_select_a_or_b():
    a = np.full((2, 3), 5.0, "float32")
    b = np.full((2, 3), -5.0, "float32")
    layer = SoftMaskBlend()
    np.testing.assert_array_equal(_numpy(layer([np.ones_like(a), a, b])), a)
    np.testing.assert_array_equal(_numpy(layer([np.zeros_like(a), a, b])), b)


def test_gradients_flow_to_every_input():
    """Dense maps produce r, a and b; training through the blend lowers the
    loss and updates all three maps."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (8, 4)).astype("float32")
    target = rng.normal(size=(8, 3)).astype("float32")
    inputs = keras.Input((4,))
    r, a, b = (
        keras.layers.Dense(3, name=name)(inputs) for name in ("r", "a", "b")
    )
    outputs = SoftMaskBlend(mask_activation="sigmoid")([r, a, b])
    model = keras.Model(inputs, outputs)
    before = [_numpy(w).copy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    first = model.evaluate(x, target, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, target)
    assert model.evaluate(x, target, verbose=0) < first
    for old, new in zip(before, model.trainable_weights, strict=True):
        assert not np.array_equal(old, _numpy(new))


def test_output_shape_is_the_broadcast_shape():
    layer = SoftMaskBlend()
    shapes = [(None, 4, 1), (None, 1, 3), (3,)]
    assert layer.compute_output_shape(shapes) == (None, 4, 3)
    y = layer([np.zeros(s[1:] if s[0] is None else s, "f4") for s in shapes])
    assert tuple(y.shape) == (4, 3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mask_activation="no_such_activation"), "mask_activation"),
        (dict(mask_activation=3), "mask_activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SoftMaskBlend(**kwargs)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_wrong_number_of_inputs_rejected(count):
    inputs = [np.zeros((2, 3), "float32")] * count
    with pytest.raises(ValueError, match=r"list of 3 inputs \[r, a, b\]"):
        SoftMaskBlend()(inputs if count > 1 else inputs[0])


def test_mask_that_does_not_broadcast_rejected():
    a = np.zeros((2, 4, 4, 3), "float32")
    with pytest.raises(ValueError, match="broadcast"):
        SoftMaskBlend()([np.zeros((2, 4, 4, 2), "float32"), a, a])


def test_mask_with_mismatched_batch_rejected():
    a = np.zeros((2, 3), "float32")
    with pytest.raises(ValueError, match="broadcast"):
        SoftMaskBlend()([np.zeros((3, 3), "float32"), a, a])


def test_non_broadcasting_input_after_build_rejected():
    layer = SoftMaskBlend()
    a = np.zeros((2, 3), "float32")
    layer([a, a, a])
    with pytest.raises(ValueError, match="broadcast"):
        layer([a, a, np.zeros((2, 4), "float32")])
