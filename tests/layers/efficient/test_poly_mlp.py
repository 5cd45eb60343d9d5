import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from test_spatial_shift import shift_reference

from hadamard_zoo.layers.efficient.poly_mlp import PolyMlp


def layer_norm(x, weights, prefix, epsilon):
    """Over the last axis, then the affine map γ, β."""
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    gamma, beta = weights[f"{prefix}gamma"], weights[f"{prefix}beta"]
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def poly_mlp_reference(x, weights, use_spatial, epsilon=1e-6, prefix=""):
    """o1 = U1 x, o2 = U3 shift(U2 x), LN each, C(o1 + α o1 * o2).

    `weights` maps names (after `prefix`) to arrays; a missing bias is 0.
    """
    w = {
        k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)
    }

    def dense(t, name):
        return t @ w[f"{name}_kernel"] + w.get(f"{name}_bias", 0.0)

    x = x.astype("float64")
    o1, o2 = dense(x, "u1"), dense(x, "u2")
    if use_spatial:
        o1, o2 = shift_reference(o1), shift_reference(o2)
    o2 = dense(o2, "u3")
    o1 = layer_norm(o1, w, "norm1/", epsilon)
    o2 = layer_norm(o2, w, "norm2/", epsilon)
    o1 = o1 + w["alpha"] * (o1 * o2)
    return dense(o1, "c")


def case(name, input_shape, **kwargs):
    spatial = kwargs.get("use_spatial", False)
    epsilon = kwargs.get("epsilon", 1e-6)
    return LayerCase(
        name=f"poly_mlp_{name}",
        layer_cls=PolyMlp,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=lambda x, w: poly_mlp_reference(x[0], w, spatial, epsilon),
    )


CASES = [
    case(
        "spatial_out",
        (2, 4, 5, 6),
        hidden_units=16,
        output_units=3,
        use_spatial=True,
        low_rank_ratio=4,
    ),
    case(
        "spatial_monet_ratio", (2, 3, 3, 8), hidden_units=32, use_spatial=True
    ),
    case("channel_vector", (3, 5), hidden_units=16, output_units=4),
    case(
        "channel_rank3_nobias_eps1e-3",
        (2, 3, 6),
        hidden_units=12,
        low_rank_ratio=3,
        use_bias=False,
        epsilon=1e-3,
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hidden_units=0), "hidden_units"),
        (dict(hidden_units=8.0), "hidden_units"),
        (dict(hidden_units=8, output_units=0), "output_units"),
        (dict(hidden_units=8, low_rank_ratio=0), "low_rank_ratio"),
        (dict(hidden_units=8, low_rank_ratio=9), "low_rank_ratio"),
        (dict(hidden_units=8, use_spatial="yes"), "use_spatial"),
        (dict(hidden_units=8, epsilon=-1.0), "epsilon"),
        (dict(hidden_units=8, epsilon="small"), "epsilon"),
        # The shift needs both branch widths divisible by 4.
        (dict(hidden_units=6, use_spatial=True, low_rank_ratio=1), "=6"),
        (dict(hidden_units=16, use_spatial=True), "low_rank_ratio=8"),
        (dict(hidden_units=8, use_bias=1), "use_bias"),
        (dict(hidden_units=8, kernel_initializer="nope"), "kernel_init"),
        (dict(hidden_units=8, bias_initializer="nope"), "bias_init"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolyMlp(**kwargs)


def test_channel_widths_without_shift_are_free():
    # Without the shift nothing needs a multiple of 4: 10 // 8 == 1.
    layer = PolyMlp(hidden_units=10)
    assert tuple(layer(np.zeros((2, 3), "float32")).shape) == (2, 3)
    assert tuple(layer.u2_kernel.shape) == (3, 1)


def test_spatial_needs_images():
    with pytest.raises(ValueError, match="expected ndim=4"):
        PolyMlp(8, use_spatial=True, low_rank_ratio=2)(
            np.zeros((2, 5, 3), "float32")
        )
    with pytest.raises(ValueError, match="rank 4"):
        PolyMlp(8, use_spatial=True, low_rank_ratio=2).build((2, 5, 3))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        PolyMlp(hidden_units=8).build((5,))
    with pytest.raises(ValueError, match="min_ndim=2"):
        PolyMlp(hidden_units=8)(np.zeros((5,), "float32"))


def test_wrong_last_axis_at_call():
    layer = PolyMlp(hidden_units=8)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_initialisation_follows_the_reference():
    layer = PolyMlp(hidden_units=64, output_units=48)
    layer.build((None, 96))
    value = keras.ops.convert_to_numpy
    for name in ("u1", "u2", "u3"):
        np.testing.assert_array_equal(value(getattr(layer, f"{name}_bias")), 1)
    np.testing.assert_array_equal(value(layer.c_bias), 0)
    assert float(value(layer.alpha)) == 1.0
    # kaiming_normal_: std sqrt(2 / fan_in); fan_in is the kernel's rows.
    for kernel in (layer.u1_kernel, layer.u2_kernel, layer.c_kernel):
        k = value(kernel)
        np.testing.assert_allclose(k.std(), np.sqrt(2 / k.shape[0]), rtol=0.1)
    kernels = [value(layer.u1_kernel)[:, :8], value(layer.u2_kernel)]
    assert not np.allclose(*kernels)  # each kernel its own draw


def test_spatial_on_single_pixel_equals_channel_only():
    # The shift of a 1x1 image is the identity: both modes agree there.
    x = np.random.default_rng(0).normal(size=(3, 1, 1, 8)).astype("float32")
    spatial = PolyMlp(16, use_spatial=True, low_rank_ratio=4)
    channel = PolyMlp(16, low_rank_ratio=4)
    spatial(x)
    channel(x)
    channel.set_weights(spatial.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(spatial(x)),
        keras.ops.convert_to_numpy(channel(x)),
        atol=1e-6,
    )


def test_spatial_mixes_neighbours_only():
    # One pixel changed: only its 4 neighbours move, not the pixel itself
    # (every channel group reads from a neighbour, none from the pixel).
    layer = PolyMlp(16, use_spatial=True, low_rank_ratio=4)
    x = np.random.default_rng(1).normal(size=(1, 5, 5, 4)).astype("float32")
    changed = x.copy()
    changed[0, 2, 2] += 1.0
    diff = np.abs(
        keras.ops.convert_to_numpy(layer(changed))
        - keras.ops.convert_to_numpy(layer(x))
    ).max(axis=-1)[0]
    rows, cols = np.nonzero(diff > 1e-6)
    moved = {(int(i), int(j)) for i, j in zip(rows, cols, strict=True)}
    assert moved == {(1, 2), (3, 2), (2, 1), (2, 3)}
