import numpy as np

from hadamard_zoo.training.image_batches import ImageBatches
from hadamard_zoo.training.image_batches import augment


def _data(n=10):
    images = np.arange(n * 4 * 4, dtype="float32").reshape(n, 4, 4, 1)
    return images, np.arange(n)


def test_batches_cover_the_epoch_once_in_a_seeded_order():
    images, labels = _data()
    batches = ImageBatches(images, labels, batch_size=4, seed=1)
    assert len(batches) == 3
    seen = np.concatenate([batches[i][1] for i in range(len(batches))])
    np.testing.assert_array_equal(np.sort(seen), labels)
    again = ImageBatches(images, labels, batch_size=4, seed=1)
    np.testing.assert_array_equal(again[0][1], batches[0][1])
    batches.set_epoch(1)
    other_epoch = np.concatenate([batches[i][1] for i in range(3)])
    assert not np.array_equal(other_epoch, seen)


def test_resuming_at_an_epoch_gives_the_same_batches():
    images, labels = _data()
    run = ImageBatches(images, labels, 4, seed=2, shift=1, flip=True)
    first = run[0][0]
    run.set_epoch(2)
    resumed = ImageBatches(
        images, labels, 4, seed=2, shift=1, flip=True, epoch=2
    )
    assert not np.array_equal(first, resumed[0][0])
    for i in range(3):
        np.testing.assert_array_equal(run[i][0], resumed[i][0])


def test_evaluation_batches_are_in_order_and_untouched():
    images, labels = _data()
    batches = ImageBatches(images, labels, 4, shuffle=False, shift=2)
    np.testing.assert_array_equal(batches[0][0], images[:4])
    np.testing.assert_array_equal(batches[2][1], labels[8:])


def test_shift_moves_content_and_fills_with_the_background():
    image = np.full((1, 5, 5, 1), -1.0, "float32")
    image[0, 2, 2, 0] = 1.0
    rng = np.random.default_rng(0)
    shifted = augment(np.repeat(image, 50, axis=0), rng, shift=2, flip=False)
    assert shifted.shape == (50, 5, 5, 1)
    # Every result is the same image translated: one bright pixel, the rest
    # background, and the bright pixel lands somewhere else at least once.
    assert np.all(np.sum(shifted == 1.0, axis=(1, 2, 3)) == 1)
    assert np.all((shifted == 1.0) | (shifted == -1.0))
    positions = {tuple(np.argwhere(s[..., 0] == 1.0)[0]) for s in shifted}
    assert len(positions) > 1


def test_flip_mirrors_left_and_right():
    image = np.zeros((1, 2, 3, 1), "float32")
    image[0, :, 0, 0] = 1.0
    rng = np.random.default_rng(0)
    flipped = augment(np.repeat(image, 20, axis=0), rng, shift=0, flip=True)
    mirrored = [np.array_equal(f, image[0, :, ::-1]) for f in flipped]
    unchanged = [np.array_equal(f, image[0]) for f in flipped]
    assert any(mirrored) and any(unchanged)
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))


def test_array_batches_serve_dicts_in_the_same_order_as_labels():
    from hadamard_zoo.training.array_batches import ArrayBatches

    ids = np.arange(10)[:, None] * np.ones((1, 3), "int32")
    batches = ArrayBatches({"ids": ids, "mask": ids > 4}, np.arange(10), 4)
    batches.set_epoch(1)
    seen = []
    for index in range(len(batches)):
        features, labels = batches[index]
        np.testing.assert_array_equal(features["ids"][:, 0], labels)
        np.testing.assert_array_equal(features["mask"][:, 0], labels > 4)
        seen += list(labels)
    assert sorted(seen) == list(range(10)) and seen != list(range(10))
    batches.set_epoch(1)
    np.testing.assert_array_equal(batches[0][1], seen[:4])
