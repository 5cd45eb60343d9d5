import numpy as np
import pytest

from hadamard_zoo.evaluation import average_precision


def loop_average_precision(y_true, y_score):
    """Σ (R_n - R_{n-1}) P_n, one distinct threshold at a time."""
    positives = sum(y_true)
    total, previous_recall = 0.0, 0.0
    for threshold in sorted(set(y_score), reverse=True):
        predicted = [
            y for y, s in zip(y_true, y_score, strict=True) if s >= threshold
        ]
        recall = sum(predicted) / positives
        total += (recall - previous_recall) * sum(predicted) / len(predicted)
        previous_recall = recall
    return total


@pytest.mark.parametrize(
    "y_true, y_score, expected",
    [
        # 0.9 (+): P = 1, R = 1/2; 0.8 (-); 0.7 (+): P = 2/3, R = 1.
        # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
        ([1, 0, 1], [0.9, 0.8, 0.7], 5 / 6),
        # The negative ranked first: P = 1/2 at R = 1/2, P = 2/3 at R = 1.
        # AP = 1/2 * 1/2 + 1/2 * 2/3 = 7/12.
        ([0, 1, 1], [0.9, 0.8, 0.7], 7 / 12),
        # Every positive first: AP = 1.
        ([1, 1, 0, 0], [4, 3, 2, 1], 1.0),
        # Three tied at 0.5, two of them positive, cross the threshold
        # together: P = 2/3 at R = 1 (no credit for ordering inside a tie).
        ([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.1], 2 / 3),
        # 0.9: P = 1 at R = 1/3; 0.6 (tie +, -): P = 2/3 at R = 2/3;
        # 0.3 (tie -, +): P = 3/5 at R = 1.
        # AP = 1/3 * (1 + 2/3 + 3/5) = 34/45.
        ([1, 1, 0, 0, 1], [0.9, 0.6, 0.6, 0.3, 0.3], 34 / 45),
        # All tied: AP is the fraction of positives.
        ([0, 1, 0, 0, 0], [1.0] * 5, 1 / 5),
    ],
)
def test_hand_computed(y_true, y_score, expected):
    assert average_precision(y_true, y_score) == pytest.approx(expected)


def test_order_of_ties_does_not_matter():
    y_true = np.array([1, 0, 1, 0, 0, 1])
    y_score = np.array([0.2, 0.7, 0.7, 0.2, 0.7, 0.9])
    expected = average_precision(y_true, y_score)
    rng = np.random.default_rng(0)
    for _ in range(10):
        order = rng.permutation(len(y_true))
        got = average_precision(y_true[order], y_score[order])
        assert got == pytest.approx(expected, abs=1e-12)


def test_random_against_loop_reference():
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 50, 200):
        y_true = rng.integers(0, 2, size)
        y_true[0] = 1
        # Few distinct values: many ties.
        y_score = rng.integers(0, 6, size) / 5.0
        got = average_precision(y_true, y_score)
        assert got == pytest.approx(
            loop_average_precision(y_true.tolist(), y_score.tolist())
        )


def test_matches_scikit_learn_when_installed():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(5)
    for _ in range(5):
        y_true = rng.integers(0, 2, 100)
        y_true[0] = 1
        y_score = np.round(rng.normal(size=100), 1)
        assert average_precision(y_true, y_score) == pytest.approx(
            metrics.average_precision_score(y_true, y_score)
        )


def test_boolean_labels_and_integer_scores():
    assert average_precision(
        np.array([True, False, True]), np.array([3, 2, 1])
    ) == pytest.approx(5 / 6)


@pytest.mark.parametrize(
    "y_true, y_score, match",
    [
        ([1, 0], [0.1, 0.2, 0.3], "same length"),
        ([[1, 0]], [[0.1, 0.2]], "1-D"),
        ([1, 2], [0.1, 0.2], "0 and 1"),
        ([0, 0], [0.1, 0.2], "at least one positive"),
        ([], [], "at least one positive"),
        ([1, 0], [0.1, np.nan], "finite"),
        ([1, 0], [np.inf, 0.2], "finite"),
        ([1, 0], ["a", "b"], "numbers"),
    ],
)
def test_bad_input(y_true, y_score, match):
    with pytest.raises(ValueError, match=match):
        average_precision(y_true, y_score)
