"""Writes hadamard_zoo/samples/<dataset>.npz: the first 8 evaluation examples.

Images come from each dataset's official test split; SST-2's sentences from
its `dev` split (the test split has no labels); the Countries tasks' link
queries `(country, locatedin, ?)` from their test split, with the five
regions as candidates and the index of the true one as the label; for
WN18RR and FB15k-237, the first 8 test queries `(head, relation, ?)` whose
tails differ, with those 8 tails as the shared candidates.

Usage: HADAMARD_ZOO_DATA=../shared/data .venv/bin/python scripts/make_samples.py
"""

import pathlib

import numpy as np

from hadamard_zoo import datasets

COUNT = 8
OUT = pathlib.Path(__file__).resolve().parents[1] / "hadamard_zoo" / "samples"
LOADERS = {
    "mnist": datasets.load_mnist,
    "fashion_mnist": datasets.load_fashion_mnist,
}

for name, load in LOADERS.items():
    images, labels = load(split="test")
    np.savez_compressed(
        OUT / f"{name}.npz", images=images[:COUNT], labels=labels[:COUNT]
    )
    print(f"{name}: labels {labels[:COUNT].tolist()}")

sentences, labels = datasets.load_sst2(split="dev")
# A fixed-width unicode array: np.load reads it back without pickle.
np.savez_compressed(
    OUT / "sst2.npz",
    sentences=np.array([s.strip() for s in sentences[:COUNT]]),
    labels=labels[:COUNT],
)
print(f"sst2: labels {labels[:COUNT].tolist()}")

for task in (1, 2, 3):
    graph = datasets.load_knowledge_graph(f"countries_s{task}")
    queries = graph.test[:COUNT]
    regions = [int(r) for r in graph.regions]
    np.savez_compressed(
        OUT / f"countries_s{task}.npz",
        heads=np.array([graph.entities[h] for h in queries[:, 0]]),
        relations=np.array([graph.relations[r] for r in queries[:, 1]]),
        candidates=np.array([graph.entities[r] for r in regions]),
        labels=np.array([regions.index(int(t)) for t in queries[:, 2]]),
    )
    labels = [regions.index(int(t)) for t in queries[:, 2]]
    print(f"countries_s{task}: labels {labels}")

for name in ("wn18rr", "fb15k237"):
    graph = datasets.load_knowledge_graph(name)
    _, first = np.unique(graph.test[:, 2], return_index=True)
    queries = graph.test[np.sort(first)[:COUNT]]
    np.savez_compressed(
        OUT / f"{name}.npz",
        heads=np.array([graph.entities[h] for h in queries[:, 0]]),
        relations=np.array([graph.relations[r] for r in queries[:, 1]]),
        candidates=np.array([graph.entities[t] for t in queries[:, 2]]),
        labels=np.arange(COUNT),
    )
    print(f"{name}: labels {list(range(COUNT))}")
