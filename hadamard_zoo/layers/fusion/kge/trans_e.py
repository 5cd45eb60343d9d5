"""TransE: relations as translations of entity embeddings."""

import keras
from keras import ops

from hadamard_zoo.layers.fusion.kge._triples import _TripleScore
from hadamard_zoo.layers.fusion.kge._triples import check_positive_float
from hadamard_zoo.layers.fusion.kge._triples import safe_sqrt
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class TransE(_TripleScore):
    """TransE score: how far the translated head lands from the tail.

    A relation is a translation `r` in the entity space; a true triple has
    `h + r ≈ t`:

    ```
    score(h, r, t) = γ - ||h + r - t||_p,   p = 1 or 2
    ```

    Higher scores mean more plausible triples. When the head holds the
    candidates (a head-corrupted batch) the layer computes
    `h + (r - t)`, the reference's order, which subtracts once per triple
    instead of once per candidate.

    The layer has no weights: the embeddings come from a backbone.

    Args:
        gamma: float > 0, the margin `γ`.
        norm: `1` or `2`, the order `p` of the distance. Defaults to `1`,
            as the RotatE reference code.
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
    >>> layer = TransE(gamma=12.0, norm=2)
    >>> head = np.zeros((1, 2), "float32")
    >>> relation = np.array([[3.0, 4.0]], "float32")
    >>> tail = np.zeros((1, 2), "float32")
    >>> keras.ops.convert_to_numpy(layer([head, relation, tail])).tolist()
    [7.0]

    Reference:
        Bordes et al., "Translating Embeddings for Modeling
        Multi-relational Data", NeurIPS 2013.
    """

    def __init__(self, gamma, norm=1, **kwargs):
        super().__init__(**kwargs)
        self.gamma = check_positive_float("gamma", gamma)
        self.norm = check_choice("norm", check_int("norm", norm), (1, 2))

    def check_widths(self, shapes):
        if len({shape[-1] for shape in shapes}) > 1:
            raise self.width_error(
                "head, relation and tail of the same width", shapes
            )

    def score(self, head, relation, tail, head_batch):
        if head_batch:
            diff = head + (relation - tail)
        else:
            diff = (head + relation) - tail
        if self.norm == 1:
            distance = ops.sum(ops.abs(diff), axis=-1)
        else:
            distance = safe_sqrt(ops.sum(diff * diff, axis=-1))
        return self.gamma - distance

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma, "norm": self.norm})
        return config
