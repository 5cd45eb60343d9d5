"""StyleGANGenerator: shapes, mapping, truncation, style mixing, saving."""

import keras
import numpy as np
import pytest
from gan_model_checks import assert_same_outputs
from gan_model_checks import check_mixed_bfloat16
from gan_model_checks import check_round_trips
from gan_model_checks import check_training_step
from gan_model_checks import to_numpy
from keras import ops
from stylegan_references import TINY
from stylegan_references import mapping_reference
from stylegan_references import truncation_reference

from hadamard_zoo.models.stylegan import ConstantInput
from hadamard_zoo.models.stylegan import StyleGANGenerator


def make(**kwargs):
    return StyleGANGenerator(**{**TINY, **kwargs})


def latents(seed, batch=3, dim=TINY["latent_dim"]):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, dim)).astype("float32")


def noise_scales(generator):
    return [c.noise.scale for c in generator.synthesis_convs]


def set_noise(generator, value):
    for scale in noise_scales(generator):
        scale.assign(np.full(scale.shape, value, "float32"))


def numpy_of(x):
    return np.asarray(ops.convert_to_numpy(x), "float64")


# The configurations that are called eagerly: few, so that JAX compiles
# few operation shapes.
LARGER = dict(resolution=16, mode="adain", channels=3)


@pytest.mark.parametrize("kwargs, num_ws", [({}, 4), (LARGER, 6)])
def test_output_shapes(kwargs, num_ws):
    generator = make(**kwargs)
    r, c = generator.resolution, generator.channels
    assert generator.num_ws == num_ws
    assert tuple(generator.output.shape) == (None, r, r, c)
    assert tuple(generator.input["z"].shape) == (None, TINY["latent_dim"])
    z = latents(0)
    assert tuple(generator({"z": z}).shape) == (3, r, r, c)
    ws = generator.mapping(z)
    assert tuple(ws.shape) == (3, num_ws, TINY["w_dim"])
    assert tuple(generator.synthesize(ws).shape) == (3, r, r, c)


def test_structure():
    generator = make(**LARGER)
    # base_filters=4 at 16x16, doubling per halving, capped at 8.
    assert generator.constant_input.channels == 8
    convs = generator.synthesis_convs
    assert [conv.filters for conv in convs] == [8, 8, 8, 4, 4]
    assert [conv.upsample for conv in convs] == [
        False,
        True,
        False,
        True,
        False,
    ]
    assert all(conv.mode == "adain" for conv in convs)
    assert [layer.name for layer in generator.to_rgb_layers] == [
        "to_rgb_4x4",
        "to_rgb_8x8",
        "to_rgb_16x16",
    ]
    assert make(resolution=4).num_ws == 2


def test_mapping_network_matches_numpy():
    generator = make(mapping_lr_multiplier=0.1)
    rng = np.random.default_rng(1)
    kernels, biases = [], []
    for layer in generator.mapping_dense:
        kernel = rng.normal(size=layer.kernel.shape).astype("float32")
        bias = rng.normal(size=layer.bias.shape).astype("float32")
        layer.kernel.assign(kernel)
        layer.bias.assign(bias)
        kernels.append(kernel)
        biases.append(bias)
    z = latents(2)
    expected = mapping_reference(z, kernels, biases, 0.1)
    ws = numpy_of(generator.mapping(z))
    for i in range(generator.num_ws):
        np.testing.assert_allclose(ws[:, i], expected, rtol=1e-5, atol=1e-5)


def test_constant_input_is_the_weight_for_every_sample():
    layer = ConstantInput(5, size=3)
    out = numpy_of(layer(np.zeros((4, 7), "float32")))
    constant = numpy_of(layer.constant)
    assert out.shape == (4, 3, 3, 5)
    for sample in out:
        np.testing.assert_array_equal(sample, constant)
    # The generator's first convolution reads it: changing it changes the
    # image, whatever the latent.
    generator = make()
    z = latents(3)
    before = numpy_of(generator.generate(z, noise_mode="none"))
    constant = generator.constant_input.constant
    constant.assign(numpy_of(constant).astype("float32") + 1.0)
    after = numpy_of(generator.generate(z, noise_mode="none"))
    assert not np.allclose(before, after)


def test_truncation_formula():
    generator = make()
    rng = np.random.default_rng(4)
    w_avg = rng.normal(size=(TINY["w_dim"],)).astype("float32")
    generator.w_avg.assign(w_avg)
    z = latents(5)
    w = numpy_of(generator.mapping(z))[:, 0]
    for psi in (0.0, 0.3, 1.0):
        ws = numpy_of(generator.mapping(z, psi=psi))
        expected = truncation_reference(w, w_avg, psi)
        for i in range(generator.num_ws):
            np.testing.assert_allclose(ws[:, i], expected, atol=1e-6)
    # psi = 0: every latent is w_avg, so every sample is the same image.
    images = numpy_of(generator.generate(z, psi=0.0, noise_mode="none"))
    np.testing.assert_allclose(images, images[:1].repeat(3, 0), atol=1e-6)
    assert not np.allclose(
        numpy_of(generator.generate(z, psi=1.0, noise_mode="none")), images
    )


