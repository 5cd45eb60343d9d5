import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.instance_batch_normalization import (
    InstanceBatchNormalization,
)

EPSILON = 1e-5


def instance_norm(x, gamma, beta, epsilon):
    """Per sample and channel over the spatial axes, then affine."""
    axes = tuple(range(1, x.ndim - 1))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def batch_norm_inference(x, weights, prefix, epsilon):
    mean = weights[f"{prefix}/moving_mean"]
    var = weights[f"{prefix}/moving_variance"]
    gamma, beta = weights[f"{prefix}/gamma"], weights[f"{prefix}/beta"]
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def ibn_reference(inputs, weights, ratio, epsilon=EPSILON):
    (x,) = inputs
    x = x.astype("float64")
    m = int(ratio * x.shape[-1])
    parts = []
    if m:
        gamma = weights["instance_norm/gamma"]
        beta = weights["instance_norm/beta"]
        parts.append(instance_norm(x[..., :m], gamma, beta, epsilon))
    if m < x.shape[-1]:
        parts.append(
            batch_norm_inference(x[..., m:], weights, "batch_norm", epsilon)
        )
    return np.concatenate(parts, axis=-1)


# Moving statistics near those of the U(-1, 1) golden inputs (mean 0,
# variance 1/3): the training check evaluates in inference mode before and
# after three training steps, whose momentum updates of the moving averages
# must not outweigh the gradient steps.
POSITIVE_VARIANCE = {
    "moving_mean": lambda rng, shape: rng.uniform(-0.1, 0.1, shape),
    "moving_variance": lambda rng, shape: rng.uniform(0.25, 0.45, shape),
}

CASES = [
    LayerCase(
        name="ibn_ratio08",
        layer_cls=InstanceBatchNormalization,
        init_kwargs=dict(),
        input_shapes=(2, 4, 4, 5),
        reference=lambda x, w: ibn_reference(x, w, 0.8),
        weight_overrides=POSITIVE_VARIANCE,
    ),
    LayerCase(
        name="ibn_ratio05_eps1e-3_rank3",
        layer_cls=InstanceBatchNormalization,
        init_kwargs=dict(ratio=0.5, epsilon=1e-3, momentum=0.99),
        input_shapes=(3, 6, 4),
        reference=lambda x, w: ibn_reference(x, w, 0.5, epsilon=1e-3),
        weight_overrides=POSITIVE_VARIANCE,
    ),
    LayerCase(
        # With only 6 trainable weights, three SGD steps move the inference
        # loss less than the momentum updates of the moving statistics do;
        # momentum=1 freezes those (training still uses batch statistics).
        name="ibn_ratio0_batch_only",
        layer_cls=InstanceBatchNormalization,
        init_kwargs=dict(ratio=0.0, momentum=1.0),
        input_shapes=(2, 3, 3, 3),
        reference=lambda x, w: ibn_reference(x, w, 0.0),
        weight_overrides=POSITIVE_VARIANCE,
    ),
    LayerCase(
        name="ibn_ratio1_instance_only",
        layer_cls=InstanceBatchNormalization,
        init_kwargs=dict(ratio=1.0),
        input_shapes=(2, 3, 3, 3),
        reference=lambda x, w: ibn_reference(x, w, 1.0),
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(ratio=1.5), "ratio"),
        (dict(ratio=-0.1), "ratio"),
        (dict(ratio="half"), "ratio"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(momentum=2.0), "momentum"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InstanceBatchNormalization(**kwargs)


def test_rank2_input_rejected():
    with pytest.raises(ValueError, match="expected min_ndim=3"):
        InstanceBatchNormalization()(np.zeros((2, 5), "float32"))


def test_training_uses_batch_statistics():
    """In training the batch-norm channels use the batch's own statistics."""
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (4, 5, 5, 10)).astype("float32")
    layer = InstanceBatchNormalization(ratio=0.8)
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    m = 8
    expected = np.concatenate(
        [
            instance_norm(x[..., :m].astype("float64"), 1.0, 0.0, EPSILON),
            (x[..., m:] - x[..., m:].mean(axis=(0, 1, 2)))
            / np.sqrt(x[..., m:].var(axis=(0, 1, 2)) + EPSILON),
        ],
        axis=-1,
    )
    np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)
