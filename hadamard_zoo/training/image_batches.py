"""Shuffled, augmented mini-batches of images, the same on every backend.

Augmentation runs in NumPy with a generator seeded by `(seed, epoch)`, so a
run resumed at epoch `e` sees exactly the batches an uninterrupted run would
have seen, whatever the backend.
"""

import keras
import numpy as np


class ImageBatches(keras.utils.PyDataset):
    """Batches of `(images, labels)` for `model.fit`.

    Args:
        images: float32 array `(N, H, W, C)`, already scaled.
        labels: int array `(N,)`.
        batch_size: examples per batch (the last batch may be smaller).
        seed: seed of the shuffling and the augmentation.
        shift: random translation of up to `shift` pixels along each axis,
            filling with the value of the image's corner pixel (the
            background). 0 disables it.
        flip: random horizontal flips.
        shuffle: whether to shuffle (and augment); evaluation sets use
            `shuffle=False, shift=0, flip=False`.
        epoch: the epoch whose batches to serve (see `set_epoch`).
    """

    def __init__(
        self,
        images,
        labels,
        batch_size,
        seed=0,
        shift=0,
        flip=False,
        shuffle=True,
        epoch=0,
    ):
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = batch_size
        self.seed = seed
        self.shift = shift
        self.flip = flip
        self.shuffle = shuffle
        self.epoch = epoch
        self._order = None

    def __len__(self):
        return -(-len(self.images) // self.batch_size)

    def _epoch_order(self):
        if self._order is None:
            if self.shuffle:
                rng = np.random.default_rng([self.seed, self.epoch])
                self._order = rng.permutation(len(self.images))
            else:
                self._order = np.arange(len(self.images))
        return self._order

    def __getitem__(self, index):
        order = self._epoch_order()
        rows = order[index * self.batch_size : (index + 1) * self.batch_size]
        images = self.images[rows]
        if self.shuffle and (self.shift or self.flip):
            rng = np.random.default_rng([self.seed, self.epoch, index, 1])
            images = augment(images, rng, self.shift, self.flip)
        return images, self.labels[rows]

    def set_epoch(self, epoch):
        """Selects the order and augmentation of epoch `epoch`.

        Called by the training loop at the start of every epoch (Keras may
        call `on_epoch_end` more than once per epoch, so the epoch is set
        explicitly rather than counted).
        """
        self.epoch = epoch
        self._order = None


def augment(images, rng, shift, flip):
    """Random translations (±`shift` px) and horizontal flips of a batch."""
    n, height, width, _ = images.shape
    if shift:
        background = images[:, :1, :1, :]
        pad = ((0, 0), (shift, shift), (shift, shift), (0, 0))
        padded = np.pad(images, pad, mode="constant")
        # Padding is 0 but the background is the corner value (-1 after
        # scaling to [-1, 1]): fill the border with it.
        border = np.ones_like(padded, dtype=bool)
        border[:, shift:-shift, shift:-shift, :] = False
        padded = np.where(border, background, padded)
        dy = rng.integers(0, 2 * shift + 1, n)
        dx = rng.integers(0, 2 * shift + 1, n)
        rows = dy[:, None] + np.arange(height)[None, :]
        cols = dx[:, None] + np.arange(width)[None, :]
        batch = np.arange(n)[:, None, None]
        images = padded[batch, rows[:, :, None], cols[:, None, :], :]
    if flip:
        flipped = rng.random(n) < 0.5
        images = np.where(
            flipped[:, None, None, None], images[:, :, ::-1], images
        )
    return images.astype("float32", copy=False)
