"""A grid of images as one picture, and its PNG file written atomically."""

import math
import pathlib

import numpy as np

from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

SUFFIXES = (".png",)


def _to_pixels(images, value_range):
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3) or not len(images):
        raise ValueError(
            "`images` must be a non-empty batch of shape (N, H, W), "
            "(N, H, W, 1) or (N, H, W, 3). Received: images.shape="
            f"{images.shape}."
        )
    if images.dtype == np.uint8:
        return images
    if images.dtype == bool or not np.issubdtype(images.dtype, np.number):
        raise ValueError(
            f"`images` must hold numbers. Received: images.dtype="
            f"{images.dtype}."
        )
    images = images.astype("float64")
    if not np.isfinite(images).all():
        raise ValueError("`images` must hold finite values (no NaN or inf).")
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(
            "`value_range` must be (low, high) with high > low. Received: "
            f"value_range={tuple(value_range)}."
        )
    scaled = (np.clip(images, low, high) - low) * (255.0 / (high - low))
    return np.round(scaled).astype("uint8")


def image_grid(images, columns=None, padding=1, value_range=(-1.0, 1.0)):
    """Tiles a batch of images into one uint8 picture, row by row.

    Image `n` goes to row `n // columns`, column `n % columns`; cells are
    separated (and framed) by `padding` mid-grey pixels; cells past the
    last image stay mid-grey. Float images are mapped linearly from
    `value_range` to [0, 255] (clipped); uint8 images are used as they
    are.

    Args:
        images: array of shape `(N, H, W)`, `(N, H, W, 1)` or `(N, H, W,
            3)`, e.g. a generator's output in [-1, 1].
        columns: optional int, images per row. Defaults to `None`:
            `ceil(sqrt(N))`.
        padding: int >= 0, pixels between cells and around the grid.
            Defaults to `1`.
        value_range: `(low, high)` of float images. Defaults to
            `(-1.0, 1.0)`.

    Returns:
        uint8 array of shape `(rows·(H + p) + p, columns·(W + p) + p, C)`
        with `p = padding` and `rows = ceil(N / columns)`.

    Example:

    >>> grid = image_grid(np.zeros((5, 4, 4)), columns=3)
    >>> grid.shape, int(grid[1, 1, 0]), int(grid[0, 0, 0])
    ((11, 16, 1), 128, 128)
    """
    columns = check_optional_int("columns", columns)
    padding = check_int("padding", padding, minimum=0)
    pixels = _to_pixels(images, value_range)
    count, height, width, channels = pixels.shape
    columns = columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = np.full(
        (
            rows * (height + padding) + padding,
            columns * (width + padding) + padding,
            channels,
        ),
        128,
        dtype="uint8",
    )
    for n, image in enumerate(pixels):
        top = padding + (n // columns) * (height + padding)
        left = padding + (n % columns) * (width + padding)
        grid[top : top + height, left : left + width] = image
    return grid


def write_image_grid(
    path, images, columns=None, padding=1, value_range=(-1.0, 1.0)
):
    """Writes `image_grid(images, ...)` to a PNG file, atomically.

    The picture is written to a temporary file beside `path`, then renamed
    over it: a reader never sees a partial file, and a failed write leaves
    `path` as it was.

    Args:
        path: str or path, the `.png` file to write (parent directories
            are created).
        images, columns, padding, value_range: as in `image_grid`.

    Returns:
        The `pathlib.Path` written.

    Example:

    >>> import tempfile
    >>> from PIL import Image
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "grid.png"
    >>> _ = write_image_grid(path, np.ones((4, 8, 8)), padding=0)
    >>> Image.open(path).size
    (16, 16)
    """
    from PIL import Image

    path = pathlib.Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ValueError(
            f"`path` must name a {' or '.join(SUFFIXES)} file. Received: "
            f"path={str(path)!r}."
        )
    grid = image_grid(images, columns, padding, value_range)
    picture = Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG")
    return path
