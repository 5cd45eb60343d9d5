import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.high_order.poly_conv2d import PolyConv2D


def same_pads(length, kernel, stride):
    """TF/Keras 'same' padding: (before, after) along one axis."""
    out = -(-length // stride)
    total = max((out - 1) * stride + kernel - length, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, strides=(1, 1), padding="valid"):
    """Cross-correlation of NHWC `x` with an HWIO `kernel`, by loops."""
    kh, kw = kernel.shape[:2]
    sh, sw = strides
    if padding == "same":
        pads = same_pads(x.shape[1], kh, sh), same_pads(x.shape[2], kw, sw)
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h = (x.shape[1] - kh) // sh + 1
    out_w = (x.shape[2] - kw) // sw + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.einsum("bhwc,hwco->bo", patch, kernel)
    return out


def poly_conv2d_reference(
    inputs,
    weights,
    degree,
    mode="ccp",
    skip=False,
    strides=(1, 1),
    padding="same",
    activation=None,
):
    """ccp: x_n = (U_n ⊛ z) * x_{n-1} + x_{n-1};
    ncp: x_n = (A_n ⊛ z) * (S_n x_{n-1} + s_n) [+ x_{n-1}]."""
    (z,) = inputs
    z = z.astype("float64")
    prefix = "u" if mode == "ccp" else "a"

    def factor(n):
        kernel = weights[f"{prefix}{n}_kernel"].astype("float64")
        bias = weights.get(f"{prefix}{n}_bias", 0.0)
        return conv2d(z, kernel, strides, padding) + bias

    out = factor(1)
    for n in range(2, degree + 1):
        if activation is not None:
            out = activation(out)
        if mode == "ccp":
            out = factor(n) * out + out
            continue
        s_kernel = weights[f"s{n}_kernel"].astype("float64")
        s_out = conv2d(out, s_kernel) + weights.get(f"s{n}_bias", 0.0)
        product = factor(n) * s_out
        out = product + out if skip else product
    return out


CASES = [
    LayerCase(
        name="poly_conv2d_ccp_degree3",
        layer_cls=PolyConv2D,
        init_kwargs=dict(filters=4, degree=3),
        input_shapes=(2, 6, 6, 3),
        reference=lambda x, w: poly_conv2d_reference(x, w, 3),
        weight_scale=0.3,
    ),
    LayerCase(
        name="poly_conv2d_ncp_skip_degree3",
        layer_cls=PolyConv2D,
        init_kwargs=dict(filters=4, degree=3, mode="ncp", skip=True),
        input_shapes=(2, 6, 6, 3),
        reference=lambda x, w: poly_conv2d_reference(
            x, w, 3, mode="ncp", skip=True
        ),
        weight_scale=0.3,
    ),
    LayerCase(
        name="poly_conv2d_ncp_stride2_valid",
        layer_cls=PolyConv2D,
        init_kwargs=dict(
            filters=3, degree=2, strides=2, padding="valid", mode="ncp"
        ),
        input_shapes=(2, 7, 7, 4),
        reference=lambda x, w: poly_conv2d_reference(
            x, w, 2, mode="ncp", strides=(2, 2), padding="valid"
        ),
        weight_scale=0.3,
    ),
    LayerCase(
        # Even input, stride 2, 'same': the padding is asymmetric (0, 1).
        name="poly_conv2d_ccp_stride2_same_rect_kernel",
        layer_cls=PolyConv2D,
        init_kwargs=dict(filters=4, degree=2, kernel_size=(3, 2), strides=2),
        input_shapes=(2, 6, 5, 3),
        reference=lambda x, w: poly_conv2d_reference(x, w, 2, strides=(2, 2)),
        weight_scale=0.3,
    ),
    LayerCase(
        name="poly_conv2d_ncp_tanh_nobias",
        layer_cls=PolyConv2D,
        init_kwargs=dict(
            filters=4,
            degree=3,
            mode="ncp",
            activation="tanh",
            use_bias=False,
        ),
        input_shapes=(2, 5, 5, 3),
        reference=lambda x, w: poly_conv2d_reference(
            x, w, 3, mode="ncp", activation=np.tanh
        ),
    ),
    LayerCase(
        name="poly_conv2d_degree1",
        layer_cls=PolyConv2D,
        init_kwargs=dict(filters=3, degree=1, kernel_size=1),
        input_shapes=(2, 4, 4, 3),
        reference=lambda x, w: poly_conv2d_reference(x, w, 1),
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0, degree=2), "filters"),
        (dict(filters=4, degree=0), "degree"),
        (dict(filters=4, degree=True), "degree"),
        (dict(filters=4, degree=2, kernel_size=(3,)), "kernel_size"),
        (dict(filters=4, degree=2, kernel_size=2.5), "kernel_size"),
        (dict(filters=4, degree=2, strides=0), "strides"),
        (dict(filters=4, degree=2, padding="causal"), "padding"),
        (dict(filters=4, degree=2, mode="cp"), "mode"),
        (dict(filters=4, degree=2, skip=True), "skip"),
        (dict(filters=4, degree=2, mode="ncp", skip="yes"), "skip"),
        (dict(filters=4, degree=2, activation="nope"), "activation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolyConv2D(**kwargs)


def test_wrong_rank_rejected():
    layer = PolyConv2D(filters=4, degree=2)
    with pytest.raises(ValueError, match="expected ndim=4"):
        layer(np.zeros((2, 6, 3), "float32"))
    with pytest.raises(ValueError, match="rank 4"):
        PolyConv2D(filters=4, degree=2).build((2, 6, 3))


def test_wrong_channels_at_call():
    layer = PolyConv2D(filters=4, degree=2)
    layer(np.zeros((1, 6, 6, 3), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((1, 6, 6, 5), "float32"))


@pytest.mark.parametrize("strides, padding", [(1, "same"), (2, "same")])
def test_degree1_is_conv2d(strides, padding):
    kwargs = dict(kernel_size=3, strides=strides, padding=padding)
    poly = PolyConv2D(filters=5, degree=1, **kwargs)
    conv = keras.layers.Conv2D(5, **kwargs)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 6, 6, 3)).astype("f4")
    poly(x)
    conv(x)
    rng = np.random.default_rng(1)
    conv.set_weights([rng.normal(size=w.shape) for w in conv.get_weights()])
    poly.set_weights(conv.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(poly(x)),
        keras.ops.convert_to_numpy(conv(x)),
        atol=1e-6,
        rtol=1e-6,
    )
