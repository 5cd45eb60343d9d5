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
# # Hadamard-product adapters: LoRA vs LoHa vs HiRA on a Π-Net
#
# Parameter-efficient fine-tuning trains a small update `ΔW` of each frozen
# kernel `W0` instead of the kernel itself. `hadamard_zoo.adapters` adds two
# updates built from Hadamard products (`*`) next to Keras's own LoRA:
#
# ```
# LoRA:  W = W0 + A B                  rank(ΔW) <= r
# LoHa:  W = W0 + (A1 B1) * (A2 B2)    rank(ΔW) <= r²
# HiRA:  W = W0 + W0 * (A B)           rank(ΔW) up to full
# ```
#
# This guide takes the bundled `pinet_prodpoly_mnist` preset (a
# product-of-polynomials ResNet trained on MNIST digits) and fine-tunes it
# on Fashion-MNIST four ways, each from a fresh copy of the preset, with the
# same data, optimizer, steps and seed:
#
# 1. full fine-tuning (every weight trains),
# 2. LoRA, 3. LoHa and 4. HiRA on every `Conv2D` layer, at equal
#    trainable-parameter budgets, the 10-way head trained in every method.
#
# It prints a table of trainable parameters and test accuracy, then shows
# how to merge the adapters into plain layers for inference and how to
# ship one small adapter file per task beside one base model.
#
# It runs on TensorFlow, JAX or PyTorch (set `KERAS_BACKEND` before the
# first `import keras`). In Colab, open
# `guides/hadamard_adapters.ipynb` instead: its first cell installs
# the package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) the fine-tuning uses a
# tiny subset so the whole guide takes seconds.

# %%
import os
import tempfile
import time

import keras
import numpy as np

import hadamard_zoo
from hadamard_zoo import adapters
from hadamard_zoo import datasets

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
PRESET = "pinet_prodpoly_mnist"
SEED = 0
print("backend:", keras.backend.backend())

# %% [markdown]
# ## 1. The data and the training recipe
#
# Fashion-MNIST loads offline from `$HADAMARD_ZOO_DATA` (or the Keras cache;
# it is downloaded when online and missing). The full run trains on 6,000
# images for 2 epochs (a few minutes on a laptop CPU) and evaluates on the
# whole 10,000-image test set. Every method uses the same recipe: Adam at
# `3e-3`, batch 128. (Adapters usually like a larger learning rate than
# full fine-tuning; `3e-3` is a middle ground, picked on a validation
# split held out of the training set, not on the test set.)

# %%
train_images, train_labels = datasets.load_fashion_mnist("train")
test_images, test_labels = datasets.load_fashion_mnist("test")
NUM_TRAIN, NUM_TEST, EPOCHS = (256, 512, 1) if QUICK else (6000, 10000, 2)
BATCH_SIZE, LEARNING_RATE = 128, 3e-3
train_images, train_labels = train_images[:NUM_TRAIN], train_labels[:NUM_TRAIN]
test_images, test_labels = test_images[:NUM_TEST], test_labels[:NUM_TEST]
# The preset's preprocessor takes raw uint8 images, with a channel axis.
train_images, test_images = train_images[..., None], test_images[..., None]
print(f"train: {len(train_images)} images, test: {len(test_images)} images")

# %% [markdown]
# ## 2. Where the adapters go
#
# The preset's `Conv2D` layers sit inside `ProdPolyBlock` sublayers of the
# backbone; the adapter functions find them anywhere in the model. The
# head, `predictions`, is a `Dense` layer for the new task: it is not
# adapted but trained in full by every method.


# %%
def is_conv(layer):
    return isinstance(layer, keras.layers.Conv2D)


base = hadamard_zoo.load_classifier(PRESET)
convs = [layer for layer in base._flatten_layers() if is_conv(layer)]
for layer in convs:
    print(f"{layer.path:<28} kernel {tuple(layer.kernel.shape)}")
head = base.get_layer("predictions")
print(f"{'predictions':<28} kernel {tuple(head.kernel.shape)}")
FULL_PARAMS = adapters.trainable_parameter_count(base)
print(f"full fine-tuning trains {FULL_PARAMS:,} parameters")

# %% [markdown]
# ## 3. Equal budgets
#
# Seeing each kernel as an `(in, out)` matrix (`in = kh·kw·c_in`), LoRA and
# HiRA train `r (in + out)` parameters per layer and LoHa, with two factor
# pairs, `2 r (in + out)`. So LoRA and HiRA at rank `2r` and LoHa at rank
# `r` have exactly the same budget. The smallest kernel, the stem's
# `3·3·1 = 9` inputs, caps the rank at 9: we use LoRA and HiRA at rank 8
# and LoHa at rank 4.

# %%
METHODS = {
    # name: (enable function or None for full fine-tuning, rank)
    "full fine-tuning": (None, None),
    "LoRA": (adapters.enable_lora, 8),
    "LoHa": (adapters.enable_loha, 4),
    "HiRA": (adapters.enable_hira, 8),
}


