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
# # Π-Nets quickstart: load, predict, fine-tune, save
#
# Π-Nets are polynomial networks: their outputs are polynomials of the
# input, built from Hadamard products (`*`) of linear maps. This guide
#
# 1. loads the bundled `pinet_ccp_mnist` preset by name,
# 2. classifies a few test digits,
# 3. fine-tunes the same polynomial network on Fashion-MNIST,
# 4. saves the result with `save_to_preset` and loads it back.
#
# It runs on TensorFlow, JAX or PyTorch (set `KERAS_BACKEND` before the
# first `import keras`). In Colab, open
# `guides/pinet_quickstart.ipynb` instead: its first cell installs
# the package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) the fine-tuning uses a
# small subset so the whole guide takes seconds.

# %%
import os

import keras
import numpy as np

import hadamard_zoo
from hadamard_zoo import datasets
from hadamard_zoo import samples

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
print("backend:", keras.backend.backend())

# %% [markdown]
# ## 1. The bundled presets

# %%
for preset in hadamard_zoo.list_presets():
    metric = preset["metric"]
    print(
        f"{preset['name']:<34} {preset['params']:>8,} params  "
        f"{metric['dataset']} {metric['split']} {metric['metric']} "
        f"{metric['value']}"
    )

# %% [markdown]
# ## 2. Load by name and predict
#
# The preset holds the model *and* its preprocessor: raw uint8 images go in
# (any size; RGB is converted to grayscale), logits come out.

# %%
classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
images, labels = samples.load_samples("mnist")
logits = classifier.predict(images[..., None], verbose=0)
print("predicted:", np.argmax(logits, axis=-1).tolist())
print("true:     ", labels.tolist())

# %% [markdown]
# ## 3. Fine-tune on Fashion-MNIST
#
# The polynomial (the CCP backbone) is kept; the 10-way head is retrained
# together with it. Fashion-MNIST loads offline from `$HADAMARD_ZOO_DATA`
# (or the Keras cache; it is downloaded when online and missing).

# %%
train_images, train_labels = datasets.load_fashion_mnist("train")
test_images, test_labels = datasets.load_fashion_mnist("test")
if QUICK:
    train_images, train_labels = train_images[:512], train_labels[:512]
    test_images, test_labels = test_images[:512], test_labels[:512]

classifier.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
before = classifier.evaluate(
    test_images[..., None], test_labels, batch_size=256, verbose=0
)
classifier.fit(
    train_images[..., None],
    train_labels,
    batch_size=64,
    epochs=1 if QUICK else 5,
    verbose=0 if QUICK else 1,
)
after = classifier.evaluate(
    test_images[..., None], test_labels, batch_size=256, verbose=0
)
print(f"Fashion-MNIST test accuracy: {before[1]:.3f} -> {after[1]:.3f}")

# %% [markdown]
# ## 4. Save and load back

# %%
import tempfile  # noqa: E402

directory = os.path.join(tempfile.mkdtemp(), "pinet_ccp_fashion_finetuned")
classifier.save_to_preset(directory)
reloaded = hadamard_zoo.load_classifier(directory)
same = np.allclose(
    reloaded.predict(test_images[:8, ..., None], verbose=0),
    classifier.predict(test_images[:8, ..., None], verbose=0),
    atol=1e-5,
)
print("reloaded predictions identical:", same)
assert same
print("guide finished: OK")
