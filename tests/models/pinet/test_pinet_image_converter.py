import json

import keras
import numpy as np
import pytest

from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifierPreprocessor
from hadamard_zoo.models.pinet import PiNetImageConverter

LUMA = np.array([0.299, 0.587, 0.114])


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _rgb(shape=(2, 6, 6, 3), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, shape).astype("uint8")


def test_rgb_to_grayscale_uses_bt601_luma():
    images = _rgb()
    gray = _np(PiNetImageConverter(channels=1)(images))
    assert gray.shape == (2, 6, 6, 1)
    assert keras.backend.standardize_dtype(gray.dtype) == "float32"
    expected = (images.astype("float64") @ LUMA)[..., None]
    np.testing.assert_allclose(gray, expected, rtol=1e-6, atol=1e-4)


def test_grayscale_to_rgb_repeats_the_channel():
    images = _rgb((2, 5, 5, 1))
    rgb = _np(PiNetImageConverter(channels=3)(images))
    assert rgb.shape == (2, 5, 5, 3)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, np.repeat(images, 3, axis=-1))


def test_unbatched_and_channels_first():
    image = _rgb((6, 6, 3))
    gray = _np(PiNetImageConverter(channels=1)(image))
    np.testing.assert_allclose(
        gray, (image.astype("float64") @ LUMA)[..., None], atol=1e-4
    )
    first = np.moveaxis(_rgb(), -1, 1)  # (2, 3, 6, 6)
    converter = PiNetImageConverter(channels=1, data_format="channels_first")
    gray = _np(converter(first))
    assert gray.shape == (2, 1, 6, 6)
    expected = np.einsum("bchw,c->bhw", first.astype("float64"), LUMA)
    np.testing.assert_allclose(gray[:, 0], expected, atol=1e-4)
    rgb = _np(
        PiNetImageConverter(channels=3, data_format="channels_first")(
            first[:, :1]
        )
    )
    np.testing.assert_array_equal(rgb, np.repeat(first[:, :1], 3, axis=1))


def test_matching_channels_and_none_are_left_as_is():
    images = _rgb()
    np.testing.assert_array_equal(
        _np(PiNetImageConverter(channels=3)(images)), images
    )
    four = _rgb((2, 6, 6, 4))
    np.testing.assert_array_equal(_np(PiNetImageConverter()(four)), four)


def test_resize_then_scale_and_offset():
    converter = PiNetImageConverter(
        image_size=(28, 28), scale=1.0 / 255, offset=-0.5, channels=1
    )
    out = _np(converter(_rgb((2, 32, 32, 3))))
    assert out.shape == (2, 28, 28, 1)
    assert out.min() >= -0.5 - 1e-6 and out.max() <= 0.5 + 1e-6
    # A constant image stays constant through the resize.
    constant = np.full((1, 32, 32, 3), 255, "uint8")
    np.testing.assert_allclose(_np(converter(constant)), 0.5, atol=1e-5)


@pytest.mark.parametrize(
    "channels, shape", [(1, (2, 6, 6, 2)), (3, (2, 6, 6, 4)), (1, (6, 6, 5))]
)
def test_bad_channel_count_raises(channels, shape):
    converter = PiNetImageConverter(channels=channels)
    with pytest.raises(ValueError, match=r"shape \(.*\)"):
        converter(np.zeros(shape, "uint8"))


@pytest.mark.parametrize("channels", [0, 2, "1", True, 1.0])
def test_invalid_channels_argument(channels):
    with pytest.raises(ValueError, match="channels"):
        PiNetImageConverter(channels=channels)


def test_config_round_trip():
    converter = PiNetImageConverter(
        image_size=(28, 28), scale=1.0 / 255, channels=3
    )
    config = json.loads(json.dumps(converter.get_config()))
    assert config["channels"] == 3
    clone = PiNetImageConverter.from_config(config)
    images = _rgb((2, 30, 30, 1))
    np.testing.assert_array_equal(_np(clone(images)), _np(converter(images)))
    assert PiNetImageConverter.backbone_cls is PiNetBackbone


def test_preprocessor_scales_uint8_to_floats():
    preprocessor = PiNetImageClassifierPreprocessor(
        PiNetImageConverter(image_size=(8, 8), scale=1.0 / 255)
    )
    images = _rgb((4, 8, 8, 1))
    labels = np.arange(4)
    x, y = preprocessor(images, labels)
    x = _np(x)
    assert keras.backend.standardize_dtype(x.dtype) == "float32"
    np.testing.assert_allclose(x, images / 255.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(_np(y), labels)
    x, y, w = preprocessor(images, labels, np.ones(4))
    np.testing.assert_array_equal(_np(w), np.ones(4))


def test_preprocessor_in_tf_data():
    """The tf.data path (used by Task.fit / predict) converts channels too."""
    tf = pytest.importorskip("tensorflow")
    preprocessor = PiNetImageClassifierPreprocessor(
        PiNetImageConverter(image_size=(4, 4), scale=1.0 / 255, channels=1)
    )
    images = _rgb((4, 4, 4, 3))
    ds = tf.data.Dataset.from_tensor_slices((images, np.arange(4)))
    ds = ds.batch(2).map(preprocessor)
    x, y = next(iter(ds))
    assert tuple(x.shape) == (2, 4, 4, 1)
    assert x.dtype == tf.float32
    expected = (images[:2].astype("float64") @ LUMA)[..., None] / 255.0
    np.testing.assert_allclose(x.numpy(), expected, atol=1e-5)
