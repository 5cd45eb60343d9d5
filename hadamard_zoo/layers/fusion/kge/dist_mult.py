"""DistMult: a diagonal bilinear (Hadamard trilinear) triple score."""

import keras
from keras import ops

from hadamard_zoo.layers.fusion.kge._triples import _TripleScore


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class DistMult(_TripleScore):
    """DistMult score: the sum of the Hadamard product of `h`, `r` and `t`.

    A bilinear form `hᵀ diag(r) t` with a diagonal relation matrix:

    ```
    score(h, r, t) = Σ_k h_k r_k t_k = sum(h * r * t)
    ```

    where `*` is the Hadamard product. Higher scores mean more plausible
    triples. The score is symmetric in `h` and `t`, so DistMult cannot
    tell a relation from its inverse. When the head holds the candidates
    (a head-corrupted batch) the layer computes `h * (r * t)`, the
    reference's order, which multiplies `r * t` once per triple.

    The layer has no weights and no arguments: the embeddings come from a
    backbone.

    Args:
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[head, relation, tail]` of tensors of shape
            `(..., d)`, all of rank 2 `(batch, d)` or all of rank 3
            `(batch, candidates, d)`, whose leading axes broadcast
            together: `(B, 1, d)` everywhere for single triples, or a
            `(B, K, d)` head (head-corrupted) or tail (tail-corrupted) of
            `K` candidates.

    Returns:
        Scores of the broadcast leading shape, e.g. `(B, K)` or `(B,)`.

    Example:

    >>> import numpy as np
    >>> head = np.array([[1.0, 2.0]], "float32")
    >>> relation = np.array([[3.0, 4.0]], "float32")
    >>> tail = np.array([[5.0, 6.0]], "float32")
    >>> scores = DistMult()([head, relation, tail])
    >>> keras.ops.convert_to_numpy(scores).tolist()
    [63.0]

    Reference:
        Yang et al., "Embedding Entities and Relations for Learning and
        Inference in Knowledge Bases", ICLR 2015.
    """

    def check_widths(self, shapes):
        if len({shape[-1] for shape in shapes}) > 1:
            raise self.width_error(
                "head, relation and tail of the same width", shapes
            )

    def score(self, head, relation, tail, head_batch):
        if head_batch:
            product = head * (relation * tail)
        else:
            product = (head * relation) * tail
        return ops.sum(product, axis=-1)

    def score_candidates(self, known, relation, candidates, side):
        """`(B, E)` scores of every candidate: `(known * r) @ candidates^T`,
        one matrix product (the score is trilinear, so the known side and
        the relation fold into one query vector)."""
        return ops.matmul(known * relation, ops.transpose(candidates))
