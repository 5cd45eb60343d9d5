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
# # Poly-SA: self-attention's data access at linear cost
#
# Poly-SA (survey Eq. 9) mixes tokens with Hadamard products instead of an
# `N x N` attention matrix:
#
# ```
# P = (X W1) * (X W2)            element-wise, (N, C)
# Y = (mean_N(P) * X) W3         every token sees a pooled 2nd-order summary
# Z = alpha * X + beta * Y       a 3rd-order polynomial of X
# ```
#
# so its cost grows like `N·C²`, not `N²·C`. This guide
#
# 1. trains two small text classifiers on SST-2 that differ by one flag:
#    the token mixer (`mixer="poly_sa"` or `mixer="attention"`),
# 2. times the two mixers over growing sequence lengths and plots it,
# 3. loads the bundled `polysa_transformer_sst2` preset and classifies a
#    few sentences.
#
# It runs on TensorFlow, JAX or PyTorch (set `KERAS_BACKEND` before the
# first `import keras`). In Colab, open
# `guides/poly_sa_transformer.ipynb` instead: its first cell installs
# the package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) training and
# evaluation use subsets and the timings stop at 1,024 tokens.

# %%
import os
import time

import keras
import numpy as np

import hadamard_zoo
from hadamard_zoo import datasets
from hadamard_zoo import samples
from hadamard_zoo.layers import PolySA
from hadamard_zoo.models import PolySATextClassifier
from hadamard_zoo.models import PolySATextClassifierPreprocessor
from hadamard_zoo.models import PolySATokenizer
from hadamard_zoo.models import PolySATransformerBackbone

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
print("backend:", keras.backend.backend())

# %% [markdown]
# ## 1. One flag apart: Poly-SA vs multi-head attention on SST-2
#
# SST-2 loads offline from `$HADAMARD_ZOO_DATA` (or the Keras cache; it is
# downloaded when online and missing). The vocabulary is built from the
# training sentences; the tokenizer is keras-hub's WordPiece tokenizer
# given whole words, so unknown words become `[UNK]`.

# %%
train_sentences, train_labels = datasets.load_sst2("train")
dev_sentences, dev_labels = datasets.load_sst2("dev")
if QUICK:
    train_sentences, train_labels = train_sentences[:1000], train_labels[:1000]
    dev_sentences, dev_labels = dev_sentences[:256], dev_labels[:256]
tokenizer = PolySATokenizer.from_texts(train_sentences, min_count=2)
preprocessor = PolySATextClassifierPreprocessor(tokenizer, sequence_length=64)
print("vocabulary:", tokenizer.vocabulary_size(), "words")


def text_classifier(mixer):
    keras.utils.set_random_seed(0)
    backbone = PolySATransformerBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=2,
        hidden_dim=64,
        intermediate_dim=128,
        max_sequence_length=64,
        mixer=mixer,
    )
    classifier = PolySATextClassifier(
        backbone=backbone, num_classes=2, preprocessor=preprocessor
    )
    classifier.compile(
        optimizer=keras.optimizers.AdamW(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return classifier


# Keras-hub's fit on a list of strings does not shuffle: shuffle once here.
order = np.random.default_rng(0).permutation(len(train_labels))
train_x = [train_sentences[i] for i in order]
train_y = train_labels[order]
results = {}
for mixer in ("poly_sa", "attention"):
    classifier = text_classifier(mixer)
    start = time.perf_counter()
    classifier.fit(
        train_x,
        train_y,
        batch_size=64,
        epochs=1 if QUICK else 3,
        verbose=0 if QUICK else 1,
    )
    seconds = time.perf_counter() - start
    _, accuracy = classifier.evaluate(dev_sentences, dev_labels, verbose=0)
    results[mixer] = accuracy
    print(
        f"{mixer:<10} {classifier.backbone.count_params():>9,} backbone "
        f"params  dev accuracy {accuracy:.3f}  ({seconds:.0f} s training)"
    )
assert all(0.0 <= a <= 1.0 for a in results.values())

# %% [markdown]
# ## 2. How the two mixers scale with the sequence length
#
# One forward pass of each mixer alone at width 256, batch 1. Multi-head
# attention builds an `N x N` matrix per head; Poly-SA never does. The
# project's benchmark (`benchmarks/attention_scaling.py`) measures forward
# plus backward time and memory up to 16k tokens on every backend.

# %%
width = 256
lengths = [128, 256, 512, 1024] if QUICK else [256, 1024, 4096, 8192]
mixers = {
    "Poly-SA": PolySA(),
    "multi-head attention": keras.layers.MultiHeadAttention(4, width // 4),
}


def forward(name, layer, x):
    if name == "Poly-SA":
        return layer(x)
    return layer(x, x)


timings = {name: [] for name in mixers}
for n in lengths:
    x = np.random.default_rng(n).normal(size=(1, n, width)).astype("float32")
    for name, layer in mixers.items():
        forward(name, layer, x)  # builds the layer (and warms up)
        start = time.perf_counter()
        for _ in range(3):
            out = forward(name, layer, x)
        keras.ops.convert_to_numpy(out)
        timings[name].append((time.perf_counter() - start) / 3)
for name, seconds in timings.items():
    pairs = zip(lengths, seconds, strict=True)
    shown = ", ".join(f"{n}: {1e3 * s:.1f} ms" for n, s in pairs)
    print(f"{name:<22} {shown}")
ratio = timings["multi-head attention"][-1] / timings["Poly-SA"][-1]
print(f"at {lengths[-1]} tokens Poly-SA is {ratio:.1f}x faster")
assert ratio > 1.0, "Poly-SA should beat attention at the longest length"

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

figure, axis = plt.subplots(figsize=(5, 3.5))
for name, seconds in timings.items():
    axis.loglog(lengths, 1e3 * np.array(seconds), "o-", label=name)
axis.set_xlabel("sequence length N")
axis.set_ylabel("forward time (ms)")
axis.set_title(f"width {width}, batch 1, {keras.backend.backend()}")
axis.legend()
figure.tight_layout()
figure.savefig("poly_sa_scaling.png", dpi=100)
print("plot written to poly_sa_scaling.png")

# %% [markdown]
# ## 3. The bundled preset
#
# `polysa_transformer_sst2` is the same architecture at width 128, trained
# on all of SST-2's training sentences (`hadamard-zoo info
# polysa_transformer_sst2` shows its recipe and dev accuracy). It takes raw
# strings.

# %%
preset = hadamard_zoo.load_classifier("polysa_transformer_sst2")
sentences, labels = samples.load_samples("sst2")
predicted = np.argmax(preset.predict(sentences, verbose=0), axis=-1)
for sentence, p, t in zip(sentences, predicted, labels, strict=True):
    names = datasets.SST2_CLASS_NAMES
    print(f"{names[p]:<8} (true {names[t]:<8}) {sentence}")
assert np.mean(predicted == labels) >= 0.5
print("guide finished: OK")
