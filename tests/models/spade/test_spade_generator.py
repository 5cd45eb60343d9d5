"""SPADEGenerator: shapes, label maps, latents, saving, training, dtypes."""

import numpy as np
import pytest
from spade_references import check_mixed_bfloat16
from spade_references import check_round_trips
from spade_references import check_training_step
from spade_references import to_numpy

from hadamard_zoo.layers.modulation.spade_res_block import SPADEResBlock
from hadamard_zoo.models.spade import SPADEGenerator

TINY = dict(
    num_classes=3,
    resolution=8,
    channels=1,
    latent_dim=4,
    base_filters=4,
    max_filters=8,
    hidden_filters=4,
)


def make(**kwargs):
    return SPADEGenerator(**{**TINY, **kwargs})


def label_maps(seed, batch=3, resolution=8, num_classes=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, num_classes, (batch, resolution, resolution))


def inputs_of(generator, seed, batch=3):
    labels = label_maps(
        seed, batch, generator.resolution, generator.num_classes
    )
    inputs = {"segmap": generator.segmap_from_labels(labels)}
    if generator.latent_dim is not None:
        rng = np.random.default_rng(seed + 100)
        z = rng.normal(size=(batch, generator.latent_dim))
        inputs["z"] = z.astype("float32")
    return inputs


LARGER = dict(resolution=16, channels=3, param_free_norm="instance")


@pytest.mark.parametrize("kwargs", [{}, dict(latent_dim=None), LARGER])
def test_output_shapes(kwargs):
    generator = make(**kwargs)
    r, c = generator.resolution, generator.channels
    assert tuple(generator.output.shape) == (None, r, r, c)
    expected = {"segmap"} if generator.latent_dim is None else {"segmap", "z"}
    assert set(generator.input) == expected
    out = to_numpy(generator(inputs_of(generator, 0)))[0]
    assert out.shape == (3, r, r, c)
    assert np.all(np.abs(out) <= 1.0)  # tanh


def test_blocks_per_resolution():
    generator = make(**LARGER)
    blocks = [x for x in generator.layers if isinstance(x, SPADEResBlock)]
    assert [b.name for b in blocks] == [
        "block_4x4",
        "block_8x8",
        "block_16x16",
    ]
    # base_filters=4 at 16x16, doubling per halving, capped at 8.
    assert [b.filters for b in blocks] == [8, 8, 4]
    assert all(b.spectral_norm for b in blocks)
    assert all(b.param_free_norm == "instance" for b in blocks)


def test_segmap_from_labels_is_one_hot():
    generator = make()
    labels = label_maps(1)
    segmap = generator.segmap_from_labels(labels)
    assert segmap.shape == (3, 8, 8, 3) and segmap.dtype == np.float32
    for b, i, j in np.ndindex(labels.shape):
        row = np.zeros(3)
        row[labels[b, i, j]] = 1.0
        np.testing.assert_array_equal(segmap[b, i, j], row)


def test_the_label_map_and_the_latent_both_matter():
    generator = make()
    inputs = inputs_of(generator, 2)
    base = to_numpy(generator(inputs))[0]
    other_layout = dict(inputs, segmap=inputs_of(generator, 3)["segmap"])
    assert not np.allclose(to_numpy(generator(other_layout))[0], base)
    other_z = dict(inputs, z=inputs["z"][::-1].copy())
    assert not np.allclose(to_numpy(generator(other_z))[0], base)


def test_generate():
    generator = make()
    inputs = inputs_of(generator, 4)
    labels = label_maps(4)
    expected = to_numpy(generator(inputs))[0]
    given = to_numpy(generator.generate(labels, z=inputs["z"]))[0]
    np.testing.assert_allclose(given, expected, atol=1e-6)
    drawn = to_numpy(generator.generate(labels, seed=1))[0]
    assert drawn.shape == (3, 8, 8, 1)
    deterministic = make(latent_dim=None)
    assert to_numpy(deterministic.generate(labels))[0].shape == (3, 8, 8, 1)


def test_bad_label_maps_and_latents():
    generator = make()
    labels = label_maps(5)
    unknown = labels.copy()
    unknown[0, 0, 0] = 3
    unknown[1, 0, 0] = -1
    with pytest.raises(ValueError, match=r"unknown ids \[-1, 3\]"):
        generator.generate(unknown)
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8\)"):
        generator.generate(label_maps(5, resolution=16))
    with pytest.raises(ValueError, match=r"shape \(batch, 8, 8\)"):
        generator.generate(labels[0])
    with pytest.raises(ValueError, match="integer"):
        generator.generate(labels.astype("float32"))
    with pytest.raises(ValueError, match=r"`z` must have shape \(3, 4\)"):
        generator.generate(labels, z=np.zeros((3, 5), "float32"))
    with pytest.raises(ValueError, match="latent_dim=None"):
        make(latent_dim=None).generate(labels, z=np.zeros((3, 4), "f4"))


def test_round_trips(tmp_path):
    generator = make(latent_dim=None)
    check_round_trips(generator, inputs_of(generator, 6), tmp_path)


def test_training_step_refines_the_spectral_estimates():
    generator = make()
    u = generator.get_layer("block_8x8").conv_1[2]
    before = np.array(to_numpy(u)[0])
    check_training_step(generator, inputs_of(generator, 7))
    # fit()'s compiled step (stateless under JAX) stored the new u.
    assert not np.allclose(to_numpy(u)[0], before)


def test_mixed_bfloat16():
    generator = make()
    check_mixed_bfloat16(generator, make, inputs_of(generator, 8))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_classes=0), "num_classes"),
        (dict(resolution=10), "resolution"),
        (dict(channels=0), "channels"),
        (dict(latent_dim=0), "latent_dim"),
        (dict(base_filters=0), "base_filters"),
        (dict(max_filters=None), "max_filters"),
        (dict(hidden_filters=0), "hidden_filters"),
        (dict(param_free_norm="layer"), "param_free_norm"),
        (dict(spectral_norm=1), "spectral_norm"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make(**kwargs)
