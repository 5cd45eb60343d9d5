"""A handful of evaluation examples shipped with the package, for the demo.

`<dataset>.npz` holds the first 8 images (uint8, 28x28) and labels of each
image dataset's official test split, and the first 8 sentences and labels
of SST-2's dev split, and the first 8 `(country, locatedin, ?)` test
queries of each Countries task with its 5 candidate regions, and 8 WN18RR
and FB15k-237 test queries with their 8 distinct true tails as the shared
candidates, written by `scripts/make_samples.py`.
"""

import importlib.resources

import numpy as np

DATASETS = (
    "mnist",
    "fashion_mnist",
    "sst2",
    "countries_s1",
    "countries_s2",
    "countries_s3",
    "wn18rr",
    "fb15k237",
)


def load_samples(dataset):
    """`(inputs, labels (8,))` of a bundled sample file.

    The inputs are uint8 images `(8, 28, 28)` for the image datasets, a
    list of 8 str for `"sst2"`, and for the knowledge graphs a dict of
    `heads` and `relations` (8 names each) and `candidates` (the 5 region
    names of the Countries tasks, the 8 true tails for WN18RR and
    FB15k-237); their labels index the true answer in `candidates`.

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
        if "candidates" in data:
            queries = {
                key: [str(s) for s in data[key]]
                for key in ("heads", "relations", "candidates")
            }
            return queries, data["labels"]
        return data["images"], data["labels"]
