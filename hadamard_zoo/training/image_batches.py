"""Shuffled, augmented mini-batches of images, the same on every backend.

Augmentation runs in NumPy with a generator seeded by `(seed, epoch)`, so a
run resumed at epoch `e` sees exactly the batches an uninterrupted run would
have seen, whatever the backend.
"""

import numpy as np

from hadamard_zoo.training.array_batches import ArrayBatches


class ImageBatches(ArrayBatches):
    """Batches of `(images, labels)` for `model.fit`, augmented.

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
        super().__init__(
            images, labels, batch_size, seed=seed, shuffle=shuffle, epoch=epoch
        )
        self.shift = shift
        self.flip = flip

    @property
    def images(self):
        return self.features

    def __getitem__(self, index):
        rows = self.batch_rows(index)
        images = self.features[rows]
        if self.shuffle and (self.shift or self.flip):
            rng = np.random.default_rng([self.seed, self.epoch, index, 1])
            images = augment(images, rng, self.shift, self.flip)
        return images, self.labels[rows]


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
