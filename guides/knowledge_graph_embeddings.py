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
# # Knowledge-graph embeddings: RotatE's rotations are Hadamard products
#
# RotatE embeds every entity as a complex vector `h ∈ C^d` and every
# relation as a vector of unit complex numbers `r = e^{iθ}`. A true triple
# `(h, r, t)` should satisfy `t ≈ h * r`: the relation *rotates* the head,
# one Hadamard product. The score is
#
# ```
# s(h, r, t) = γ - Σ_k |h_k r_k - t_k|
# ```
#
# This guide
#
# 1. loads the bundled `rotate_countries_s1` preset and asks it where a few
#    countries are located,
# 2. trains RotatE on Countries S1 from scratch with the self-adversarial
#    negative-sampling loss and measures AUC-PR on the test countries,
# 3. looks at the learned rotations: a symmetric relation (`neighbor`)
#    must rotate by 0 or π, since `h * r * r = h` then.
#
# It runs on TensorFlow, JAX or PyTorch (set `KERAS_BACKEND` before the
# first `import keras`). In Colab, open
# `guides/knowledge_graph_embeddings.ipynb` instead: its first cell installs
# the package.
#
# With `HADAMARD_ZOO_GUIDE_QUICK=1` (how CI runs it) training is shorter.

# %%
import os

import keras
import matplotlib.pyplot as plt
import numpy as np

import hadamard_zoo
from hadamard_zoo import datasets
from hadamard_zoo.evaluation import countries_auc_pr
from hadamard_zoo.models import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models import KnowledgeGraphLinkPredictor
from hadamard_zoo.models import SelfAdversarialNegativeSamplingLoss
from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches

QUICK = os.environ.get("HADAMARD_ZOO_GUIDE_QUICK") == "1"
print("backend:", keras.backend.backend())

# %% [markdown]
# ## 1. Ask a trained preset
#
# Countries S1 holds `locatedin` and `neighbor` facts about 271 countries,
# subregions and regions; the test countries' `locatedin → region` facts
# are held out. `predict_top_k` ranks every entity as the missing tail;
# the Countries protocol then asks which of the 5 regions scores best.

# %%
graph = datasets.load_knowledge_graph("countries_s1")
print(graph)
preset = hadamard_zoo.load_classifier("rotate_countries_s1")
vocabulary = preset.preprocessor.tokenizer
regions = [vocabulary.entity_name(i) for i in graph.regions]
print("regions:", regions)

queries = graph.test[:8]
ids, _ = preset.predict_top_k(queries[:, 0], queries[:, 1], "tail", k=3)
# Names in, scores out: the preset's preprocessor maps them to ids.
scores = preset.predict_on_batch(
    {
        "heads": [[vocabulary.entity_name(h)] for h in queries[:, 0]],
        "relations": [["locatedin"]] * len(queries),
        "tails": [regions] * len(queries),
    }
)
best = np.argmax(keras.ops.convert_to_numpy(scores), axis=-1)
correct = 0
for (head, _, tail), row, region in zip(queries, ids, best, strict=True):
    correct += regions[region] == vocabulary.entity_name(tail)
    print(
        f"{vocabulary.entity_name(head):>22}: best region {regions[region]:>9}"
        f" (true {vocabulary.entity_name(tail):>9}); top entities:",
        ", ".join(vocabulary.entity_name(i) for i in row),
    )
print(f"{correct}/{len(queries)} regions right")
assert correct >= 6, correct

# %% [markdown]
# ## 2. Train RotatE from scratch
#
# `NegativeSamplingBatches` alternates head- and tail-corrupted batches
# (64 uniform negatives per fact, filtered against the known facts);
# column 0 of each score row is the true triple, which is what the
# self-adversarial loss expects. The task's graph is a plain functional
# model, so `fit` works on every backend.

# %%
keras.utils.set_random_seed(0)
backbone = KnowledgeGraphEmbeddingBackbone(
    graph.num_entities,
    graph.num_relations,
    embedding_dim=50,
    scoring="rotate",
    gamma=0.1,
)
model = KnowledgeGraphLinkPredictor(backbone)
batches = NegativeSamplingBatches(
    graph.train,
    graph.num_entities,
    graph.num_relations,
    negatives=64,
    batch_size=512,
    steps_per_epoch=100,
)
model.compile(
    optimizer=keras.optimizers.Adam(2e-3),
    loss=SelfAdversarialNegativeSamplingLoss(adversarial_temperature=1.0),
)
history = model.fit(batches, epochs=2 if QUICK else 6, shuffle=False, verbose=2)


def score_triples(triples):
    x = {
        "heads": triples[:, :1],
        "relations": triples[:, 1:2],
        "tails": triples[:, 2:],
    }
    return keras.ops.convert_to_numpy(model.predict_on_batch(x))[:, 0]


auc = countries_auc_pr(score_triples, graph.test, graph.regions)
print(f"test AUC-PR after {len(history.history['loss'])} epochs: {auc:.3f}")
assert history.history["loss"][-1] < history.history["loss"][0]
assert auc > 0.5, auc  # all-equal scores give 0.2 (1 region in 5)

# %% [markdown]
# ## 3. What the relations learned
#
# A relation is a vector of phases `θ_k`. For a symmetric relation,
# `t = h * r` and `h = t * r` force `r_k² = 1`: each phase is 0 or ±π.
# `neighbor` is symmetric; `locatedin` is not. The preset's phases:

# %%
trained = preset.backbone
rho = (trained.gamma + 2.0) / trained.embedding_dim
phases = keras.ops.convert_to_numpy(trained.relation_embedding.embeddings)
phases = phases / (rho / np.pi)
figure, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True)
for axis, name in zip(axes, graph.relations, strict=True):
    theta = np.angle(np.exp(1j * phases[graph.relation_ids[name]]))
    axis.hist(theta, bins=24, range=(-np.pi, np.pi))
    axis.set_title(f"phases of '{name}'")
    axis.set_xlabel("θ (radians)")
figure.tight_layout()
figure.savefig("rotate_phases.png", dpi=100)
print("wrote rotate_phases.png")

# How far each phase is from the nearest of 0 and ±π.
neighbor = np.angle(np.exp(1j * phases[graph.relation_ids["neighbor"]]))
located = np.angle(np.exp(1j * phases[graph.relation_ids["locatedin"]]))
for name, theta in (("neighbor", neighbor), ("locatedin", located)):
    off = np.minimum(np.abs(theta), np.pi - np.abs(theta))
    print(f"{name}: {np.mean(off < 0.3):.0%} of phases within 0.3 of 0 or π")
assert (
    np.mean(np.minimum(np.abs(neighbor), np.pi - np.abs(neighbor)) < 0.3) > 0.9
)

print("guide finished: OK")
