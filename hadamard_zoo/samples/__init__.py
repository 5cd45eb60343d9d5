"""A handful of test images shipped with the package, for the demo.

`<dataset>.npz` holds the first 8 images (uint8, 28x28) and labels of each
dataset's official test split, written by `scripts/make_samples.py`.
"""

import importlib.resources

import numpy as np

DATASETS = ("mnist", "fashion_mnist")


def load_samples(dataset):
    """`(images uint8 (8, 28, 28), labels (8,))` of a bundled sample file.

    Example:

    >>> images, labels = load_samples("mnist")
    >>> images.shape, images.dtype.name
    ((8, 28, 28), 'uint8')
    """
    if dataset not in DATASETS:
        raise ValueError(
            f"`dataset` must be one of {DATASETS}. Received: {dataset!r}."
        )
    path = importlib.resources.files(__name__) / f"{dataset}.npz"
    with path.open("rb") as file, np.load(file) as data:
        return data["images"], data["labels"]
