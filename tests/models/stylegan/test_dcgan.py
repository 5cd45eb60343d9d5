"""The DCGAN baseline: shapes, size parity with StyleGAN, saving, training."""

import keras
import numpy as np
import pytest
from gan_model_checks import check_mixed_bfloat16
from gan_model_checks import check_round_trips
from gan_model_checks import check_training_step
from gan_model_checks import to_numpy

from hadamard_zoo.models.stylegan import DCGANDiscriminator
from hadamard_zoo.models.stylegan import DCGANGenerator
from hadamard_zoo.models.stylegan import StyleGANGenerator

TINY = dict(resolution=8, channels=1, base_filters=4, max_filters=8)


def make_generator(**kwargs):
    return DCGANGenerator(**{"latent_dim": 8, **TINY, **kwargs})


def make_discriminator(**kwargs):
    return DCGANDiscriminator(**{**TINY, **kwargs})


def latents(seed, batch=3):
    return np.random.default_rng(seed).normal(size=(batch, 8)).astype("f4")


def images(seed, batch=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (batch, 8, 8, 1)).astype("float32")


@pytest.mark.parametrize(
    "upsampling, resolution",
    [("transpose", 8), ("nearest", 8), ("transpose", 4)],
)
def test_generator_shapes(upsampling, resolution):
    generator = make_generator(upsampling=upsampling, resolution=resolution)
    shape = (resolution, resolution, 1)
    assert tuple(generator.output.shape) == (None,) + shape
    if resolution == 4:
        return  # Called eagerly at 8x8 only: JAX compiles every new shape.
    out = to_numpy(generator({"z": latents(0)}))[0]
    assert out.shape == (3,) + shape
    assert np.all(np.abs(out) <= 1.0)  # tanh


@pytest.mark.parametrize("resolution", [4, 8])
def test_discriminator_shapes(resolution):
    discriminator = make_discriminator(resolution=resolution)
    assert tuple(discriminator.output.shape) == (None, 1)
    if resolution == 8:  # eagerly once: JAX compiles every new shape
        x = np.zeros((3, resolution, resolution, 1), "float32")
        assert tuple(discriminator(x).shape) == (3, 1)


def test_discriminator_normalization_flag():
    names = [layer.name for layer in make_discriminator().layers]
    assert "block_4x4_norm" not in names  # 4x4 is never read by a conv
    assert "block_8x8_norm" not in names  # the first conv: no BN (DCGAN)
    names = [
        layer.name
        for layer in make_discriminator(resolution=16, batch_norm=False).layers
    ]
    assert not [n for n in names if n.endswith("_norm")]
    names = [layer.name for layer in make_discriminator(resolution=16).layers]
    assert [n for n in names if n.endswith("_norm")] == ["block_8x8_norm"]


@pytest.mark.skipif(
    keras.backend.backend() == "jax",
    reason="parameter counts do not depend on the backend, and JAX compiles "
    "one random-number program per weight shape (about 20 s here)",
)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # the defaults: latent 128, 32x32, filters 32..128
        dict(latent_dim=64, resolution=16, base_filters=16, max_filters=64),
        dict(resolution=64, channels=3, base_filters=16, max_filters=256),
    ],
)
def test_generator_size_matches_stylegan(kwargs):
    """At equal latent and filters the two generators are within ±30%."""
    stylegan = StyleGANGenerator(
        **{"w_dim": kwargs.get("latent_dim", 128), **kwargs}
    ).count_params()
    dcgan = DCGANGenerator(**kwargs).count_params()
    assert 0.7 < dcgan / stylegan < 1.3, (dcgan, stylegan)


def test_generator_round_trips(tmp_path):
    check_round_trips(
        make_generator(upsampling="nearest"), {"z": latents(1)}, tmp_path
    )


def test_discriminator_round_trips(tmp_path):
    check_round_trips(make_discriminator(batch_norm=False), images(2), tmp_path)


def test_training_steps():
    check_training_step(make_generator(), {"z": latents(3)})
    check_training_step(make_discriminator(), images(4))


def test_mixed_bfloat16():
    generator = make_generator()
    check_mixed_bfloat16(generator, make_generator, {"z": latents(5)})
    discriminator = make_discriminator()
    check_mixed_bfloat16(discriminator, make_discriminator, images(6))


@pytest.mark.parametrize(
    "make, kwargs, match",
    [
        (make_generator, dict(resolution=24), "resolution"),
        (make_generator, dict(latent_dim=0), "latent_dim"),
        (make_generator, dict(upsampling="bilinear"), "upsampling"),
        (make_generator, dict(base_filters=-1), "base_filters"),
        (make_discriminator, dict(resolution=3), "resolution"),
        (make_discriminator, dict(channels=None), "channels"),
        (make_discriminator, dict(batch_norm="yes"), "batch_norm"),
        (make_discriminator, dict(max_filters=0), "max_filters"),
    ],
)
def test_invalid_arguments(make, kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)
