import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.efficient.spatial_shift import SpatialShift
from hadamard_zoo.layers.efficient.spatial_shift import spatial_shift


def shift_reference(x):
    """Four channel groups moved +1 H, -1 H, +1 W, -1 W; edges replicated.

    Pixel by pixel: each output pixel reads its neighbour in the group's
    direction, clamped to the image (the reference's in-place shift leaves
    the vacated border row/column at its old value).
    """
    _, height, width, channels = x.shape
    q = channels // 4
    out = np.empty_like(x)
    for i in range(height):
        for j in range(width):
            up, down = max(i - 1, 0), min(i + 1, height - 1)
            left, right = max(j - 1, 0), min(j + 1, width - 1)
            out[:, i, j, 0 * q : 1 * q] = x[:, up, j, 0 * q : 1 * q]
            out[:, i, j, 1 * q : 2 * q] = x[:, down, j, 1 * q : 2 * q]
            out[:, i, j, 2 * q : 3 * q] = x[:, i, left, 2 * q : 3 * q]
            out[:, i, j, 3 * q : 4 * q] = x[:, i, right, 3 * q : 4 * q]
    return out


def case(name, input_shape):
    return LayerCase(
        name=f"spatial_shift_{name}",
        layer_cls=SpatialShift,
        init_kwargs={},
        input_shapes=input_shape,
        reference=lambda x, w: shift_reference(x[0]),
    )


CASES = [
    case("square", (2, 4, 4, 8)),
    case("rect_one_per_group", (2, 3, 5, 4)),
    case("single_row", (1, 1, 6, 12)),
    case("single_pixel", (2, 1, 1, 4)),
]

# No weights: the training check (every weight must move) does not apply.
test_harness = layer_tests(CASES, skip=("training",))


def test_shift_directions_by_hand():
    # One channel per group; the image holds 10 * row + column.
    rows, cols = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    image = (10 * rows + cols).astype("float32")
    x = np.repeat(image[None, :, :, None], 4, axis=-1)
    out = keras.ops.convert_to_numpy(SpatialShift()(x))[0]
    # Group 0 moves down (+H): row i shows row i-1; row 0 keeps itself.
    np.testing.assert_array_equal(out[:, :, 0], image[[0, 0, 1]])
    # Group 1 moves up (-H): row i shows row i+1; the last row keeps itself.
    np.testing.assert_array_equal(out[:, :, 1], image[[1, 2, 2]])
    # Group 2 moves right (+W), group 3 left (-W).
    np.testing.assert_array_equal(out[:, :, 2], image[:, [0, 0, 1, 2]])
    np.testing.assert_array_equal(out[:, :, 3], image[:, [1, 2, 3, 3]])


def test_function_matches_layer():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 8)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(spatial_shift(x)),
        keras.ops.convert_to_numpy(SpatialShift()(x)),
    )


def test_unknown_image_size():
    inputs = keras.Input(shape=(None, None, 8))
    model = keras.Model(inputs, SpatialShift()(inputs))
    for size in ((3, 5), (6, 2)):
        x = np.random.default_rng(1).normal(size=(2, *size, 8))
        x = x.astype("float32")
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(model(x)), shift_reference(x)
        )


@pytest.mark.parametrize("channels", [1, 2, 3, 6, 10])
def test_channels_not_divisible_by_four_rejected(channels):
    x = np.zeros((1, 3, 3, channels), "float32")
    with pytest.raises(ValueError, match=f"Received {channels} channels"):
        SpatialShift()(x)
    with pytest.raises(ValueError, match="divisible by 4"):
        spatial_shift(x)


@pytest.mark.parametrize("shape", [(2, 4, 8), (2, 3, 3, 3, 8)])
def test_wrong_rank_rejected(shape):
    x = np.zeros(shape, "float32")
    with pytest.raises(ValueError, match="expected ndim=4"):
        SpatialShift()(x)
    with pytest.raises(ValueError, match="rank 4"):
        SpatialShift().build(shape)
    with pytest.raises(ValueError, match="rank 4"):
        spatial_shift(x)


def test_wrong_channels_after_build_rejected():
    layer = SpatialShift()
    layer(np.zeros((1, 3, 3, 8), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((1, 3, 3, 4), "float32"))
