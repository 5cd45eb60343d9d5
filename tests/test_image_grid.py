import numpy as np
import pytest
from PIL import Image

from hadamard_zoo import image_grid
from hadamard_zoo.image_grid import write_image_grid


def reference_grid(pixels, columns, padding):
    """The grid cell by cell, from the description: grey frame, row-major."""
    count, height, width, channels = pixels.shape
    rows = -(-count // columns)
    grid = [
        [[128] * channels for _ in range(columns * (width + padding) + padding)]
        for _ in range(rows * (height + padding) + padding)
    ]
    for n in range(count):
        row, column = divmod(n, columns)
        for i in range(height):
            for j in range(width):
                y = padding + row * (height + padding) + i
                x = padding + column * (width + padding) + j
                grid[y][x] = list(pixels[n, i, j])
    return np.array(grid, dtype="uint8")


@pytest.mark.parametrize(
    "shape, columns, padding",
    [((5, 3, 4), 2, 1), ((4, 2, 2, 3), None, 0), ((1, 6, 6, 1), None, 2)],
)
def test_grid_places_each_image_in_its_cell(shape, columns, padding):
    rng = np.random.default_rng(0)
    images = rng.uniform(-1.2, 1.2, shape)
    grid = image_grid.image_grid(images, columns=columns, padding=padding)
    pixels = images if images.ndim == 4 else images[..., None]
    # [-1, 1] -> [0, 255], clipped outside, rounded.
    expected_pixels = np.round((np.clip(pixels, -1, 1) + 1) / 2 * 255).astype(
        "uint8"
    )
    columns = columns or int(np.ceil(np.sqrt(shape[0])))
    np.testing.assert_array_equal(
        grid, reference_grid(expected_pixels, columns, padding)
    )


def test_uint8_images_are_kept_and_value_range_maps_floats():
    pixels = np.arange(4, dtype="uint8").reshape(1, 2, 2)
    grid = image_grid.image_grid(pixels, padding=0)
    assert grid[..., 0].tolist() == [[0, 1], [2, 3]]
    grid = image_grid.image_grid(
        np.array([[[0.0, 0.5], [1.0, 2.0]]]), padding=0, value_range=(0, 1)
    )
    assert grid[..., 0].tolist() == [[0, 128], [255, 255]]


def test_writes_a_png_of_the_grid_size(tmp_path):
    images = np.linspace(-1, 1, 10 * 32 * 32).reshape(10, 32, 32, 1)
    path = write_image_grid(tmp_path / "sub" / "grid.png", images, columns=5)
    with Image.open(path) as picture:
        assert picture.size == (5 * 33 + 1, 2 * 33 + 1)
        assert picture.mode == "L"
        np.testing.assert_array_equal(
            np.asarray(picture), image_grid.image_grid(images, 5)[..., 0]
        )
    rgb = write_image_grid(tmp_path / "rgb.png", np.zeros((2, 4, 4, 3)))
    with Image.open(rgb) as picture:
        assert picture.mode == "RGB" and picture.size == (11, 6)


def test_a_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "grid.png"
    path.write_bytes(b"the previous grid")

    def broken_save(self, fp, format=None, **params):
        with open(fp, "wb") as file:
            file.write(b"\x89PNG half a file")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        write_image_grid(path, np.zeros((4, 8, 8)))
    assert path.read_bytes() == b"the previous grid"
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]
    with pytest.raises(OSError, match="disk full"):
        write_image_grid(tmp_path / "new.png", np.zeros((4, 8, 8)))
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(images=np.zeros((0, 4, 4))), "non-empty"),
        (dict(images=np.zeros((2, 4, 4, 2))), "shape"),
        (dict(images=np.zeros((4, 4))), "shape"),
        (dict(images=np.full((1, 2, 2), np.nan)), "finite"),
        (dict(images=np.zeros((1, 2, 2), bool)), "numbers"),
        (dict(columns=0), "columns"),
        (dict(padding=-1), "padding"),
        (dict(value_range=(1, 1)), "value_range"),
    ],
)
def test_bad_arguments(kwargs, match):
    arguments = dict(images=np.zeros((2, 4, 4)))
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        image_grid.image_grid(**arguments)


def test_only_png_files(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        write_image_grid(tmp_path / "grid.jpg", np.zeros((1, 2, 2)))
    assert not list(tmp_path.iterdir())
