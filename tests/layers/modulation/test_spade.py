import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.spade import SPADE

EPSILON = 1e-5


def nearest_indices(in_size, out_size):
    """Half-pixel-centre nearest neighbour: floor((i + 0.5) * in / out).

    Exact integer arithmetic, clipped to the last input pixel.
    """
    i = np.arange(out_size)
    return np.minimum(((2 * i + 1) * in_size) // (2 * out_size), in_size - 1)


def resize_nearest(x, height, width):
    rows = nearest_indices(x.shape[1], height)
    cols = nearest_indices(x.shape[2], width)
    return x[:, rows][:, :, cols]


def conv_same(x, kernel, bias=None):
    """Stride-1 convolution, zero padding k // 2 on every side (odd k)."""
    kh, kw = kernel.shape[:2]
    ph, pw = kh // 2, kw // 2
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + kernel.shape[-1:])
    for di in range(kh):
        for dj in range(kw):
            patch = padded[:, di : di + height, dj : dj + width]
            out += patch @ kernel[di, dj]
    return out if bias is None else out + bias


def instance_norm(x, epsilon):
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = ((x - mean) ** 2).mean(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon)


def batch_norm_inference(x, weights, epsilon):
    mean = weights["param_free_norm/moving_mean"]
    var = weights["param_free_norm/moving_variance"]
    return (x - mean) / np.sqrt(var + epsilon)


def spade_reference(inputs, weights, norm="batch", epsilon=EPSILON):
    """n = Norm(x); a = ReLU(conv(resize(seg))); y = n * (1 + γ(a)) + β(a)."""
    x, seg = (v.astype("float64") for v in inputs)
    if norm == "batch":
        normalized = batch_norm_inference(x, weights, epsilon)
    else:
        normalized = instance_norm(x, epsilon)
    seg = resize_nearest(seg, *x.shape[1:3])
    hidden = conv_same(
        seg, weights["shared_kernel"], weights.get("shared_bias")
    )
    hidden = np.maximum(hidden, 0.0)
    gamma = conv_same(
        hidden, weights["gamma_kernel"], weights.get("gamma_bias")
    )
    beta = conv_same(hidden, weights["beta_kernel"], weights.get("beta_bias"))
    return normalized * (1.0 + gamma) + beta


# Moving statistics near those of the U(-1, 1) golden inputs (mean 0,
# variance 1/3): the training check evaluates in inference mode before and
# after three training steps, whose momentum updates of the moving averages
# must not outweigh the gradient steps.
MOVING_STATS = {
    "moving_mean": lambda rng, shape: rng.uniform(-0.1, 0.1, shape),
    "moving_variance": lambda rng, shape: rng.uniform(0.25, 0.45, shape),
}

