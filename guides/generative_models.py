# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Generative models: styles and layouts multiply the features
#
# In StyleGAN2 a style `s = A(w)`, an affine map of the latent `w`,
# multiplies the kernel of every convolution element-wise (modulation), and
# the result is rescaled to unit norm (demodulation):
#
# ```
# w'_ijk  = s_i * w_ijk
# w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + eps)
# ```
#
# In SPADE the semantic layout does the same to the activations: a
# per-pixel scale `γ(m)` and shift `β(m)`, computed from the label map `m`,
# modulate the normalised features: `γ(m) * (x - μ) / σ + β(m)`.
#
# This guide
#
# 1. loads the bundled `stylegan_fashion_mnist` preset by name and samples
#    a grid of garments,
# 2. walks between two latents, mixes the styles of two latents and trades
#    diversity for typicality with the truncation trick,
# 3. loads the bundled `spade_fashion_mnist` preset and draws garments from
#    label maps, one of them drawn by hand,
# 4. trains a SPADE generator with `GANTrainer` on labelled silhouettes
#    (a short run of the same recipe).
#
# Images are written as PNG files beside the guide and shown inline in
# the notebook. It runs on TensorFlow, JAX or PyTorch (set
# `KERAS_BACKEND` before the first `import keras`). In Colab, open
# `guides/generative_models.ipynb` instead: its first cell installs the
# package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) the SPADE run is a few
# steps long, enough to show the API but not to learn garments.

# %%
import dataclasses
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import hadamard_zoo
from hadamard_zoo import datasets
from hadamard_zoo.generation import sample_images
from hadamard_zoo.generation import sample_label_maps
from hadamard_zoo.image_grid import image_grid
from hadamard_zoo.presets import preset_info
from hadamard_zoo.training import RECIPES
from hadamard_zoo.training.image_generation import GenerationBatches
from hadamard_zoo.training.image_generation import build_trainer

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
print("backend:", keras.backend.backend())


def show(images, title, path, columns=None):
    """Shows a batch of [-1, 1] images as one grid and saves it."""
    grid = image_grid(np.asarray(images), columns=columns)
    plt.figure(figsize=(grid.shape[1] / 24, grid.shape[0] / 24))
    plt.imshow(grid[..., 0], cmap="gray", vmin=0, vmax=255)
    plt.title(title)
    plt.axis("off")
    plt.tight_layout()
    plt.savefig(path, dpi=80)
    print(f"wrote {path}")
    plt.show()
    plt.close()


# %% [markdown]
# ## 1. Load by name and sample
#
# `load_generator` returns the generator that shipped: the exponential
# moving average of the trained weights. `sample_images` draws the latents
# with NumPy from a seed, so a seed gives the same latents on every
# backend. The preset's `metrics.json` records how it was trained and its
# FID, measured with the features of this project's Fashion-MNIST
# classifier (not comparable to the Inception FID of papers).

# %%
generator = hadamard_zoo.load_generator("stylegan_fashion_mnist")
print(f"{generator.count_params():,} parameters, num_ws={generator.num_ws}")
print("recorded:", preset_info("stylegan_fashion_mnist")["metric"])

images = sample_images(generator, 32, seed=0)
assert images.shape == (32, 32, 32, 1)
assert np.isfinite(images).all()
show(images, "stylegan_fashion_mnist, seed 0", "samples.png", columns=8)

# %% [markdown]
# ## 2. Walk, mix and truncate
#
# The mapping network turns `z` into `w`; `synthesize` draws the image of
# given per-layer latents. Walking in `w` changes the garment smoothly
# (noise off, so only `w` changes).

