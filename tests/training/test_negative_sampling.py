import numpy as np
import pytest

from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches
from hadamard_zoo.training.negative_sampling import subsampling_weights

NUM_ENTITIES, NUM_RELATIONS = 12, 3


def random_triples(n=40, seed=0):
    rng = np.random.default_rng(seed)
    triples = np.stack(
        [
            rng.integers(0, NUM_ENTITIES, n),
            rng.integers(0, NUM_RELATIONS, n),
            rng.integers(0, NUM_ENTITIES, n),
        ],
        1,
    )
    return np.unique(triples, axis=0)


def batches(triples, **kwargs):
    arguments = dict(negatives=6, batch_size=8, seed=3)
    arguments.update(kwargs)
    return NegativeSamplingBatches(
        triples, NUM_ENTITIES, NUM_RELATIONS, **arguments
    )


def test_layout_alternates_sides_and_puts_the_true_entity_first():
    triples = random_triples()
    stream = batches(triples)
    known = {tuple(t) for t in triples.tolist()}
    seen = []
    for index in range(len(stream)):
        x, y, w = stream[index]
        corrupted = "heads" if index % 2 == 0 else "tails"
        kept = "tails" if corrupted == "heads" else "heads"
        assert x[corrupted].shape[1] == 1 + 6
        assert x[kept].shape[1] == 1 and x["relations"].shape[1] == 1
        assert y.shape == (len(w),) and np.isclose(w.mean(), 1.0)
        for row in range(len(w)):
            h, r, t = (x[k][row, 0] for k in ("heads", "relations", "tails"))
            assert (h, r, t) in known
            seen.append((index % 2, (h, r, t)))
            for candidate in x[corrupted][row, 1:]:
                triple = (
                    (candidate, r, t)
                    if corrupted == "heads"
                    else (h, r, candidate)
                )
                assert triple not in known, "a negative is a true triple"
    # One pass corrupts every triple once on each side.
    for side in (0, 1):
        assert sorted(t for s, t in seen if s == side) == sorted(known)


def test_negatives_are_uniform_over_the_other_entities():
    triples = np.array([[0, 0, 1]])
    stream = batches(triples, negatives=2000, batch_size=1)
    x, _, _ = stream[1]  # a tail batch
    negatives = x["tails"][0, 1:]
    assert 1 not in negatives  # the one true tail is filtered out
    counts = np.bincount(negatives, minlength=NUM_ENTITIES)
    others = np.delete(counts, 1)
    expected = 2000 / (NUM_ENTITIES - 1)
    assert np.all(np.abs(others - expected) < 5 * np.sqrt(expected))


def test_same_seed_same_batches_and_resume_position():
    triples = random_triples()
    a = batches(triples, steps_per_epoch=3)
    b = batches(triples, steps_per_epoch=3)
    b.set_epoch(2)
    # Step 6 of the stream is batch 0 of epoch 2, whoever computes it.
    for _ in range(2):
        a.on_epoch_end()
    for key in ("heads", "relations", "tails"):
        np.testing.assert_array_equal(a[0][0][key], b[0][0][key])
    c = batches(triples, seed=4)
    assert not np.array_equal(c[0][0]["heads"], batches(triples)[0][0]["heads"])


def test_epochs_continue_the_stream_across_passes():
    triples = random_triples(n=20)
    stream = batches(triples, batch_size=8, steps_per_epoch=4)
    assert stream.steps_per_pass == 2 * int(np.ceil(len(triples) / 8))
    whole = batches(triples, batch_size=8, steps_per_epoch=8)
    # Epoch 1 of 4-step epochs holds the steps 4..7 of 8-step epoch 0.
    stream.set_epoch(1)
    for index in range(4):
        np.testing.assert_array_equal(
            stream[index][0]["tails"], whole[4 + index][0]["tails"]
        )


def reference_negatives(stream, batch, side, rng):
    """One row at a time: draw, drop known triples, keep the first ones.

    The documented rule, written plainly: per round, each unfinished row
    draws twice the largest shortfall, and appends its draws that form no
    known triple, in order, until it holds `negatives`.
    """
    known = {tuple(t) for t in stream.triples.tolist()}
    result = [[] for _ in batch]
    todo = list(range(len(batch)))
    for _ in range(50):
        if not todo:
            break
        size = 2 * max(stream.negatives - len(result[i]) for i in todo)
        draws = rng.integers(0, stream.num_entities, (len(todo), size))
        for row, row_draws in zip(todo, draws, strict=True):
            h, r, t = batch[row].tolist()
            for entity in row_draws.tolist():
                triple = (entity, r, t) if side == "head" else (h, r, entity)
                if triple not in known and len(result[row]) < stream.negatives:
                    result[row].append(entity)
        todo = [i for i in todo if len(result[i]) < stream.negatives]
    return np.array(result)


@pytest.mark.parametrize("side", ["head", "tail"])
def test_negatives_equal_the_row_by_row_reference(side):
    # A dense graph: most draws are true triples, so rows need several
    # rounds and finish at different times.
    triples = random_triples(n=300, seed=1)
    stream = batches(triples, negatives=5)
    batch = triples[:16]
    got = stream.sample_negatives(batch, side, np.random.default_rng(7))
    expected = reference_negatives(
        stream, batch, side, np.random.default_rng(7)
    )
    np.testing.assert_array_equal(got, expected)


def test_subsampling_weights_reference():
    triples = np.array([[0, 0, 1], [0, 0, 2], [3, 0, 2], [4, 1, 2]])
    # count(h, r) and count(t, r), each starting at 4 (RotatE's code).
    expected = []
    for h, r, t in triples.tolist():
        head_count = 4 + sum(
            1 for a, b, _ in triples.tolist() if (a, b) == (h, r)
        )
        tail_count = 4 + sum(
            1 for _, b, c in triples.tolist() if (c, b) == (t, r)
        )
        expected.append(1 / np.sqrt(head_count + tail_count))
    np.testing.assert_allclose(subsampling_weights(triples), expected)
    _, _, w = batches(triples, subsampling=False)[0]
    np.testing.assert_array_equal(w, np.ones_like(w))


@pytest.mark.parametrize(
    "triples, error, match",
    [
        (np.zeros((0, 3), int), ValueError, "non-empty"),
        (np.zeros((4, 2), int), ValueError, r"\(n, 3\)"),
        (np.zeros((4, 3), float), TypeError, "integer"),
        (np.array([[0, 5, 1]]), ValueError, "relation ids"),
        (np.array([[0, 0, 12]]), ValueError, "tail ids"),
        (np.array([[-1, 0, 1]]), ValueError, "head ids"),
    ],
)
def test_bad_triples(triples, error, match):
    with pytest.raises(error, match=match):
        batches(triples)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"negatives": 0}, "negatives"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"steps_per_epoch": 0}, "steps_per_epoch"),
        ({"seed": -1}, "seed"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        batches(random_triples(), **kwargs)


def test_unsampleable_triple_is_reported():
    # Every entity is a known tail of (0, 0): no negative tail exists.
    triples = np.array([[0, 0, e] for e in range(NUM_ENTITIES)])
    stream = batches(triples, batch_size=NUM_ENTITIES)
    with pytest.raises(ValueError, match="negatives"):
        stream[1]
