import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d

from hadamard_zoo.layers.modulation.partial_conv2d import PartialConv2D


def partial_conv_reference(
    inputs, weights, strides=(1, 1), padding="same", dilation=(1, 1)
):
    """out = (W ⊛ (X * M)) · sum(1)/sum(M) + b where sum(M) > 0, else 0;
    M' = 1[sum(M) > 0], broadcast to the output channels."""
    x, mask = (a.astype("float64") for a in inputs)
    mask = np.broadcast_to(mask, x.shape)
    kernel = weights["kernel"].astype("float64")
    kh, kw, channels, filters = kernel.shape
    ones = np.ones((kh, kw, channels, 1))
    count = conv2d(mask, ones, strides, padding, dilation)  # sum(M)
    valid = (count > 0).astype("float64")
    ratio = np.where(
        valid > 0, kh * kw * channels / np.maximum(count, 1e-30), 0
    )
    out = conv2d(x * mask, kernel, strides, padding, dilation) * ratio
    if "bias" in weights:
        out = out + weights["bias"]
    out = out * valid
    new_mask = np.broadcast_to(valid, out.shape[:-1] + (filters,))
    return [out, new_mask]


# The harness draws every input from `input_range`, the mask included: a
# soft mask in (0, 1) exercises the same formula; the binary masks with
# holes are tested below.
CASES = [
    LayerCase(
        name="partial_conv2d_same",
        layer_cls=PartialConv2D,
        init_kwargs=dict(filters=4, kernel_size=3),
        input_shapes=[(2, 6, 6, 3), (2, 6, 6, 3)],
        reference=partial_conv_reference,
        input_range=(0.0, 1.0),
    ),
    LayerCase(
        name="partial_conv2d_stride2_valid_nobias_rect",
        layer_cls=PartialConv2D,
        init_kwargs=dict(
            filters=3,
            kernel_size=(3, 2),
            strides=2,
            padding="valid",
            use_bias=False,
        ),
        input_shapes=[(2, 7, 6, 2), (2, 7, 6, 2)],
        reference=lambda x, w: partial_conv_reference(x, w, (2, 2), "valid"),
        input_range=(0.0, 1.0),
    ),
    LayerCase(
        name="partial_conv2d_stride2_same_even_kernel_1ch_mask",
        layer_cls=PartialConv2D,
        init_kwargs=dict(filters=2, kernel_size=4, strides=2),
        input_shapes=[(2, 7, 7, 3), (2, 7, 7, 1)],
        reference=lambda x, w: partial_conv_reference(x, w, (2, 2), "same"),
        input_range=(0.0, 1.0),
    ),
    LayerCase(
        name="partial_conv2d_dilated",
        layer_cls=PartialConv2D,
        init_kwargs=dict(filters=3, kernel_size=3, dilation_rate=2),
        input_shapes=[(1, 7, 7, 2), (1, 7, 7, 2)],
        reference=lambda x, w: partial_conv_reference(x, w, dilation=(2, 2)),
        input_range=(0.0, 1.0),
    ),
]

test_harness = layer_tests(CASES)


def _numpy(tensors):
    return [keras.ops.convert_to_numpy(t) for t in tensors]


def _layer_with_random_weights(rng, **kwargs):
    layer = PartialConv2D(**kwargs)
    x = rng.uniform(-1, 1, (2, 9, 8, 3)).astype("float32")
    layer([x, np.ones_like(x)])
    weights = {}
    for variable in layer.weights:
        name = variable.path.split("/")[-1]
        value = rng.uniform(-0.5, 0.5, variable.shape).astype("float32")
        variable.assign(value)
        weights[name] = value
    return layer, x, weights


def _binary_mask(rng, shape):
    mask = (rng.uniform(size=shape) > 0.3).astype("float32")
    mask[:, 2:8, 1:7, :] = 0.0  # a hole larger than the kernel
    return mask


@pytest.mark.parametrize(
    "kwargs, strides, padding",
    [
        (dict(filters=4), (1, 1), "same"),
        (dict(filters=2, strides=2, padding="valid"), (2, 2), "valid"),
        (dict(filters=2, use_bias=False), (1, 1), "same"),
    ],
)
def test_binary_mask_with_holes_matches_reference(kwargs, strides, padding):
    rng = np.random.default_rng(0)
    layer, x, weights = _layer_with_random_weights(rng, **kwargs)
    mask = _binary_mask(rng, x.shape)
    output, new_mask = _numpy(layer([x, mask]))
    expected, expected_mask = partial_conv_reference(
        [x, mask], weights, strides, padding
    )
    assert 0 < expected_mask.sum() < expected_mask.size  # holes remain
    np.testing.assert_array_equal(new_mask, expected_mask)
    np.testing.assert_allclose(output, expected, atol=1e-5, rtol=1e-5)
    assert np.all(output[new_mask == 0] == 0)  # no bias in the holes


def test_output_ignores_the_pixels_under_the_holes():
    rng = np.random.default_rng(1)
    layer, x, _ = _layer_with_random_weights(rng, filters=3)
    mask = _binary_mask(rng, x.shape)
    changed = np.where(mask == 0, rng.normal(size=x.shape) * 100, x)
    first, _ = _numpy(layer([x, mask]))
    second, _ = _numpy(layer([changed.astype("float32"), mask]))
    np.testing.assert_allclose(first, second, atol=1e-5)


