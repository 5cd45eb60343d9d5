"""Image generator presets: loading them and drawing images from them.

A generator preset is a keras-hub Backbone (`StyleGANGenerator`,
`DCGANGenerator` or `SPADEGenerator`) saved with `save_to_preset`, with no
task: `load_generator` is to it what `hadamard_zoo.load_classifier` is to
a classifier preset. `sample_images` draws a batch from any of the three,
reproducibly for a given seed on a given backend.
"""

import pathlib

import keras
import numpy as np

from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

# Images per forward pass when sampling.
BATCH_SIZE = 256
SEED_STATE = "seed_generator_state"


def generator_classes():
    """The Backbone classes a generator preset may hold."""
    from hadamard_zoo.models.spade import SPADEGenerator
    from hadamard_zoo.models.stylegan import DCGANGenerator
    from hadamard_zoo.models.stylegan import StyleGANGenerator

    return (StyleGANGenerator, DCGANGenerator, SPADEGenerator)


def load_generator(preset):
    """Loads a generator preset (bundled name or preset directory).

    Args:
        preset: a bundled preset name (e.g. `"stylegan_fashion_mnist"`), a
            preset directory, or an `hf://` / `kaggle://` handle.

    Returns:
        The generator: a `StyleGANGenerator`, `DCGANGenerator` or
        `SPADEGenerator`.

    Raises:
        ValueError: the name is unknown, the directory does not exist, the
            preset holds something other than a generator, or its files
            are missing or corrupted.

    Example:

    >>> import tempfile
    >>> from hadamard_zoo.models.stylegan import DCGANGenerator
    >>> path = tempfile.mkdtemp()
    >>> DCGANGenerator(
    ...     latent_dim=4, resolution=8, base_filters=2, max_filters=4
    ... ).save_to_preset(path)
    >>> type(load_generator(path)).__name__
    'DCGANGenerator'
    """
    from keras_hub.src.utils.preset_utils import check_config_class
    from keras_hub.src.utils.preset_utils import load_json

    from hadamard_zoo import presets

    location = presets.resolve(preset)
    if "://" not in str(location) and not pathlib.Path(location).is_dir():
        raise ValueError(
            f"Preset {preset!r}: no such directory. Expected a bundled "
            "preset name or a directory written by `save_to_preset`."
        )
    try:
        cls = check_config_class(
            load_json(location, presets.PRESET_CONFIG_FILE)
        )
    except (OSError, KeyError, ValueError) as error:
        raise ValueError(
            f"Could not read preset {preset!r} ({location}): "
            f"{type(error).__name__}: {error}"
        ) from error
    classes = generator_classes()
    if not (isinstance(cls, type) and issubclass(cls, classes)):
        raise ValueError(
            f"Preset {preset!r} holds a {getattr(cls, '__name__', cls)}, "
            "not an image generator (one of "
            f"{', '.join(c.__name__ for c in classes)}). Classifier presets "
            "load with `hadamard_zoo.load_classifier`."
        )
    try:
        return cls.from_preset(location)
    except (OSError, KeyError, RuntimeError) as error:
        raise ValueError(
            f"Could not load preset {preset!r} from {location}: its files "
            f"are missing or corrupted ({type(error).__name__}: {error})."
        ) from error


def reseed(model, seed):
    """Restarts every random stream of `model` from `seed`.

    Keras saves weights but not the state of `SeedGenerator`s (the noise of
    StyleGAN's layers, a trainer's latent draws), and a generator rebuilt
    from a preset starts them anywhere. Stream `i`, in the order of
    `model.variables`, restarts at `[s_i, 0]` with `s_i` drawn from
    `numpy.random.default_rng([seed, i])`, so the draws that follow are a
    function of `seed` (on one backend: each backend has its own random
    algorithm).

    Args:
        model: a Keras layer or model.
        seed: int >= 0, or a sequence of them (`[seed, epoch]`).

    Returns:
        The number of streams restarted.

    Example:

    >>> layer = keras.layers.GaussianNoise(1.0, seed=3)
    >>> reseed(layer, 7)
    1
    """
    streams = [v for v in model.variables if v.name == SEED_STATE]
    for i, state in enumerate(streams):
        entropy = list(np.atleast_1d(seed)) + [i]
        start = np.random.default_rng(entropy).integers(0, 2**31 - 1)
        state.assign(np.array([start, 0], dtype=state.dtype))
    return len(streams)