def load_for(method):
    """A fresh copy of the preset, ready to fine-tune with `method`."""
    enable, rank = METHODS[method]
    keras.utils.set_random_seed(SEED)
    model = hadamard_zoo.load_classifier(PRESET)
    if enable is not None:
        # Adapts every Conv2D layer and freezes every other weight ...
        enable(model, rank=rank, targets=is_conv)
        # ... so the new task's head is unfrozen explicitly.
        model.get_layer("predictions").trainable = True
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


# %% [markdown]
# Before training, the MNIST head knows nothing of clothes:

# %%
_, accuracy = load_for("full fine-tuning").evaluate(
    test_images, test_labels, batch_size=256, verbose=0
)
print(f"preset as is, Fashion-MNIST test accuracy: {accuracy:.4f}")

# %% [markdown]
# ## 4. Fine-tune four ways

# %%
models, rows = {}, []
for method, (_, rank) in METHODS.items():
    model = load_for(method)
    params = adapters.trainable_parameter_count(model)
    keras.utils.set_random_seed(SEED)
    start = time.perf_counter()
    model.fit(
        train_images,
        train_labels,
        batch_size=BATCH_SIZE,
        epochs=EPOCHS,
        verbose=0,
    )
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(
        test_images, test_labels, batch_size=256, verbose=0
    )
    models[method] = model
    rows.append((method, rank, params, accuracy, seconds))
    print(f"{method}: accuracy {accuracy:.4f}, {seconds:.0f} s")

# %% [markdown]
# The adapter budgets are equal (the head's 1,290 parameters are included
# in every count):

# %%
adapter_budgets = {params for method, _, params, _, _ in rows[1:]}
assert len(adapter_budgets) == 1, rows

print(
    f"Fine-tuning {PRESET} on Fashion-MNIST ({len(train_images)} train "
    f"images, {EPOCHS} epoch(s), batch {BATCH_SIZE}, Adam {LEARNING_RATE}; "
    f"{len(test_images)} test images; backend {keras.backend.backend()})"
)
print()
print(
    "| method | rank | trainable params | % of full "
    "| Fashion-MNIST test accuracy | train time (s) |"
)
print("|---|---:|---:|---:|---:|---:|")
for method, rank, params, accuracy, seconds in rows:
    print(
        f"| {method} | {'-' if rank is None else rank} | {params:,} "
        f"| {100 * params / FULL_PARAMS:.1f}% | {accuracy:.4f} "
        f"| {seconds:.0f} |"
    )

# %% [markdown]
# Besides the budget, the methods differ in what else they adapt: full
# fine-tuning re-estimates the batch-normalisation statistics on the new
# images, while the adapters keep the MNIST statistics frozen (enabling an
# adapter freezes every other layer, batch normalisation running in
# inference mode).

# %% [markdown]
# ## 5. One base model, one small file per task
#
# `save_adapter_weights` writes only the adapter factors. With the head
# (the only other weights that changed) that is the whole task: load them
# into a fresh copy of the preset with the same adapters enabled.

# %%
directory = tempfile.mkdtemp()
hira = models["HiRA"]
adapter_file = adapters.save_adapter_weights(
    hira, os.path.join(directory, "fashion_hira.npz")
)
head_file = os.path.join(directory, "fashion_head.npz")
np.savez(head_file, *hira.get_layer("predictions").get_weights())
full_file = os.path.join(directory, "fashion_full.npz")
np.savez(full_file, *models["full fine-tuning"].get_weights())
for name, path in [
    ("adapter factors", adapter_file),
    ("head", head_file),
    ("full fine-tuned weights", full_file),
]:
    print(f"{name + ':':<25} {os.path.getsize(path) / 1024:8.1f} KiB")

reloaded = load_for("HiRA")
adapters.load_adapter_weights(reloaded, adapter_file)
with np.load(head_file) as head_weights:
    reloaded.get_layer("predictions").set_weights(
        [head_weights[key] for key in sorted(head_weights.files)]
    )
probe = test_images[:64]
same = np.allclose(
    keras.ops.convert_to_numpy(reloaded.predict(probe, verbose=0)),
    keras.ops.convert_to_numpy(hira.predict(probe, verbose=0)),
    atol=1e-5,
)
print("adapter file reloaded, predictions identical:", same)
assert same

# %% [markdown]
# ## 6. Merge for inference
#
# `merge_adapters` folds each HiRA / LoHa update into its kernel,
# `W0 := W0 + ΔW`, and turns the layer back into a plain `Conv2D`: no extra
# cost at inference, same outputs. (Keras merges its LoRA layers itself
# when saving.) As after enabling adapters, `compile()` the model again
# after merging: `fit`, `evaluate` and `predict` keep the functions they
# traced for the old layers until then (on TensorFlow they would still add
# the update to the merged kernel, counting it twice).

# %%
for method in ["LoHa", "HiRA"]:
    model = models[method]
    before = keras.ops.convert_to_numpy(model.predict(probe, verbose=0))
    merged = adapters.merge_adapters(model)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    after = keras.ops.convert_to_numpy(model.predict(probe, verbose=0))
    difference = float(np.max(np.abs(after - before)))
    print(
        f"{method}: merged {len(merged)} layers, "
        f"max |output change| = {difference:.1e}"
    )
    assert difference < 1e-4, difference
    assert not any(
        isinstance(layer, adapters.HadamardAdapter)
        for layer in model._flatten_layers()
    )

print("guide finished: OK")