# %%
rng = np.random.default_rng(1)
z = rng.normal(size=(2, generator.latent_dim)).astype("float32")
w = keras.ops.convert_to_numpy(generator.mapping(z))  # (2, num_ws, w_dim)
steps = np.linspace(0.0, 1.0, 8)[:, None, None]
walk = (1 - steps) * w[0] + steps * w[1]
frames = keras.ops.convert_to_numpy(
    generator.synthesize(walk, noise_mode="none")
)
show(frames, "a walk from one w to another", "walk.png", columns=8)
# Neighbouring frames differ less than the two ends do.
step_change = np.abs(np.diff(frames, axis=0)).mean()
end_change = np.abs(frames[-1] - frames[0]).mean()
print(f"mean change per step {step_change:.3f}, end to end {end_change:.3f}")
assert step_change < end_change

# %% [markdown]
# **Style mixing.** `mix(z1, z2, crossover)` styles the layers before
# `crossover` with `w(z1)` and the others with `w(z2)`. The first layers
# work at 4x4 and 8x8: they set the silhouette, the later ones the
# texture and shading. Each row below keeps one `z1` (left column) and
# takes the later styles of each `z2` (top row).

# %%
rows, columns = 4, 5
z1 = rng.normal(size=(rows, generator.latent_dim)).astype("float32")
z2 = rng.normal(size=(columns, generator.latent_dim)).astype("float32")
crossover = 4
tiles = [np.full((32, 32, 1), -1.0, "float32")]  # the empty corner
tiles += list(
    keras.ops.convert_to_numpy(generator.generate(z2, noise_mode="none"))
)
sources = keras.ops.convert_to_numpy(generator.generate(z1, noise_mode="none"))
for row in range(rows):
    tiles.append(sources[row])
    mixed = generator.mix(
        np.repeat(z1[row : row + 1], columns, axis=0),
        z2,
        crossover=crossover,
        noise_mode="none",
    )
    tiles += list(keras.ops.convert_to_numpy(mixed))
show(
    np.stack(tiles),
    f"style mixing at layer {crossover} of {generator.num_ws}",
    "style_mixing.png",
    columns=columns + 1,
)
# crossover=num_ws is z1 alone, crossover=0 is z2 alone.
alone = generator.mix(
    z1, z1[::-1], crossover=generator.num_ws, noise_mode="none"
)
np.testing.assert_allclose(
    keras.ops.convert_to_numpy(alone), sources, atol=1e-5
)

# %% [markdown]
# **Truncation.** `generate(z, psi)` moves every `w` towards the average
# latent `w_avg`: `w_avg + psi (w - w_avg)`. Lower `psi` gives more typical
# and less varied images; `psi = 0` gives the average garment for every
# `z`.

# %%
z = rng.normal(size=(8, generator.latent_dim)).astype("float32")
psis = [1.0, 0.7, 0.4, 0.0]
rows = [
    keras.ops.convert_to_numpy(generator.generate(z, psi=p, noise_mode="none"))
    for p in psis
]
show(
    np.concatenate(rows),
    "truncation psi = " + ", ".join(map(str, psis)) + " (rows)",
    "truncation.png",
    columns=8,
)
spread = [float(r.std(axis=0).mean()) for r in rows]
print("pixel spread across the 8 latents:", np.round(spread, 3).tolist())
assert spread[0] > spread[2] > spread[3]
assert spread[3] < 1e-5  # psi = 0: one image

# %% [markdown]
# ## 3. SPADE: a garment from its label map
#
# SPADE's input is a label map: here each training image's silhouette
# labelled with its class (`id = class + 1`, background 0). The bundled
# `spade_fashion_mnist` preset was trained on such maps for 5000 steps
# (`hadamard-zoo train spade_fashion_mnist`). Its `metrics.json` records
# its FID and how often the Fashion-MNIST classifier recognises, in an
# image generated from the silhouette of a test garment, the class that
# silhouette asked for.

# %%
spade = hadamard_zoo.load_generator("spade_fashion_mnist")
recorded = preset_info("spade_fashion_mnist")["metrics"]
print(
    f"{spade.count_params():,} parameters; FID {recorded['value']:.2f} "
    f"(floor {recorded['floor']:.2f}); the classifier finds the requested "
    f"class in {recorded['class_accuracy']:.1%} of generated images "
    f"({recorded['real_class_accuracy']:.1%} of the real ones)"
)