def sample_images(
    generator,
    num,
    seed=0,
    truncation=None,
    label_maps=None,
    batch_size=BATCH_SIZE,
):
    """Draws `num` images from a generator, reproducibly.

    The latents are `z ~ N(0, I)` drawn by NumPy from `seed` (the same on
    every backend); the generator's own noise streams are restarted from
    `seed` too (see `reseed`). Images come in inference mode:

    - `StyleGANGenerator`: `generate(z, psi)` with `psi = truncation`
      (`None`: 1, no truncation);
    - `DCGANGenerator`: `G(z)`;
    - `SPADEGenerator`: `generate(labels, z)`, image `n` drawn from label
      map `n mod M` of the `M` given.

    Args:
        generator: a `StyleGANGenerator`, `DCGANGenerator` or
            `SPADEGenerator`.
        num: int >= 1, the number of images.
        seed: int >= 0, the seed of the latents and noise. Defaults to
            `0`.
        truncation: optional float in [0, 1], StyleGAN's `psi`. Defaults
            to `None` (no truncation); other generators take no
            truncation.
        label_maps: int array of shape `(M, resolution, resolution)`:
            SPADE's class ids (required for SPADE, refused otherwise).
        batch_size: int, images per forward pass. Defaults to `256`.

    Returns:
        float32 NumPy array of shape `(num, resolution, resolution,
        channels)`, values in about [-1, 1].

    Example:

    >>> from hadamard_zoo.models.stylegan import DCGANGenerator
    >>> generator = DCGANGenerator(
    ...     latent_dim=4, resolution=8, base_filters=2, max_filters=4
    ... )
    >>> sample_images(generator, 3, seed=1).shape
    (3, 8, 8, 1)
    """
    from hadamard_zoo.models.spade import SPADEGenerator
    from hadamard_zoo.models.stylegan import StyleGANGenerator

    num = check_int("num", num)
    seed = check_int("seed", seed, minimum=0)
    batch_size = check_int("batch_size", batch_size)
    name = type(generator).__name__
    is_stylegan = isinstance(generator, StyleGANGenerator)
    is_spade = isinstance(generator, SPADEGenerator)
    if not isinstance(generator, generator_classes()):
        raise ValueError(
            "`generator` must be a StyleGANGenerator, DCGANGenerator or "
            f"SPADEGenerator. Received: {name}."
        )
    if truncation is not None:
        if not is_stylegan:
            raise ValueError(
                "`truncation` applies to StyleGAN generators only (it "
                f"pulls w towards their tracked average); {name} has "
                f"none. Received: truncation={truncation}."
            )
        truncation = check_float("truncation", truncation, 0.0, 1.0)
    if is_spade:
        if label_maps is None:
            raise ValueError(
                "A SPADEGenerator draws images from label maps: pass "
                "`label_maps` (int ids, shape (M, resolution, resolution))."
            )
        label_maps = np.asarray(label_maps)
        # Checks shape and ids once, with SPADE's own message.
        generator.segmap_from_labels(label_maps)
        label_maps = label_maps[np.arange(num) % len(label_maps)]
    elif label_maps is not None:
        raise ValueError(
            f"`label_maps` are for SPADE generators; {name} draws from a "
            "latent alone."
        )

    rng = np.random.default_rng(seed)
    latent_dim = generator.latent_dim
    z = None
    if latent_dim is not None:
        z = rng.standard_normal((num, latent_dim)).astype("float32")
    reseed(generator, seed)
    images = []
    for start in range(0, num, batch_size):
        rows = slice(start, start + batch_size)
        # Each generator's functional call is its image of untruncated
        # latents (and label maps): `predict_on_batch` compiles it once,
        # on JAX about 2x faster than eager calls. Truncation is a method.
        if is_spade:
            inputs = {"segmap": generator.segmap_from_labels(label_maps[rows])}
            if z is not None:
                inputs["z"] = z[rows]
            batch = generator.predict_on_batch(inputs)
        elif truncation is not None:
            batch = generator.generate(z[rows], psi=truncation)
        else:
            batch = generator.predict_on_batch({"z": z[rows]})
        images.append(np.asarray(keras.ops.convert_to_numpy(batch)))
    return np.concatenate(images).astype("float32")


def sample_label_maps(dataset="fashion_mnist", resolution=32):
    """Label maps of the test images bundled in `hadamard_zoo.samples`.

    The 8 sample images of `dataset`, each turned into its silhouette
    labelled with its class (`hadamard_zoo.training.label_maps`), padded
    to `resolution`: layouts a SPADE preset trained on that dataset knows.

    Args:
        dataset: `"fashion_mnist"` or `"mnist"`. Defaults to
            `"fashion_mnist"`.
        resolution: int >= 28, the maps' height and width. Defaults to
            `32`.

    Returns:
        int32 array of shape `(8, resolution, resolution)`, ids in
        [0, 10].

    Example:

    >>> maps = sample_label_maps()
    >>> maps.shape, int(maps.max()) <= 10
    ((8, 32, 32), True)
    """
    from hadamard_zoo import samples
    from hadamard_zoo.training.label_maps import silhouette_label_maps

    if dataset not in ("fashion_mnist", "mnist"):
        raise ValueError(
            "`dataset` must be 'fashion_mnist' or 'mnist'. Received: "
            f"dataset={dataset!r}."
        )
    images, classes = samples.load_samples(dataset)
    return silhouette_label_maps(
        images, np.asarray(classes).astype("int64"), size=resolution
    )
