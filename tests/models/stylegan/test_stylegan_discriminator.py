"""StyleGANDiscriminator and its minibatch standard deviation layer."""

import numpy as np
import pytest
from gan_model_checks import check_mixed_bfloat16
from gan_model_checks import check_round_trips
from gan_model_checks import check_training_step
from gan_model_checks import to_numpy
from keras import ops
from stylegan_references import minibatch_std_reference

from hadamard_zoo.models.stylegan import MinibatchStandardDeviation
from hadamard_zoo.models.stylegan import StyleGANDiscriminator

TINY = dict(resolution=8, channels=1, base_filters=4, max_filters=8)


def make(**kwargs):
    return StyleGANDiscriminator(**{**TINY, **kwargs})


def images(seed, batch=4, resolution=8, channels=1):
    rng = np.random.default_rng(seed)
    shape = (batch, resolution, resolution, channels)
    return rng.uniform(-1, 1, shape).astype("float32")


@pytest.mark.parametrize("resolution", [4, 8])
def test_output_shapes(resolution):
    discriminator = make(resolution=resolution)
    assert tuple(discriminator.output.shape) == (None, 1)
    assert tuple(discriminator.input.shape) == (None,) + (resolution,) * 2 + (
        1,
    )
    if resolution == 8:  # eagerly once: JAX compiles every new shape
        x = images(0, resolution=resolution)
        assert tuple(discriminator(x).shape) == (4, 1)


def test_structure():
    discriminator = make(resolution=16, channels=3)
    names = [layer.name for layer in discriminator.layers]
    blocks = [n for n in names if n.endswith("_skip") and "pool" not in n]
    assert blocks == ["block_16x16_skip", "block_8x8_skip"]
    # base_filters=4 at 16x16, doubling per halving, capped at 8.
    assert discriminator.get_layer("from_rgb").filters == 4
    assert discriminator.get_layer("block_16x16_conv_1").filters == 8
    assert discriminator.get_layer("block_8x8_conv_1").filters == 8
    assert discriminator.get_layer("epilogue_conv").filters == 8
    assert not discriminator.get_layer("block_8x8_skip").use_bias
    assert tuple(discriminator.input.shape) == (None, 16, 16, 3)


@pytest.mark.parametrize(
    "batch, group_size, num_channels",
    [(8, 4, 2), (4, 4, 1), (2, 4, 1), (6, 2, 3)],
)
def test_minibatch_std_matches_numpy(batch, group_size, num_channels):
    rng = np.random.default_rng(batch + group_size)
    x = rng.normal(size=(batch, 3, 2, 6)).astype("float32")
    layer = MinibatchStandardDeviation(group_size, num_channels)
    expected = minibatch_std_reference(x, group_size, num_channels)
    actual = to_numpy(layer(x))[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(x.shape) == expected.shape


def test_minibatch_std_groups_interleave():
    """Sample n is in group n mod M: stats differ between the groups."""
    x = np.zeros((4, 1, 1, 1), "float32")
    x[0], x[2] = 1.0, -1.0  # group 0 = samples 0 and 2, spread; group 1 flat
    y = to_numpy(MinibatchStandardDeviation(group_size=2)(x))[0][..., 1]
    np.testing.assert_allclose(y.ravel(), [1.0, 0.0, 1.0, 0.0], atol=1e-3)


def test_minibatch_std_errors():
    layer = MinibatchStandardDeviation(group_size=4)
    with pytest.raises(ValueError, match="multiple of min"):
        layer(np.zeros((6, 2, 2, 4), "float32"))
    with pytest.raises(ValueError, match="num_channels"):
        MinibatchStandardDeviation(num_channels=3)(
            np.zeros((4, 2, 2, 4), "float32")
        )


def test_compiled_predict_equals_eager():
    """predict() runs with an unknown batch axis (a TF graph): the group
    size is taken at run time there."""
    discriminator = make()
    x = images(1, batch=8)
    eager = to_numpy(discriminator(x))[0]
    compiled = discriminator.predict(x, batch_size=4, verbose=0)
    halves = np.concatenate(
        [to_numpy(discriminator(x[:4]))[0], to_numpy(discriminator(x[4:]))[0]]
    )
    np.testing.assert_allclose(compiled, halves, rtol=1e-5, atol=1e-5)
    # Eagerly the 8 samples form other groups ({0, 2, 4, 6}, {1, 3, 5, 7})
    # than the two batches of 4: a minibatch statistic depends on them.
    assert eager.shape == (8, 1)
    assert not np.allclose(eager, halves, atol=1e-6)


def test_round_trips(tmp_path):
    check_round_trips(make(mbstd_num_channels=2), images(2), tmp_path)


def test_training_step():
    check_training_step(make(), images(3))


def test_mixed_bfloat16():
    discriminator = make()
    check_mixed_bfloat16(discriminator, make, images(4))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(resolution=12), "resolution"),
        (dict(resolution=1), "resolution"),
        (dict(channels=0), "channels"),
        (dict(base_filters=0), "base_filters"),
        (dict(max_filters=0), "max_filters"),
        (dict(mbstd_group_size=0), "mbstd_group_size"),
        (dict(mbstd_num_channels=3), "mbstd_num_channels"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_logits_depend_on_the_image():
    discriminator = make()
    a = to_numpy(discriminator(images(5)))[0]
    b = to_numpy(discriminator(ops.convert_to_tensor(images(6))))[0]
    assert not np.allclose(a, b)