# %% [markdown]
# Label maps of 8 test images (bundled with the package), and one drawn
# by hand: a pair of trousers (class 1, so id 2), two legs joined at the
# waist. Each map is drawn with 3 latents.

# %%
maps = sample_label_maps("fashion_mnist")
drawn = np.zeros((32, 32), "int32")
drawn[4:9, 9:23] = 2  # the waist
drawn[9:29, 9:15] = 2  # the left leg
drawn[9:29, 17:23] = 2  # the right leg
maps = np.concatenate([maps, drawn[None]])
num_ids = spade.num_classes  # label ids 0 .. num_classes - 1
label_pictures = (maps / (num_ids - 1) * 2 - 1)[..., None].astype("float32")


def draw_from_maps(generator, title, path):
    """3 samples per label map, each row led by its map; the samples."""
    images = sample_images(generator, 3 * len(maps), seed=0, label_maps=maps)
    # sample_images draws image n from map n mod M: regroup them by map.
    images = images.reshape(3, len(maps), 32, 32, 1).transpose(1, 0, 2, 3, 4)
    tiles = np.concatenate([label_pictures[:, None], images], axis=1)
    show(tiles.reshape(-1, 32, 32, 1), title, path, columns=4)
    assert np.isfinite(images).all()
    # The garment (bright) inside its silhouette, the background (-1,
    # black) outside it.
    mask = np.broadcast_to(maps[:, None, ..., None] > 0, images.shape)
    inside, outside = images[mask].mean(), images[~mask].mean()
    print(f"mean pixel inside {inside:.2f}, outside {outside:.2f}")
    return inside, outside


inside, outside = draw_from_maps(
    spade, "label map, then 3 samples (spade_fashion_mnist)", "spade.png"
)
assert inside > outside + 0.5

# %% [markdown]
# ## 4. Train SPADE with `GANTrainer`
#
# The same recipe trains a fresh generator and its multi-scale PatchGAN
# discriminator with the same losses (hinge, feature matching), here for
# 400 steps instead of 5000 (527 s with JAX on a 2-core CPU),
# `GANTrainer` running the adversarial updates inside `fit()`.

# %%
recipe = RECIPES["spade_fashion_mnist"]
train_steps = 4 if QUICK else 400
recipe = dataclasses.replace(
    recipe, steps=train_steps, steps_per_epoch=train_steps
)
images, classes = datasets.load_fashion_mnist("train")
batches = GenerationBatches(
    images,
    classes,
    recipe.batch_size,
    recipe.steps_per_epoch,
    seed=recipe.seed,
    resolution=recipe.resolution,
)
keras.utils.set_random_seed(recipe.seed)
trainer = build_trainer(recipe)
history = trainer.fit(batches, epochs=1, verbose=0 if QUICK else 1)
for name, values in history.history.items():
    print(f"{name}: {values[-1]:.3f}")
    assert np.isfinite(values[-1]), name

inside, outside = draw_from_maps(
    trainer.generator,
    f"label map, then 3 samples (SPADE after {train_steps} steps)",
    "spade_short_run.png",
)
if not QUICK:
    assert inside > outside + 0.5

# %% [markdown]
# After 400 steps the garments already take the shape of their maps, the
# drawn trousers included: a run with JAX measured a mean pixel of 0.44
# inside the silhouettes and -0.99 outside them; textures and the details
# that tell a shirt from a pullover need the full 5000-step recipe. The
# same trainer trains the unconditional generators: `hadamard-zoo train
# stylegan_fashion_mnist` reproduces the bundled preset, and `hadamard-zoo
# generate stylegan_fashion_mnist --num 64 --out grid.png --truncation 0.7`
# draws a grid from the command line.

# %%
print("guide finished: OK")
