"""Semantic label maps of MNIST / Fashion-MNIST images, for SPADE.

A garment (digit) is its silhouette, the pixels brighter than a threshold,
labelled with its class; everything else is background:

```
label[i, j] = class + 1   if pixel[i, j] > threshold
              0           otherwise
```

so a dataset of `K` classes gives maps of `K + 1` ids. The 28x28 maps are
padded with background to the generator's 32x32, as the images are.
"""

import numpy as np

from hadamard_zoo.utils.validation import check_int

# Fashion-MNIST and MNIST backgrounds are exactly 0; every other pixel,
# however faint, belongs to the garment (digit).
DEFAULT_THRESHOLD = 0
BACKGROUND = 0


def pad_center(images, size, value):
    """Pads the two spatial axes of `(N, H, W, ...)` arrays to `size`.

    The extra rows (columns) are split evenly, the odd one at the bottom
    (right): 28 -> 32 adds 2 on every side.

    Args:
        images: array of shape `(N, H, W)` or `(N, H, W, C)` with `H, W <=
            size`.
        size: int, the padded height and width.
        value: the fill value.

    Returns:
        An array of shape `(N, size, size, ...)` and `images`' dtype.

    Example:

    >>> pad_center(np.ones((1, 2, 2)), 4, 0).astype(int)[0].tolist()
    [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]]
    """
    size = check_int("size", size)
    images = np.asarray(images)
    if images.ndim < 3:
        raise ValueError(
            "`images` must have shape (N, H, W) or (N, H, W, C). "
            f"Received: images.shape={images.shape}."
        )
    height, width = images.shape[1:3]
    if height > size or width > size:
        raise ValueError(
            f"`size` must be at least the images' size {height}x{width}. "
            f"Received: size={size}."
        )
    top, left = (size - height) // 2, (size - width) // 2
    pad = [(0, 0), (top, size - height - top), (left, size - width - left)]
    pad += [(0, 0)] * (images.ndim - 3)
    return np.pad(images, pad, constant_values=value)


def silhouette_label_maps(
    images, classes, num_classes=10, threshold=DEFAULT_THRESHOLD, size=32
):
    """Integer label maps: each image's silhouette labelled `class + 1`.

    ```
    map[n, i, j] = classes[n] + 1   if images[n, i, j] > threshold
                   0                otherwise (and in the padding)
    ```

    Args:
        images: uint8 array of shape `(N, H, W)` or `(N, H, W, 1)`, pixels
            in [0, 255] (bright garment on a dark background).
        classes: int array of shape `(N,)`, ids in `[0, num_classes)`.
        num_classes: int, the dataset's classes. Defaults to `10`.
        threshold: pixel value above which a pixel is the garment.
            Defaults to `0`.
        size: int, the padded height and width. Defaults to `32`.

    Returns:
        int32 array of shape `(N, size, size)`, ids in `[0, num_classes]`.

    Example:

    >>> image = np.array([[[0, 9], [200, 0]]], "uint8")
    >>> silhouette_label_maps(image, [3], size=2)[0].tolist()
    [[0, 4], [4, 0]]
    """
    num_classes = check_int("num_classes", num_classes)
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(
            "`images` must be grayscale images of shape (N, H, W) or "
            f"(N, H, W, 1). Received: images.shape={images.shape}."
        )
    classes = np.asarray(classes)
    if classes.shape != (len(images),):
        raise ValueError(
            f"`classes` must hold one class id per image, shape "
            f"({len(images)},). Received: classes.shape={classes.shape}."
        )
    if not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(
            "`classes` must hold integer class ids. Received: classes of "
            f"dtype {classes.dtype}."
        )
    unknown = np.unique(classes[(classes < 0) | (classes >= num_classes)])
    if unknown.size:
        raise ValueError(
            f"`classes` must hold ids in [0, {num_classes}) (num_classes="
            f"{num_classes}). Received unknown ids {unknown.tolist()}."
        )
    ids = (classes.astype("int32") + 1)[:, None, None]
    maps = np.where(images > threshold, ids, BACKGROUND).astype("int32")
    return pad_center(maps, size, BACKGROUND)


def one_hot_label_maps(label_maps, num_ids):
    """One-hot encodes integer label maps on a last axis of `num_ids`.

    Args:
        label_maps: int array of shape `(N, H, W)`, ids in `[0, num_ids)`.
        num_ids: int, the channels (a dataset's classes + 1 for the
            background).

    Returns:
        float32 array of shape `(N, H, W, num_ids)`.

    Example:

    >>> one_hot_label_maps(np.array([[[0, 2]]]), 3)[0, 0].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    num_ids = check_int("num_ids", num_ids)
    label_maps = np.asarray(label_maps)
    if not np.issubdtype(label_maps.dtype, np.integer):
        raise ValueError(
            "`label_maps` must hold integer ids. Received: label_maps of "
            f"dtype {label_maps.dtype}."
        )
    if label_maps.size and (
        label_maps.min() < 0 or label_maps.max() >= num_ids
    ):
        raise ValueError(
            f"`label_maps` must hold ids in [0, {num_ids}). Received ids "
            f"in [{label_maps.min()}, {label_maps.max()}]."
        )
    return np.eye(num_ids, dtype="float32")[label_maps]
