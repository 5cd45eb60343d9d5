"""NumPy references of the knowledge-graph scores, written with complex
numbers and loops, independent of the layers' real-arithmetic code."""

import numpy as np

EPSILON = 2.0


def complex_parts(x):
    d = x.shape[-1] // 2
    return x[..., :d] + 1j * x[..., d:]


def reference_scores(scoring, gamma, entities, relations, heads, rels, tails):
    """Scores of `(heads[b, i], rels[b, 0], tails[b, j])`, one side 1 wide.

    Returns shape (B, max(Nh, Nt)), looping over examples and candidates.
    """
    batch = heads.shape[0]
    width = max(heads.shape[1], tails.shape[1])
    out = np.zeros((batch, width))
    d = relations.shape[-1]
    for b in range(batch):
        for k in range(width):
            h = entities[heads[b, min(k, heads.shape[1] - 1)]].astype("f8")
            r = relations[rels[b, 0]].astype("f8")
            t = entities[tails[b, min(k, tails.shape[1] - 1)]].astype("f8")
            if scoring == "rotate":
                rho = (gamma + EPSILON) / d
                rotation = np.exp(1j * r / (rho / np.pi))
                distance = np.abs(
                    complex_parts(h) * rotation - complex_parts(t)
                )
                out[b, k] = gamma - distance.sum()
            elif scoring == "transe":
                out[b, k] = gamma - np.abs(h + r - t).sum()
            elif scoring == "distmult":
                out[b, k] = (h * r * t).sum()
            else:  # complex
                value = complex_parts(h) * complex_parts(r)
                out[b, k] = np.real((value * np.conj(complex_parts(t))).sum())
    return out


def reference_loss(scores, temperature):
    """RotatE's self-adversarial loss per example, from its definition."""
    scores = scores.astype("f8")
    out = []
    for row in scores:
        positive, negatives = row[0], row[1:]
        p = np.exp(temperature * negatives)
        p /= p.sum()
        log_sigmoid = lambda x: -np.log1p(np.exp(-x))  # noqa: E731
        out.append(
            (-log_sigmoid(positive) - (p * log_sigmoid(-negatives)).sum()) / 2
        )
    return np.array(out)
