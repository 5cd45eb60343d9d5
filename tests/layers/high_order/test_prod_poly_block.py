import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.prod_poly_block import ProdPolyBlock

EPSILON = 1e-5  # every normalization of the block


def conv2d(x, kernel, stride=1, pad=0):
    """NHWC x HWIO cross-correlation with `pad` zeros on every side."""
    kh, kw = kernel.shape[:2]
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[
                :, i * stride : i * stride + kh, j * stride : j * stride + kw
            ]
            out[:, i, j, :] = np.einsum("bhwc,hwco->bo", patch, kernel)
    return out


def batch_norm(x, weights, prefix):
    """Inference: the moving statistics."""
    mean = weights[f"{prefix}/moving_mean"]
    var = weights[f"{prefix}/moving_variance"]
    gamma, beta = weights[f"{prefix}/gamma"], weights[f"{prefix}/beta"]
    return gamma * (x - mean) / np.sqrt(var + EPSILON) + beta


def instance_norm(x, weights, prefix):
    """Per sample and channel over (H, W), then the affine map."""
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    gamma, beta = weights[f"{prefix}/gamma"], weights[f"{prefix}/beta"]
    return gamma * (x - mean) / np.sqrt(var + EPSILON) + beta


def instance_batch_norm(x, weights, prefix):
    """IBN: the first int(0.8 C) channels instance-, the rest batch-norm."""
    m = int(0.8 * x.shape[-1])
    return np.concatenate(
        [
            instance_norm(x[..., :m], weights, f"{prefix}/instance_norm"),
            batch_norm(x[..., m:], weights, f"{prefix}/batch_norm"),
        ],
        axis=-1,
    )


FIRST_NORMS = {
    "batch": batch_norm,
    "instance": instance_norm,
    "instance_batch": instance_batch_norm,
}


def relu(x):
    return np.maximum(x, 0.0)


def prod_poly_block_reference(
    inputs,
    weights,
    filters,
    strides=1,
    use_activation=False,
    normalization="batch",
    second_order=True,
    second_order_projection=False,
):
    (x,) = inputs
    x = x.astype("float64")
    act = relu if use_activation else (lambda t: t)
    w = {k: v.astype("float64") for k, v in weights.items()}
    # 3x3 convolutions pad one pixel on every side (PyTorch's padding=1).
    out = conv2d(x, w["conv1/kernel"], strides, pad=1)
    out = act(FIRST_NORMS[normalization](out, w, "norm1"))
    out = batch_norm(conv2d(out, w["conv2/kernel"], pad=1), w, "norm2")
    if strides == 1 and x.shape[-1] == filters:
        shortcut = x
    else:
        shortcut = conv2d(x, w["shortcut_conv/kernel"], strides)
        shortcut = batch_norm(shortcut, w, "shortcut_norm")
    if not second_order:  # the plain ResNet basic block
        return act(out + shortcut)
    second = out * shortcut
    if second_order_projection:
        second = conv2d(second, w["second_order_conv/kernel"])
    second = batch_norm(second, w, "second_order_norm")
    return act(out + shortcut + w["alpha"] * second)


OVERRIDES = {
    "moving_variance": lambda rng, shape: rng.uniform(0.5, 1.5, shape),
}


def case(name, input_shape, **kwargs):
    return LayerCase(
        name=f"prod_poly_block_{name}",
        layer_cls=ProdPolyBlock,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=lambda x, w: prod_poly_block_reference(x, w, **kwargs),
        weight_overrides=OVERRIDES,
    )


CASES = [
    case("identity", (2, 6, 6, 4), filters=4),
    case("projection_stride2", (2, 6, 6, 3), filters=4, strides=2),
    case(
        "instance_relu",
        (2, 5, 5, 4),
        filters=4,
        normalization="instance",
        use_activation=True,
    ),
    case(
        "instance_batch_1x1",
        (2, 5, 5, 3),
        filters=5,
        normalization="instance_batch",
        second_order_projection=True,
    ),
    case(
        "relu_1x1_stride2_odd",
        (2, 7, 7, 3),
        filters=4,
        strides=2,
        use_activation=True,
        second_order_projection=True,
    ),
    case(
        "no_second_order_relu_stride2",
        (2, 6, 6, 3),
        filters=4,
        strides=2,
        use_activation=True,
        second_order=False,
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(filters=4, strides=0), "strides"),
        (dict(filters=4, strides=(1, 1, 1)), "strides"),
        (dict(filters=4, normalization="layer"), "instance_batch"),
        (dict(filters=4, use_activation=1), "use_activation"),
        (dict(filters=4, use_activation=True, activation=None), "activation"),
        (dict(filters=4, activation="nope"), "activation"),
        (dict(filters=4, second_order_projection="1x1"), "second_order"),
        (dict(filters=4, second_order=1), "second_order"),
        (
            dict(filters=4, second_order=False, second_order_projection=True),
            "second_order_projection",
        ),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ProdPolyBlock(**kwargs)


def test_wrong_rank_rejected():
    with pytest.raises(ValueError, match="expected ndim=4"):
        ProdPolyBlock(filters=4)(np.zeros((2, 6, 4), "float32"))
    with pytest.raises(ValueError, match="rank 4"):
        ProdPolyBlock(filters=4).build((2, 6, 4))


def test_alpha_starts_at_zero():
    block = ProdPolyBlock(filters=4)
    block(np.zeros((1, 4, 4, 4), "float32"))
    assert float(keras.ops.convert_to_numpy(block.alpha)) == 0.0


def test_without_second_order_is_a_plain_basic_block():
    block = ProdPolyBlock(filters=4, second_order=False)
    block(np.zeros((1, 4, 4, 4), "float32"))
    names = sorted(v.path.split("/", 1)[1] for v in block.weights)
    assert not [n for n in names if "second_order" in n or n == "alpha"]
    assert block.alpha is None
    with_second = ProdPolyBlock(filters=4)
    with_second(np.zeros((1, 4, 4, 4), "float32"))
    # Same weights apart from the second-order term's alpha and N_3.
    extra = {v.path.split("/", 1)[1] for v in with_second.weights}
    assert extra - set(names) == {
        "alpha",
        "second_order_norm/gamma",
        "second_order_norm/beta",
        "second_order_norm/moving_mean",
        "second_order_norm/moving_variance",
    }


def test_strided_branches_are_aligned():
    """With identity-like weights y = 2 x_s + x_s * x_s, x_s = x[::2, ::2]:
    the strided 3x3 conv is centred on the pixels the 1x1 shortcut keeps.
    """
    x = np.random.default_rng(0).uniform(-1, 1, (2, 6, 6, 1)).astype("f4")
    block = ProdPolyBlock(filters=1, strides=2)
    block(x)
    centre = np.zeros((3, 3, 1, 1), "float32")
    centre[1, 1] = 1.0
    block.conv1.kernel.assign(centre)
    block.conv2.kernel.assign(centre)
    block.shortcut_conv.kernel.assign(np.ones((1, 1, 1, 1), "float32"))
    for norm in (
        block.norm1,
        block.norm2,
        block.shortcut_norm,
        block.second_order_norm,
    ):
        norm.moving_variance.assign(np.full((1,), 1.0 - EPSILON, "float32"))
    block.alpha.assign(1.0)
    strided = x[:, ::2, ::2].astype("float64")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(block(x)),
        2 * strided + strided * strided,
        atol=1e-6,
        rtol=1e-6,
    )
