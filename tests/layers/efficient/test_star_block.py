import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from harness import load_golden

from hadamard_zoo.layers.efficient.star_block import StarBlock

EPSILON = 1e-5  # both batch normalizations


def depthwise_conv2d(x, kernel, bias):
    """Per-channel k x k cross-correlation, (k - 1) / 2 zeros on each side.

    `kernel` has Keras' depthwise layout (k, k, channels, 1).
    """
    k = kernel.shape[0]
    pad = (k - 1) // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out = np.zeros(x.shape)
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            patch = padded[:, i : i + k, j : j + k]
            # Channel c only meets its own filter kernel[..., c, 0].
            out[:, i, j] = np.einsum("bhwc,hwc->bc", patch, kernel[..., 0])
    return out + bias


def pointwise_conv2d(x, weights, name):
    """1x1 convolution: a dense map over the channels."""
    return x @ weights[f"{name}/kernel"][0, 0] + weights[f"{name}/bias"]


def batch_norm(x, weights, name):
    """Inference: the moving statistics."""
    mean = weights[f"{name}/moving_mean"]
    var = weights[f"{name}/moving_variance"]
    gamma, beta = weights[f"{name}/gamma"], weights[f"{name}/beta"]
    return gamma * (x - mean) / np.sqrt(var + EPSILON) + beta


def star_block_reference(inputs, weights):
    """y = BN(DW(x)); y = relu6(f1 y) * f2 y; y = DW'(BN(g y)); x + y."""
    (x,) = inputs
    x = x.astype("float64")
    w = {k: v.astype("float64") for k, v in weights.items()}
    y = depthwise_conv2d(x, w["dwconv/kernel"], w["dwconv/bias"])
    y = batch_norm(y, w, "dwconv_norm")
    relu6 = np.clip(pointwise_conv2d(y, w, "f1"), 0.0, 6.0)
    y = relu6 * pointwise_conv2d(y, w, "f2")
    y = batch_norm(pointwise_conv2d(y, w, "g"), w, "g_norm")
    y = depthwise_conv2d(y, w["dwconv2/kernel"], w["dwconv2/bias"])
    return x + y


OVERRIDES = {
    "moving_variance": lambda rng, shape: rng.uniform(0.5, 1.5, shape),
}


def case(name, input_shape, overrides=None, **kwargs):
    return LayerCase(
        name=f"star_block_{name}",
        layer_cls=StarBlock,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=star_block_reference,
        weight_overrides={**OVERRIDES, **(overrides or {})},
        weight_scale=0.3,
        # A bias right before a batch normalization gets no gradient in
        # training (the batch mean absorbs it); the reference has them.
        frozen_weights=("dwconv/bias", "g/bias"),
    )


CASES = [
    case("default_k7", (2, 8, 8, 3)),
    case("ratio4_k3_rect", (2, 4, 6, 4), mlp_ratio=4, kernel_size=3),
    # f1 biases around 6 put f1(y) on both sides of the relu6 clip.
    case(
        "ratio2_k5_clip_drop_path",
        (2, 5, 5, 2),
        overrides={"f1/bias": lambda rng, shape: rng.uniform(5, 7, shape)},
        mlp_ratio=2,
        kernel_size=5,
        drop_path=0.2,
        seed=2,
    ),
]

test_harness = layer_tests(CASES)


def test_relu6_clip_is_exercised():
    # The third case has f1 on both sides of 6, so the clip is tested.
    inputs, weights, _ = load_golden(CASES[2])
    w = {k: v.astype("float64") for k, v in weights.items()}
    y = depthwise_conv2d(inputs[0], w["dwconv/kernel"], w["dwconv/bias"])
    y = batch_norm(y, w, "dwconv_norm")
    f1 = pointwise_conv2d(y, w, "f1")
    assert f1.max() > 6.0 and f1.min() < 6.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mlp_ratio=0), "mlp_ratio"),
        (dict(mlp_ratio=2.0), "mlp_ratio"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=4), "kernel_size"),
        (dict(drop_path=1.0), "drop_path"),
        (dict(drop_path=-0.5), "drop_path"),
        (dict(seed=-2), "seed"),
        (dict(kernel_initializer="nope"), "kernel_initializer"),
        (dict(depthwise_initializer="nope"), "depthwise_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StarBlock(**kwargs)


def test_wrong_rank_rejected():
    with pytest.raises(ValueError, match="expected ndim=4"):
        StarBlock()(np.zeros((2, 9, 4), "float32"))
    with pytest.raises(ValueError, match="rank 4"):
        StarBlock().build((2, 9, 4))


def test_wrong_channels_after_build_rejected():
    block = StarBlock()
    block(np.zeros((1, 4, 4, 4), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        block(np.zeros((1, 4, 4, 5), "float32"))


def test_default_init_is_pytorch_conv_default():
    # U(±1/sqrt(fan_in)); a depthwise channel's fan-in is its k x k window.
    block = StarBlock(mlp_ratio=3)
    block.build((None, 8, 8, 16))
    value = keras.ops.convert_to_numpy
    for kernel, fan_in in [
        (block.dwconv.kernel, 49),
        (block.dwconv2.kernel, 49),
        (block.f1.kernel, 16),
        (block.g.kernel, 48),
    ]:
        k = np.abs(value(kernel))
        bound = 1 / np.sqrt(fan_in)
        assert k.max() <= bound and k.max() > 0.8 * bound, (kernel.path, bound)
    assert not np.allclose(value(block.f1.kernel), value(block.f2.kernel))


def test_drop_path_drops_whole_samples_in_training():
    rate = 0.5
    x = np.random.default_rng(0).normal(size=(16, 5, 5, 4)).astype("float32")
    dropping = StarBlock(mlp_ratio=2, kernel_size=3, drop_path=rate, seed=4)
    plain = StarBlock(mlp_ratio=2, kernel_size=3)
    dropping(x)
    plain(x)
    plain.set_weights(dropping.get_weights())
    # Batch statistics come before the drop: the branch is the same.
    branch = keras.ops.convert_to_numpy(plain(x, training=True)) - x
    out = keras.ops.convert_to_numpy(dropping(x, training=True)) - x
    kept = []
    for i in range(len(x)):
        if np.allclose(out[i], 0.0, atol=1e-6):
            kept.append(False)
        else:
            np.testing.assert_allclose(
                out[i], branch[i] / (1 - rate), atol=1e-5
            )
            kept.append(True)
    assert any(kept) and not all(kept)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(dropping(x, training=False)),
        keras.ops.convert_to_numpy(plain(x, training=False)),
        atol=1e-6,
    )
