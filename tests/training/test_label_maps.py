import numpy as np
import pytest

from hadamard_zoo import samples
from hadamard_zoo.training.label_maps import one_hot_label_maps
from hadamard_zoo.training.label_maps import pad_center
from hadamard_zoo.training.label_maps import silhouette_label_maps

# A 4x4 "garment" of class 2 (id 3 in the map) and its map, by hand.
IMAGE = np.array(
    [
        [0, 0, 7, 0],
        [0, 90, 255, 0],
        [0, 30, 4, 0],
        [0, 0, 0, 0],
    ],
    dtype="uint8",
)
MAP = [
    [0, 0, 3, 0],
    [0, 3, 3, 0],
    [0, 3, 3, 0],
    [0, 0, 0, 0],
]


def test_hand_made_image_gives_the_expected_one_hot_map():
    maps = silhouette_label_maps(IMAGE[None], np.array([2]), size=4)
    assert maps.dtype == np.int32
    assert maps[0].tolist() == MAP
    one_hot = one_hot_label_maps(maps, 11)
    assert one_hot.shape == (1, 4, 4, 11) and one_hot.dtype == np.float32
    for i in range(4):
        for j in range(4):
            expected = [0.0] * 11
            expected[MAP[i][j]] = 1.0
            assert one_hot[0, i, j].tolist() == expected, (i, j)


def test_threshold_and_padding():
    maps = silhouette_label_maps(
        IMAGE[None, ..., None], [0], threshold=7, size=8
    )
    assert maps.shape == (1, 8, 8)
    # Two rows and columns of background on every side.
    expected = np.zeros((8, 8), int)
    expected[3, 3:5] = 1  # 90 and 255 pass the threshold 7
    expected[4, 3] = 1  # 30 does, 4 and 7 do not
    np.testing.assert_array_equal(maps[0], expected)


def test_pad_center_splits_the_border():
    images = np.arange(2 * 3 * 3, dtype="float32").reshape(2, 3, 3, 1)
    padded = pad_center(images, 6, -1.0)
    assert padded.shape == (2, 6, 6, 1)
    np.testing.assert_array_equal(padded[:, 1:4, 1:4], images)
    outside = np.ones((6, 6), bool)
    outside[1:4, 1:4] = False
    assert (padded[:, outside] == -1.0).all()


def test_sample_garments_are_labelled_with_their_class():
    images, classes = samples.load_samples("fashion_mnist")
    maps = silhouette_label_maps(images, classes.astype(int))
    assert maps.shape == (8, 32, 32)
    for image, label, label_map in zip(images, classes, maps, strict=True):
        assert set(np.unique(label_map)) == {0, int(label) + 1}
        inner = label_map[2:30, 2:30]
        assert ((inner > 0) == (image > 0)).all()
        assert not label_map[:2].any() and not label_map[:, 30:].any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(images=np.zeros((2, 4, 4, 3), "uint8")), "grayscale"),
        (dict(classes=np.array([1, 2])), "one class id per image"),
        (dict(classes=np.array([1.0])), "integer"),
        (dict(classes=np.array([10])), r"unknown ids \[10\]"),
        (dict(classes=np.array([-1])), r"unknown ids \[-1\]"),
        (dict(size=3), "size"),
    ],
)
def test_bad_inputs(kwargs, match):
    arguments = dict(images=IMAGE[None], classes=np.array([1]), size=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        silhouette_label_maps(**arguments)


def test_one_hot_rejects_unknown_ids():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        one_hot_label_maps(np.array([[[0, 3]]]), 3)
    with pytest.raises(ValueError, match="integer"):
        one_hot_label_maps(np.array([[[0.5]]]), 3)
