import math

import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from test_modulated_conv2d import modulated_conv_reference

from hadamard_zoo.layers.modulation.style.to_rgb import ToRGB


def bilinear_2x(image):
    """Bilinear resize to twice the size, half-pixel centres, by loops.

    Output pixel i samples the input at (i + 0.5) / 2 - 0.5, interpolating
    between its two neighbours, indices clamped to the image.
    """
    batch, height, width, channels = image.shape
    out = np.zeros((batch, 2 * height, 2 * width, channels))

    def taps(i, size):
        position = (i + 0.5) / 2 - 0.5
        low = math.floor(position)
        frac = position - low
        clamp = lambda j: min(max(j, 0), size - 1)  # noqa: E731
        return [(clamp(low), 1 - frac), (clamp(low + 1), frac)]

    for i in range(2 * height):
        for j in range(2 * width):
            for r, wr in taps(i, height):
                for c, wc in taps(j, width):
                    out[:, i, j] += wr * wc * image[:, r, c]
    return out


def to_rgb_reference(inputs, weights, interpolation="bilinear"):
    """modconv_1x1(x, w) (no demodulation) + b (+ upsample_2x(skip))."""
    y = modulated_conv_reference(
        inputs[:2], weights, demodulate=False, prefix="conv/"
    )
    y = y + weights["bias"]
    if len(inputs) == 3:
        skip = inputs[2].astype("float64")
        if interpolation == "bilinear":
            y = y + bilinear_2x(skip)
        else:
            y = y + skip.repeat(2, axis=1).repeat(2, axis=2)
    return y


CASES = [
    LayerCase(
        name="to_rgb_no_skip",
        layer_cls=ToRGB,
        init_kwargs=dict(),
        input_shapes=[(2, 3, 3, 4), (2, 5)],
        reference=to_rgb_reference,
    ),
    LayerCase(
        name="to_rgb_bilinear_skip",
        layer_cls=ToRGB,
        init_kwargs=dict(),
        input_shapes=[(2, 4, 6, 2), (2, 3), (2, 2, 3, 3)],
        reference=to_rgb_reference,
    ),
    LayerCase(
        name="to_rgb_nearest_skip_gray",
        layer_cls=ToRGB,
        init_kwargs=dict(channels=1, skip_interpolation="nearest"),
        input_shapes=[(2, 4, 2, 3), (2, 4), (2, 2, 1, 1)],
        reference=lambda x, w: to_rgb_reference(x, w, "nearest"),
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(seed, x_shape=(2, 6, 4, 5), w_dim=3, channels=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype("float32")
    w = rng.normal(size=(x_shape[0], w_dim)).astype("float32")
    half = (x_shape[0], x_shape[1] // 2, x_shape[2] // 2, channels)
    skip = rng.normal(size=half).astype("float32")
    return x, w, skip


def test_reference_bilinear_matches_keras_resize():
    """The skip up-sampling is keras.ops.image.resize's "bilinear"."""
    _, _, skip = _inputs(0, x_shape=(2, 8, 6, 5))
    resized = keras.ops.image.resize(skip, (8, 6), interpolation="bilinear")
    np.testing.assert_allclose(_numpy(resized), bilinear_2x(skip), atol=1e-6)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_skip_is_added_after_upsampling(interpolation):
    x, w, skip = _inputs(1)
    layer = ToRGB(skip_interpolation=interpolation)
    difference = _numpy(layer([x, w, skip])) - _numpy(layer([x, w]))
    if interpolation == "bilinear":
        expected = bilinear_2x(skip)
    else:
        expected = skip.repeat(2, axis=1).repeat(2, axis=2)
    np.testing.assert_allclose(difference, expected, atol=1e-5)


def test_skip_with_undefined_spatial_size():
    """In a model with undefined height and width, the skip is still
    doubled to the features' size at run time."""
    x_in = keras.Input((None, None, 5))
    w_in = keras.Input((3,))
    skip_in = keras.Input((None, None, 3))
    layer = ToRGB()
    model = keras.Model([x_in, w_in, skip_in], layer([x_in, w_in, skip_in]))
    x, w, skip = _inputs(2)
    expected = _numpy(layer([x, w])) + bilinear_2x(skip)
    y = model.predict([x, w, skip], verbose=0)
    np.testing.assert_allclose(y, expected, atol=1e-5)


def test_no_demodulation_output_scales_with_the_style():
    x, w, _ = _inputs(3)
    layer = ToRGB()
    before = _numpy(layer([x, w])) - _numpy(layer.bias)
    for variable in layer.conv.affine.weights:
        variable.assign(_numpy(variable) * 2.0)
    after = _numpy(layer([x, w])) - _numpy(layer.bias)
    np.testing.assert_allclose(after, 2.0 * before, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(channels=0), "channels"),
        (dict(channels="rgb"), "channels"),
        (dict(skip_interpolation="bicubic"), "skip_interpolation"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ToRGB(**kwargs)


@pytest.mark.parametrize(
    "skip_shape", [(2, 3, 2, 1), (2, 6, 4, 3), (2, 2, 2, 3)], ids=str
)
def test_skip_of_wrong_shape_rejected(skip_shape):
    x, w, _ = _inputs(4)
    with pytest.raises(ValueError, match="skip image"):
        ToRGB()([x, w, np.zeros(skip_shape, "float32")])


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"\[x, w, skip\]"):
        ToRGB()(np.zeros((2, 4, 4, 3), "float32"))
