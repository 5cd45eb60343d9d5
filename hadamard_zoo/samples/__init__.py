"""A handful of evaluation examples shipped with the package, for the demo.

`<dataset>.npz` holds the first 8 images (uint8, 28x28) and labels of each
image dataset's official test split, and the first 8 sentences and labels
of SST-2's dev split, written by `scripts/make_samples.py`.
"""

import importlib.resources

import numpy as np

DATASETS = ("mnist", "fashion_mnist", "sst2")


def load_samples(dataset):
    """`(inputs, labels (8,))` of a bundled sample file.

    The inputs are uint8 images `(8, 28, 28)` for the image datasets and a
    list of 8 str for `"sst2"`.

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
        if "sentences" in data:
            return [str(s) for s in data["sentences"]], data["labels"]
        return data["images"], data["labels"]
