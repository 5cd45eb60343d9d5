"""Writes hadamard_zoo/samples/<dataset>.npz: the first 8 test images.

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