CASES = [
    LayerCase(
        name="spade_batch_downsample2",
        layer_cls=SPADE,
        init_kwargs=dict(hidden_filters=4),
        input_shapes=[(2, 4, 4, 3), (2, 8, 8, 2)],
        reference=spade_reference,
        weight_overrides=MOVING_STATS,
    ),
    LayerCase(
        name="spade_instance_fractional_resize_k5",
        layer_cls=SPADE,
        init_kwargs=dict(
            hidden_filters=3,
            kernel_size=5,
            param_free_norm="instance",
            epsilon=1e-3,
        ),
        input_shapes=[(2, 4, 6, 2), (2, 3, 5, 3)],
        reference=lambda x, w: spade_reference(x, w, "instance", 1e-3),
        weight_scale=0.3,
    ),
    LayerCase(
        name="spade_instance_same_size_k1_nobias",
        layer_cls=SPADE,
        init_kwargs=dict(
            hidden_filters=4,
            kernel_size=1,
            param_free_norm="instance",
            use_bias=False,
        ),
        input_shapes=[(2, 3, 3, 3), (2, 3, 3, 2)],
        reference=lambda x, w: spade_reference(x, w, "instance"),
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize(
    "in_size, out_size",
    [(8, 4), (16, 4), (4, 8), (3, 5), (5, 3), (2, 3), (7, 2), (6, 6)],
)
def test_reference_resize_matches_keras_nearest(in_size, out_size):
    """The reference's pixel choice is keras.ops.image.resize's "nearest"."""
    x = np.arange(in_size * 2, dtype="float32").reshape(1, in_size, 2, 1)
    x = np.repeat(x, 2, axis=0)
    y = keras.ops.image.resize(x, (out_size, 2), interpolation="nearest")
    np.testing.assert_array_equal(_numpy(y), resize_nearest(x, out_size, 2))


def test_spatial_size_unknown_until_run_time():
    """In a model with undefined spatial axes (TF retraces `predict` with
    them set to None), the segmap is resized to each call's feature size,
    picking the same pixels as keras.ops.image.resize."""
    layer = SPADE(hidden_filters=3, param_free_norm="instance")
    x_in, seg_in = keras.Input((None, None, 2)), keras.Input((None, None, 3))
    model = keras.Model([x_in, seg_in], layer([x_in, seg_in]))
    weights = {
        v.path[len(layer.name) + 1 :]: _numpy(v).astype("float64")
        for v in layer.weights
    }
    rng = np.random.default_rng(2)
    for x_size, seg_size in [
        ((4, 6), (8, 5)),
        ((3, 3), (3, 3)),
        ((5, 2), (2, 7)),
    ]:
        x = rng.normal(size=(2, *x_size, 2)).astype("float32")
        seg = rng.uniform(size=(2, *seg_size, 3)).astype("float32")
        y = model.predict([x, seg], verbose=0)
        expected = spade_reference([x, seg], weights, "instance")
        np.testing.assert_allclose(y, expected, atol=1e-5, rtol=1e-5)


def test_zero_modulation_is_the_plain_normalization():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, (2, 4, 4, 3)).astype("float32")
    seg = rng.uniform(size=(2, 8, 8, 2)).astype("float32")
    layer = SPADE(
        hidden_filters=4, param_free_norm="instance", kernel_initializer="zeros"
    )
    y = _numpy(layer([x, seg]))
    expected = instance_norm(x.astype("float64"), EPSILON)
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_training_uses_batch_statistics():
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 3.0, (3, 4, 4, 2)).astype("float32")
    seg = rng.uniform(size=(3, 4, 4, 2)).astype("float32")
    layer = SPADE(hidden_filters=3)
    layer([x, seg])
    weights = {
        v.path[len(layer.name) + 1 :]: _numpy(v).astype("float64")
        for v in layer.weights
    }
    mean = x.mean(axis=(0, 1, 2)).astype("float64")
    weights["param_free_norm/moving_mean"] = mean
    weights["param_free_norm/moving_variance"] = x.var(axis=(0, 1, 2))
    y = _numpy(layer([x, seg], training=True))
    np.testing.assert_allclose(
        y, spade_reference([x, seg], weights), atol=1e-4, rtol=1e-4
    )


def test_one_hot_labels_set_the_modulation_per_region():
    """Away from borders, pixels of the same label get the same γ and β.

    The two 3x3 convolutions see 5x5 neighbourhoods: columns 2-3 see only
    label 0, columns 8-9 only label 1 (rows 2-9 see no image border).
    """
    labels = np.zeros((1, 12, 12), "int64")
    labels[:, :, 6:] = 1
    seg = np.eye(2, dtype="float32")[labels]
    x = np.zeros((1, 12, 12, 2), "float32")  # normalised to 0: y = β
    y = _numpy(SPADE(hidden_filters=4, param_free_norm="instance")([x, seg]))
    inner = y[0, 2:10]
    for columns in (inner[:, 2:4], inner[:, 8:10]):
        constant = np.broadcast_to(columns[:1, :1], columns.shape)
        np.testing.assert_allclose(columns, constant, atol=1e-6)
    assert not np.allclose(inner[0, 2], inner[0, 8])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(hidden_filters=0), "hidden_filters"),
        (dict(hidden_filters=2.0), "hidden_filters"),
        (dict(kernel_size=4), "kernel_size"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(param_free_norm="layer"), "param_free_norm"),
        (dict(param_free_norm="syncbatch"), "param_free_norm"),
        (dict(param_free_norm=None), "param_free_norm"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(momentum=1.5), "momentum"),
        (dict(use_bias="no"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SPADE(**kwargs)


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"list of 2 inputs \[x, segmap\]"):
        SPADE()(np.zeros((2, 4, 4, 3), "float32"))


def test_segmap_with_fewer_dims_rejected():
    with pytest.raises(ValueError, match="segmentation map"):
        SPADE(hidden_filters=2)(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 8, 8), "f4")]
        )


def test_features_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="features x"):
        SPADE(hidden_filters=2)(
            [np.zeros((2, 4, 3), "float32"), np.zeros((2, 8, 8, 2), "f4")]
        )


def test_mismatched_batch_rejected():
    with pytest.raises(ValueError, match="same batch size"):
        SPADE(hidden_filters=2)(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((3, 4, 4, 2), "f4")]
        )


def test_wrong_label_count_after_build_rejected():
    layer = SPADE(hidden_filters=2)
    layer([np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 8, 8, 2), "f4")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 8, 8, 3), "f4")])
