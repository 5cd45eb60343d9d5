"""`sample_images` draws what the generators' own methods draw.

It runs each generator's compiled forward pass (`predict_on_batch`); these
tests hold it to the eager method calls it stands in for, batch by batch,
with the same latents and (StyleGAN) the same restarted noise streams.
"""

import keras
import numpy as np
import pytest

from hadamard_zoo.generation import reseed
from hadamard_zoo.generation import sample_images
from hadamard_zoo.layers.modulation.style.noise_injection import NoiseInjection
from hadamard_zoo.models.spade import SPADEGenerator
from hadamard_zoo.models.stylegan import DCGANGenerator
from hadamard_zoo.models.stylegan import StyleGANGenerator

SMALL = dict(resolution=8, base_filters=4, max_filters=8)
NUM, BATCH, SEED = 5, 2, 3


def latents(generator):
    rng = np.random.default_rng(SEED)
    return rng.standard_normal((NUM, generator.latent_dim)).astype("float32")


def eager_batches(draw):
    """The images of `draw(rows)` for each batch of `NUM` in `BATCH`s."""
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(draw(slice(i, i + BATCH)))
            for i in range(0, NUM, BATCH)
        ]
    )


def test_stylegan_matches_generate_with_its_noise():
    keras.utils.set_random_seed(0)
    generator = StyleGANGenerator(
        latent_dim=4, w_dim=4, mapping_layers=1, seed=7, **SMALL
    )
    # The noise scales start at 0; make the noise show in the images.
    for layer in generator._flatten_layers():
        if isinstance(layer, NoiseInjection):
            layer.scale.assign(np.full(layer.scale.shape, 0.5, "float32"))
    z = latents(generator)
    got = sample_images(generator, NUM, seed=SEED, batch_size=BATCH)
    reseed(generator, SEED)
    expected = eager_batches(lambda rows: generator.generate(z[rows]))
    assert got.shape == (NUM, 8, 8, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    # The noise is live: drawing again from the same seed repeats the
    # images, from another seed changes them.
    again = sample_images(generator, NUM, seed=SEED, batch_size=BATCH)
    np.testing.assert_allclose(again, got, rtol=1e-5, atol=1e-5)
    other = sample_images(generator, NUM, seed=SEED + 1, batch_size=BATCH)
    reseed(generator, SEED + 1)
    same_z = eager_batches(lambda rows: generator.generate(z[rows]))
    assert np.abs(same_z - got).max() > 1e-3
    assert np.abs(other - got).max() > 1e-3


def test_truncation_goes_through_generate():
    keras.utils.set_random_seed(0)
    generator = StyleGANGenerator(
        latent_dim=4, w_dim=4, mapping_layers=1, **SMALL
    )
    z = latents(generator)
    got = sample_images(
        generator, NUM, seed=SEED, truncation=0.5, batch_size=BATCH
    )
    expected = eager_batches(lambda rows: generator.generate(z[rows], 0.5))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_dcgan_matches_an_inference_call():
    keras.utils.set_random_seed(0)
    generator = DCGANGenerator(latent_dim=4, **SMALL)
    z = latents(generator)
    got = sample_images(generator, NUM, seed=SEED, batch_size=BATCH)
    expected = eager_batches(
        lambda rows: generator({"z": z[rows]}, training=False)
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("latent_dim", [4, None])
def test_spade_matches_generate(latent_dim):
    keras.utils.set_random_seed(0)
    generator = SPADEGenerator(
        num_classes=3, latent_dim=latent_dim, hidden_filters=4, **SMALL
    )
    maps = np.random.default_rng(1).integers(0, 3, (3, 8, 8))
    got = sample_images(
        generator, NUM, seed=SEED, label_maps=maps, batch_size=BATCH
    )
    maps = maps[np.arange(NUM) % 3]  # map n mod M for image n
    z = latents(generator) if latent_dim else None

    def draw(rows):
        return generator.generate(maps[rows], None if z is None else z[rows])

    np.testing.assert_allclose(got, eager_batches(draw), rtol=1e-5, atol=1e-5)