def test_full_mask_with_valid_padding_is_a_plain_convolution():
    rng = np.random.default_rng(2)
    layer, x, weights = _layer_with_random_weights(
        rng, filters=3, padding="valid"
    )
    output, new_mask = _numpy(layer([x, np.ones_like(x)]))
    plain = conv2d(x, weights["kernel"]) + weights["bias"]
    np.testing.assert_allclose(output, plain, atol=1e-5, rtol=1e-5)
    assert np.all(new_mask == 1)


def test_same_padding_renormalises_the_borders():
    # All-ones input and mask, kernel of ones: every window sums to the
    # window size after renormalisation, borders included.
    layer = PartialConv2D(
        filters=1, kernel_size=3, use_bias=False, kernel_initializer="ones"
    )
    x = np.ones((1, 5, 5, 2), "float32")
    output, _ = _numpy(layer([x, x]))
    np.testing.assert_allclose(output, np.full((1, 5, 5, 1), 18.0), rtol=1e-6)


def test_stacked_layers_shrink_the_hole():
    x = np.ones((1, 12, 12, 2), "float32")
    mask = np.ones_like(x)
    mask[:, 3:9, 3:9, :] = 0.0  # a 6x6 hole
    first = PartialConv2D(filters=4, kernel_size=3)
    second = PartialConv2D(filters=4, kernel_size=3)
    _, mask1 = first([x, mask])
    _, mask2 = second(first([x, mask]))
    holes = [
        int(np.sum(keras.ops.convert_to_numpy(m)[0, :, :, 0] == 0))
        for m in (mask1, mask2)
    ]
    assert holes == [16, 4]


@pytest.mark.parametrize("dtype", ["bool", "int32", "uint8"])
def test_bool_and_int_masks_are_cast(dtype):
    rng = np.random.default_rng(3)
    layer, x, _ = _layer_with_random_weights(rng, filters=2)
    mask = _binary_mask(rng, x.shape)
    expected = _numpy(layer([x, mask]))
    actual = _numpy(layer([x, mask.astype(dtype)]))
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(a, e)


def test_bool_mask_in_a_functional_model():
    x = keras.Input((6, 6, 2))
    mask = keras.Input((6, 6, 2), dtype="bool")
    output, new_mask = PartialConv2D(filters=3)([x, mask])
    model = keras.Model([x, mask], [output, new_mask])
    values = model.predict(
        [np.ones((1, 6, 6, 2), "float32"), np.ones((1, 6, 6, 2), bool)],
        verbose=0,
    )
    assert [tuple(v.shape) for v in values] == [(1, 6, 6, 3)] * 2


def test_mask_of_an_unsupported_dtype_is_rejected():
    layer = PartialConv2D(filters=2)
    x = np.ones((1, 5, 5, 2), "float32")
    with pytest.raises(TypeError, match="dtype complex64"):
        layer([x, np.ones((1, 5, 5, 2), "complex64")])


@pytest.mark.parametrize(
    "mask_shape",
    [
        (1, 5, 4, 2),  # other width
        (1, 4, 5, 2),  # other height
        (2, 5, 5, 2),  # other batch
        (1, 5, 5, 3),  # other channels, not 1
        (1, 5, 5),  # rank 3
    ],
)
def test_mask_of_a_wrong_shape_is_rejected(mask_shape):
    x = np.ones((1, 5, 5, 2), "float32")
    with pytest.raises(ValueError, match="mask of the shape of x"):
        PartialConv2D(filters=2)([x, np.ones(mask_shape, "float32")])
    built = PartialConv2D(filters=2)
    built([x, x])
    with pytest.raises(ValueError, match="mask"):
        built([x, np.ones(mask_shape, "float32")])


def test_symbolic_mask_of_a_wrong_shape_is_rejected():
    x = keras.Input((5, 5, 2))
    mask = keras.Input((5, 4, 2))
    with pytest.raises(ValueError, match="mask of the shape of x"):
        PartialConv2D(filters=2)([x, mask])


def test_single_input_is_rejected():
    with pytest.raises(ValueError, match=r"\[x, mask\]"):
        PartialConv2D(filters=2)(np.ones((1, 5, 5, 2), "float32"))


def test_wrong_channels_after_build():
    layer = PartialConv2D(filters=2)
    x = np.ones((1, 5, 5, 2), "float32")
    layer([x, x])
    other = np.ones((1, 5, 5, 3), "float32")
    with pytest.raises(ValueError, match="axis -1"):
        layer([other, other])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(filters=2, kernel_size=0), "kernel_size"),
        (dict(filters=2, kernel_size=(3, 3, 3)), "kernel_size"),
        (dict(filters=2, strides=(1, 0)), "strides"),
        (dict(filters=2, padding="causal"), "padding"),
        (dict(filters=2, dilation_rate=0), "dilation_rate"),
        (dict(filters=2, strides=2, dilation_rate=2), "dilation_rate"),
        (dict(filters=2, use_bias=1), "use_bias"),
        (dict(filters=2, kernel_initializer="nope"), "kernel_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PartialConv2D(**kwargs)
