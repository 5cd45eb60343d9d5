"""Average precision (area under the precision-recall curve)."""

import numpy as np


def average_precision(y_true, y_score):
    """Average precision of binary labels ranked by scores, as AUC-PR.

    With the distinct score values taken as thresholds in decreasing order,
    and `P_n`, `R_n` the precision and recall of predicting "positive" for
    every score >= the n-th threshold,

    ```
    AP = Σ_n (R_n - R_{n-1}) P_n,   R_0 = 0
    ```

    which is scikit-learn's `average_precision_score` (a step-wise area,
    not the trapezoidal one that over-estimates it). Examples with equal
    scores cross a threshold together, so the order of ties never matters.

    Args:
        y_true: 1-D array of labels in {0, 1} (or booleans), with at least
            one positive.
        y_score: 1-D array of finite scores of the same length, higher
            meaning "more likely positive".

    Returns:
        The average precision, a float in (0, 1].

    Example:

    >>> # Ranked: 0.9 (pos), 0.8 (neg), 0.7 (pos):
    >>> # AP = 1/2 * 1/1 + 1/2 * 2/3 = 5/6.
    >>> round(average_precision([1, 0, 1], [0.9, 0.8, 0.7]), 4)
    0.8333

    Reference:
        Manning, Raghavan & Schütze, "Introduction to Information
        Retrieval", 2008, section 8.4; the AUC-PR of the Countries tasks in
        Sun et al., "RotatE: Knowledge Graph Embedding by Relational
        Rotation in Complex Space", ICLR 2019.
    """
    y_true, y_score = _check_inputs(y_true, y_score)
    order = np.argsort(-y_score, kind="stable")
    y_score, y_true = y_score[order], y_true[order]
    true_positives = np.cumsum(y_true)
    predicted = np.arange(1, len(y_true) + 1)
    # The last position of each run of equal scores is where its threshold
    # takes effect: every tie is predicted positive at once.
    last_of_run = np.append(np.flatnonzero(np.diff(y_score)), len(y_score) - 1)
    true_positives = true_positives[last_of_run]
    precision = true_positives / predicted[last_of_run]
    recall = true_positives / true_positives[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def _check_inputs(y_true, y_score):
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score)
    if y_true.ndim != 1 or y_score.shape != y_true.shape:
        raise ValueError(
            "`y_true` and `y_score` must be 1-D arrays of the same length. "
            f"Received: y_true.shape={y_true.shape}, "
            f"y_score.shape={y_score.shape}."
        )
    if y_true.dtype == bool:
        y_true = y_true.astype(np.int64)
    if not np.isin(y_true, (0, 1)).all():
        raise ValueError(
            "`y_true` must hold only the labels 0 and 1. "
            f"Received values: {np.unique(y_true)[:10]}."
        )
    if not y_true.any():
        raise ValueError(
            "`y_true` must hold at least one positive label: average "
            "precision is undefined without one."
        )
    if y_score.dtype == bool or not np.issubdtype(y_score.dtype, np.number):
        raise ValueError(
            "`y_score` must hold numbers. "
            f"Received: y_score.dtype={y_score.dtype}."
        )
    if not np.isfinite(y_score).all():
        raise ValueError(
            "`y_score` must hold finite numbers. Received "
            f"{np.size(y_score) - np.isfinite(y_score).sum()} NaN or "
            "infinite value(s)."
        )
    return y_true.astype(np.int64), y_score.astype(np.float64)
