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
# # Recurrent language models: gates are Hadamard products
#
# An LSTM decides what to keep, what to write and what to show with three
# gates, each applied by an element-wise (Hadamard) product:
#
# ```
# c_t = f_t * c_{t-1} + i_t * g_t        keep part of the memory, write part
# h_t = o_t * tanh(c_t)                  show part of it
# ```
#
# This guide
#
# 1. loads `lstm_ptb_small`, Zaremba et al.'s small Penn Treebank model
#    (2 x 200 LSTM) trained by `hadamard-zoo train lstm_ptb_small`, and
#    scores a few sentences (perplexity, and the surprise of every word),
# 2. generates text from a prompt,
# 3. fine-tunes it on Tiny Shakespeare for a few hundred steps with the
#    states carried from window to window (truncated back-propagation
#    through time), and measures the perplexity before and after.
#
# It runs on TensorFlow, JAX or PyTorch (set `KERAS_BACKEND` before the
# first `import keras`). In Colab, open
# `guides/recurrent_language_model.ipynb` instead: its first cell installs
# the package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) fine-tuning is shorter.

# %%
import os
import re

import keras
import keras_hub
import matplotlib.pyplot as plt
import numpy as np

import hadamard_zoo  # noqa: F401  (registers the presets with keras-hub)
from hadamard_zoo import datasets
from hadamard_zoo.models import RNNLMBackbone
from hadamard_zoo.training.language_modeling import StreamWindows
from hadamard_zoo.training.language_modeling import stream_perplexity
from hadamard_zoo.training.language_modeling import window_loss

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
print("backend:", keras.backend.backend())

# %% [markdown]
# ## 1. Score sentences
#
# The preset is a keras-hub `CausalLM`: a word tokenizer (the 10,000 words
# of the Penn Treebank training split, `<unk>` for the rest, `<eos>` between
# sentences), a backbone that ends in next-word logits, and samplers.
# `perplexity()` is `exp` of the mean negative log-likelihood of each
# sentence's words (and of its closing `<eos>`).

# %%
model = keras_hub.models.CausalLM.from_preset("lstm_ptb_small")
tokenizer = model.preprocessor.tokenizer
print(type(model).__name__, "cell:", model.backbone.cell)
print("parameters:", model.count_params())

sentences = [
    "the company said it expects to report a loss for the third quarter",
    "quarter the loss company it a report third said for expects to the",
    "stock prices fell sharply in new york trading yesterday",
]
perplexities = model.perplexity(sentences)
for sentence, perplexity in zip(sentences, perplexities, strict=True):
    print(f"{perplexity:8.1f}  {sentence}")
# The same words in a scrambled order are far less likely.
assert perplexities[1] > 3 * perplexities[0]

# %% [markdown]
# The surprise `-log2 p(w_t | w_<t)` of each word of the first sentence:
# function words after their usual context cost little, the content words
# that carry the information cost the most.

# %%
x, y, weights = model.preprocessor([sentences[0]])
logits = keras.ops.convert_to_numpy(model.backbone(x))[0].astype("float64")
log_z = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1))
log_p = logits[np.arange(len(logits)), np.asarray(y)[0]]
log_p = log_p - logits.max(-1) - log_z
length = int(np.asarray(weights).sum())
surprise = -log_p[:length] / np.log(2)
words = sentences[0].split() + ["<eos>"]
plt.figure(figsize=(10, 3))
plt.bar(range(length), surprise)
plt.xticks(range(length), words, rotation=60)
plt.ylabel("surprise (bits)")
plt.title("lstm_ptb_small: the cost of each word")
plt.tight_layout()
plt.savefig("word_surprise.png", dpi=80)
print("wrote word_surprise.png")

# %% [markdown]
# ## 2. Generate
#
# Generation reads the prompt one word at a time and then samples, carrying
# the LSTM's `(h, c)` as the cache: every new word costs the same, however
# long the text. Greedy decoding repeats itself; top-k sampling does not.

# %%
prompt = "the company said"
model.compile(sampler="greedy")
print("greedy:", model.generate(prompt, max_length=20))
model.compile(sampler=keras_hub.samplers.TopKSampler(k=10, seed=1))
for text in model.generate([prompt, "in new york"], max_length=25):
    print("top-k :", text)
    assert text.split()[:2] in (["the", "company"], ["in", "new"])

# %% [markdown]
# ## 3. Fine-tune on Tiny Shakespeare
#
# The training text is read as Zaremba et al. do: one stream of word ids,
# cut into 20 parallel rows and read 20 words at a time by a *stateful*
# copy of the backbone, whose states carry over from one window to the
# next. Shakespeare's text is lower-cased and reduced to words so that it
# meets the Penn Treebank vocabulary; unknown words become `<unk>`.


# %%
def words_of(text):
    """Lower-case words, `<eos>` at each line end (as in Penn Treebank)."""
    lines = (re.findall(r"[a-z']+", line.lower()) for line in text.split("\n"))
    return [w for line in lines if line for w in line + ["<eos>"]]


train_text = datasets.load_tiny_shakespeare("train")
valid_text = datasets.load_tiny_shakespeare("valid")
unk = tokenizer.token_to_id("<unk>")
# The tokenizer splits on whitespace: one call turns the stream into ids.
train_ids = np.asarray(tokenizer(" ".join(words_of(train_text))))
valid_ids = np.asarray(tokenizer(" ".join(words_of(valid_text))))
valid_ids = valid_ids[: 2000 if QUICK else 20000]
print(f"{len(train_ids)} training words, {np.mean(train_ids == unk):.1%} <unk>")

before, _ = stream_perplexity(model.backbone, valid_ids)
print(f"valid perplexity before fine-tuning: {before:.1f}")

# %%
config = dict(model.backbone.get_config(), stateful=True, batch_size=20)
trainer = RNNLMBackbone.from_config(config)
for target, source in zip(
    trainer.trainable_weights, model.backbone.trainable_weights, strict=True
):
    target.assign(source)
trainer.compile(
    optimizer=keras.optimizers.SGD(0.5, global_clipnorm=5.0),
    loss=window_loss,
)
windows = StreamWindows(train_ids, batch_size=20, num_steps=20)
steps = 30 if QUICK else 500
trainer.fit(windows, epochs=1, steps_per_epoch=steps, shuffle=False, verbose=0)

# The fine-tuned weights, back in the stateless model.
for target, source in zip(
    model.backbone.trainable_weights, trainer.trainable_weights, strict=True
):
    target.assign(source)
after, _ = stream_perplexity(model.backbone, valid_ids)
print(f"valid perplexity after {steps} steps: {after:.1f}")
assert after < before

plt.figure(figsize=(4, 3))
plt.bar(["before", f"after {steps} steps"], [before, after])
plt.ylabel("valid perplexity")
plt.title("Tiny Shakespeare")
plt.tight_layout()
plt.savefig("fine_tuning.png", dpi=80)
print("wrote fine_tuning.png")

model.compile(sampler=keras_hub.samplers.TopKSampler(k=10, seed=1))
print("after fine-tuning:", model.generate("the king", max_length=25))
print("guide finished: OK")
