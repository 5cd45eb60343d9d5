"""Multi-scale PatchGAN discriminator and its layers."""

import keras
import numpy as np
import pytest
from spade_references import assert_same_outputs
from spade_references import average_downsample_reference
from spade_references import check_mixed_bfloat16
from spade_references import check_round_trips
from spade_references import check_training_step
from spade_references import padded_conv_reference
from spade_references import spectral_sigma_reference
from spade_references import to_numpy

from hadamard_zoo.models.spade import AverageDownsample
from hadamard_zoo.models.spade import PatchGANDiscriminator
from hadamard_zoo.models.spade import SpectralConv2D

TINY = dict(
    image_shape=(8, 8, 1),
    num_classes=3,
    num_scales=2,
    num_layers=2,
    base_filters=4,
    max_filters=8,
)


def make(**kwargs):
    return PatchGANDiscriminator(**{**TINY, **kwargs})


def inputs_of(discriminator, seed, batch=3):
    rng = np.random.default_rng(seed)
    shape = discriminator.image_shape
    images = rng.uniform(-1, 1, (batch,) + shape).astype("float32")
    if discriminator.num_classes is None:
        return images
    labels = rng.integers(0, discriminator.num_classes, (batch,) + shape[:2])
    segmap = np.eye(discriminator.num_classes, dtype="float32")[labels]
    return [images, segmap]


def shapes(outputs):
    return [[tuple(t.shape)[1:] for t in scale] for scale in outputs]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (
            dict(),
            [
                [(5, 5, 4), (6, 6, 8), (7, 7, 1)],
                [(3, 3, 4), (4, 4, 8), (5, 5, 1)],
            ],
        ),
        (
            # SPADE's n_layers_D=4 at 32x32, one scale: strides 2, 2, 2, 1.
            dict(image_shape=(32, 32, 3), num_scales=1, num_layers=4),
            [[(17, 17, 4), (9, 9, 8), (5, 5, 8), (6, 6, 8), (7, 7, 1)]],
        ),
        (
            dict(num_classes=None, num_scales=3, num_layers=1),
            [
                [(5, 5, 4), (6, 6, 1)],
                [(3, 3, 4), (4, 4, 1)],
                [(2, 2, 4), (3, 3, 1)],
            ],
        ),
    ],
)
def test_output_structure(kwargs, expected):
    discriminator = make(**kwargs)
    assert shapes(discriminator.output) == expected
    if kwargs:
        return  # Called eagerly below only: JAX compiles every new shape.
    outputs = discriminator(inputs_of(discriminator, 0))
    assert isinstance(outputs, list) and len(outputs) == len(expected)
    assert all(isinstance(scale, list) for scale in outputs)
    assert shapes(outputs) == expected


def test_single_scale_keeps_the_nesting():
    """One scale is still a list of one list, called, predicted or nested."""
    discriminator = make(num_scales=1)
    x = inputs_of(discriminator, 7)
    expected = [[(5, 5, 4), (6, 6, 8), (7, 7, 1)]]
    assert shapes(discriminator(x)) == expected
    predicted = discriminator.predict(x, verbose=0)
    assert [[t.shape[1:] for t in scale] for scale in predicted] == expected
    outer = [keras.Input((8, 8, 1)), keras.Input((8, 8, 3))]
    assert shapes(discriminator(outer)) == expected


def test_coarser_scale_reads_the_downsampled_input():
    """Scale 1 of a 2-scale model == a 1-scale model on pooled inputs."""
    two = make(num_classes=None)
    one = make(num_classes=None, num_scales=1, image_shape=(4, 4, 1))
    for layer in one.layers:
        if layer.weights:
            source = two.get_layer(layer.name.replace("scale_0", "scale_1"))
            layer.set_weights(source.get_weights())
    x = inputs_of(two, 1)
    pooled = to_numpy(AverageDownsample()(x))[0].astype("float32")
    assert_same_outputs(one(pooled)[0], two(x)[1], atol=1e-5)


def test_average_downsample_matches_numpy():
    x = np.random.default_rng(2).normal(size=(2, 7, 6, 3)).astype("f4")
    layer = AverageDownsample()
    expected = average_downsample_reference(x)
    np.testing.assert_allclose(to_numpy(layer(x))[0], expected, atol=1e-6)
    assert layer.compute_output_shape(x.shape) == expected.shape


@pytest.mark.parametrize("spectral_norm", [False, True])
def test_spectral_conv_matches_numpy(spectral_norm):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 6, 6, 3)).astype("float32")
    layer = SpectralConv2D(
        5, 4, strides=2, padding=2, spectral_norm=spectral_norm
    )
    layer.build(x.shape)
    kernel = rng.normal(size=(4, 4, 3, 5)).astype("float32")
    bias = rng.normal(size=(5,)).astype("float32")
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    sigma = 1.0
    if spectral_norm:
        u = rng.normal(size=(5,)).astype("float32")
        layer.u.assign(u)
        sigma, _ = spectral_sigma_reference(kernel, u, 0)
    expected = padded_conv_reference(x, kernel / sigma, bias, 2, 2)
    actual = to_numpy(layer(x))[0]
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)
    assert layer.compute_output_shape(x.shape) == expected.shape
    if not spectral_norm:
        return
    # A training call takes one power step and stores it.
    sigma, u_after = spectral_sigma_reference(kernel, u, 1)
    trained = to_numpy(layer(x, training=True))[0]
    expected = padded_conv_reference(x, kernel / sigma, bias, 2, 2)
    np.testing.assert_allclose(trained, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(to_numpy(layer.u)[0], u_after, atol=1e-5)
    # Many steps converge to the largest singular value.
    for _ in range(200):
        layer(x, training=True)
    matrix = kernel.reshape(-1, 5)
    top = np.linalg.svd(matrix, compute_uv=False)[0]
    estimate, _ = spectral_sigma_reference(kernel, to_numpy(layer.u)[0], 0)
    np.testing.assert_allclose(estimate, top, rtol=1e-3)


def test_round_trips(tmp_path):
    discriminator = make()
    check_round_trips(discriminator, inputs_of(discriminator, 4), tmp_path)


def test_training_step_on_the_logits():
    discriminator = make()
    u = discriminator.get_layer("scale_1_logits").u
    before = np.array(to_numpy(u)[0])
    check_training_step(
        discriminator,
        inputs_of(discriminator, 5),
        select=lambda outputs: [scale[-1] for scale in outputs],
    )
    assert not np.allclose(to_numpy(u)[0], before)


def test_mixed_bfloat16():
    discriminator = make()
    check_mixed_bfloat16(discriminator, make, inputs_of(discriminator, 6))


def test_unconditional_input_is_the_image_alone():
    discriminator = make(num_classes=None)
    assert not isinstance(discriminator.input, list)
    assert tuple(discriminator.input.shape) == (None, 8, 8, 1)
    conditional = make()
    assert [tuple(t.shape) for t in conditional.input] == [
        (None, 8, 8, 1),
        (None, 8, 8, 3),
    ]
    assert keras.tree.flatten(conditional.output)[-1].shape[-1] == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_shape=(8, 8)), "image_shape"),
        (dict(image_shape=(8, 0, 1)), "image_shape"),
        (dict(num_classes=0), "num_classes"),
        (dict(num_scales=0), "num_scales"),
        (dict(num_layers=0), "num_layers"),
        (dict(base_filters=0), "base_filters"),
        (dict(max_filters=-2), "max_filters"),
        (dict(normalization="batch"), "normalization"),
        (dict(spectral_norm="no"), "spectral_norm"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)