def test_w_avg_tracks_w_in_training_calls_only():
    generator = make(w_avg_momentum=0.9)
    z = latents(6)
    w = numpy_of(generator.mapping(z))[:, 0]
    np.testing.assert_array_equal(numpy_of(generator.w_avg), 0.0)
    generator({"z": z})
    generator.generate(z)
    np.testing.assert_array_equal(numpy_of(generator.w_avg), 0.0)
    generator({"z": z}, training=True)
    first = 0.1 * w.mean(axis=0)
    np.testing.assert_allclose(numpy_of(generator.w_avg), first, atol=1e-6)
    generator({"z": z}, training=True)
    second = 0.9 * first + 0.1 * w.mean(axis=0)
    np.testing.assert_allclose(numpy_of(generator.w_avg), second, atol=1e-6)
    variable = generator.w_avg
    assert not variable.trainable and variable.dtype == "float32"


def test_style_mixing_crossover():
    generator = make()
    set_noise(generator, 0.3)
    z1, z2 = latents(7), latents(8)

    def mix(crossover):
        return numpy_of(generator.mix(z1, z2, crossover, noise_mode="none"))

    only_z2 = numpy_of(generator.generate(z2, noise_mode="none"))
    only_z1 = numpy_of(generator.generate(z1, noise_mode="none"))
    np.testing.assert_allclose(mix(0), only_z2, atol=1e-6)
    np.testing.assert_allclose(mix(generator.num_ws), only_z1, atol=1e-6)
    middle = mix(2)
    assert not np.allclose(middle, only_z1, atol=1e-4)
    assert not np.allclose(middle, only_z2, atol=1e-4)
    # The per-layer latents are what mix() hands to synthesize().
    ws1, ws2 = numpy_of(generator.mapping(z1)), numpy_of(generator.mapping(z2))
    ws = np.concatenate([ws1[:, :2], ws2[:, 2:]], axis=1).astype("float32")
    np.testing.assert_allclose(
        numpy_of(generator.synthesize(ws, noise_mode="none")),
        middle,
        atol=1e-6,
    )


def test_model_call_is_synthesis_of_the_mapping():
    """The graph and the methods share their layers and weights."""
    generator = make()
    z = latents(9)
    assert_same_outputs(
        generator({"z": z}),
        generator.synthesize(generator.mapping(z)),
        atol=1e-6,
    )
    # A (batch, w_dim) latent is used for every layer.
    w = generator.mapping(z)[:, 0]
    assert_same_outputs(generator.synthesize(w), generator({"z": z}), atol=1e-6)


def test_noise_modes():
    generator = make(seed=3)
    set_noise(generator, 0.5)
    z = latents(10)
    a = numpy_of(generator.generate(z))
    b = numpy_of(generator.generate(z))
    assert not np.allclose(a, b)
    quiet = [numpy_of(generator.generate(z, noise_mode="none")) for _ in "ab"]
    np.testing.assert_array_equal(quiet[0], quiet[1])


def test_round_trips(tmp_path):
    generator = make(seed=1)
    check_round_trips(generator, {"z": latents(11)}, tmp_path)


def test_training_step_updates_weights_and_w_avg():
    generator = make()
    z = {"z": latents(12)}
    check_training_step(generator, z)
    # fit()'s compiled step threads w_avg through (JAX's stateless step
    # included): it moved from 0.
    assert np.any(numpy_of(generator.w_avg) != 0.0)


def test_mixed_bfloat16():
    generator = make()
    z = latents(13)
    mixed = check_mixed_bfloat16(generator, make, {"z": z})
    assert mixed.w_avg.dtype == "float32"
    images = mixed.mix(z, z[::-1], 1, psi=0.5)
    assert keras.backend.standardize_dtype(images.dtype) == "bfloat16"
    assert np.all(np.isfinite(to_numpy(images)[0]))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(resolution=6), "resolution"),
        (dict(resolution=2), "resolution"),
        (dict(resolution=32.0), "resolution"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(w_dim=None), "w_dim"),
        (dict(mapping_layers=0), "mapping_layers"),
        (dict(channels=0), "channels"),
        (dict(base_filters=0), "base_filters"),
        (dict(max_filters=1.5), "max_filters"),
        (dict(mode="stylegan3"), "mode"),
        (dict(mapping_lr_multiplier=0.0), "mapping_lr_multiplier"),
        (dict(w_avg_momentum=1.5), "w_avg_momentum"),
        (dict(skip_interpolation="cubic"), "skip_interpolation"),
        (dict(seed=-1), "seed"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)


def test_invalid_method_arguments():
    generator = make()
    z = latents(14)
    with pytest.raises(ValueError, match=r"`z` must have shape \(batch, 8\)"):
        generator.generate(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="psi"):
        generator.generate(z, psi=1.5)
    with pytest.raises(ValueError, match="psi"):
        generator.mapping(z, psi=-0.1)
    with pytest.raises(ValueError, match="crossover"):
        generator.mix(z, z, generator.num_ws + 1)
    with pytest.raises(ValueError, match="z2"):
        generator.mix(z, z[:, :3], 1)
    with pytest.raises(ValueError, match="ws"):
        generator.synthesize(np.zeros((3, 2, TINY["w_dim"]), "float32"))
    with pytest.raises(ValueError, match="noise_mode"):
        generator.synthesize(generator.mapping(z), noise_mode="const")
