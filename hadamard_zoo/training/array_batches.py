"""Shuffled mini-batches of in-memory arrays, the same on every backend.

The order of each epoch comes from a generator seeded by `(seed, epoch)`,
so a run resumed at epoch `e` sees exactly the batches an uninterrupted run
would have seen, whatever the backend.
"""

import keras
import numpy as np


class ArrayBatches(keras.utils.PyDataset):
    """Batches of `(features, labels)` for `model.fit`.

    Args:
        features: an array `(N, ...)` or a dict of such arrays (e.g. a
            text model's `token_ids` and `padding_mask`).
        labels: array `(N, ...)`.
        batch_size: examples per batch (the last batch may be smaller).
        seed: seed of the shuffling.
        shuffle: whether to shuffle; evaluation sets use `shuffle=False`.
        epoch: the epoch whose batches to serve (see `set_epoch`).
    """

    def __init__(
        self, features, labels, batch_size, seed=0, shuffle=True, epoch=0
    ):
        super().__init__()
        self.features = features
        self.labels = labels
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.epoch = epoch
        self._order = None

    def __len__(self):
        return -(-len(self.labels) // self.batch_size)

    def _epoch_order(self):
        if self._order is None:
            if self.shuffle:
                rng = np.random.default_rng([self.seed, self.epoch])
                self._order = rng.permutation(len(self.labels))
            else:
                self._order = np.arange(len(self.labels))
        return self._order

    def batch_rows(self, index):
        """The example indices of batch `index` in the current epoch."""
        order = self._epoch_order()
        return order[index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index):
        rows = self.batch_rows(index)
        if isinstance(self.features, dict):
            features = {k: v[rows] for k, v in self.features.items()}
        else:
            features = self.features[rows]
        return features, self.labels[rows]

    def set_epoch(self, epoch):
        """Selects the order of epoch `epoch`.

        Called by the training loop at the start of every epoch (Keras may
        call `on_epoch_end` more than once per epoch, so the epoch is set
        explicitly rather than counted).
        """
        self.epoch = epoch
        self._order = None
