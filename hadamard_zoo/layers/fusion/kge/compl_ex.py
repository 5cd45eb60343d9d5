"""ComplEx: the real part of a complex trilinear product."""

import keras
from keras import ops

from hadamard_zoo.layers.fusion.kge._triples import _TripleScore
from hadamard_zoo.layers.fusion.kge._triples import complex_query


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ComplEx(_TripleScore):
    """ComplEx score: `Re(Σ_k h_k r_k conj(t_k))` in complex space.

    Entities and relations are vectors of `d` complex numbers, each stored
    as `2d` reals (the real parts, then the imaginary parts):

    ```
    h = h[:d] + i h[d:],   r = r[:d] + i r[d:],   t = t[:d] + i t[d:]
    score(h, r, t) = Re(Σ_k h_k r_k conj(t_k))
    ```

    the DistMult trilinear (Hadamard) product taken in ℂ^d. Swapping
    `h` and `t` conjugates the sum, so a real relation scores
    symmetrically and an imaginary one antisymmetrically. Higher scores
    mean more plausible triples. When the head holds the candidates (a
    head-corrupted batch) the layer computes `Re(Σ_k h_k conj(conj(r_k)
    t_k))`, the same number with `conj(r) t` formed once per triple, as
    the reference does.

    The layer has no weights and no arguments: the embeddings come from a
    backbone.

    Args:
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[head, relation, tail]` of tensors of shape
            `(..., 2d)`, all of rank 2 `(batch, 2d)` or all of rank 3
            `(batch, candidates, 2d)`, whose leading axes broadcast
            together: `(B, 1, 2d)` everywhere for single triples, or a
            `(B, K, 2d)` head (head-corrupted) or tail (tail-corrupted) of
            `K` candidates.

    Returns:
        Scores of the broadcast leading shape, e.g. `(B, K)` or `(B,)`.

    Example:

    >>> import numpy as np
    >>> head = np.array([[1.0, 0.0]], "float32")  # 1 + 0i
    >>> relation = np.array([[0.0, 1.0]], "float32")  # i
    >>> tail = np.array([[0.0, 1.0]], "float32")  # i
    >>> layer = ComplEx()
    >>> keras.ops.convert_to_numpy(layer([head, relation, tail])).tolist()
    [1.0]
    >>> keras.ops.convert_to_numpy(layer([tail, relation, head])).tolist()
    [-1.0]

    Reference:
        Trouillon et al., "Complex Embeddings for Simple Link
        Prediction", ICML 2016.
    """

    def check_widths(self, shapes):
        widths = {shape[-1] for shape in shapes}
        if len(widths) > 1 or widths.pop() % 2:
            raise self.width_error(
                "head, relation and tail of the same even width 2d (real "
                "parts, then imaginary parts)",
                shapes,
            )

    def score(self, head, relation, tail, head_batch):
        # conj(r) t, then Re(h conj(conj(r) t)) when the head holds the
        # candidates; else h r, then Re(h r conj(t)).
        known, other = (tail, head) if head_batch else (head, tail)
        query_re, query_im = complex_query(
            *ops.split(known, 2, axis=-1),
            *ops.split(relation, 2, axis=-1),
            "head" if head_batch else "tail",
        )
        other_re, other_im = ops.split(other, 2, axis=-1)
        return ops.sum(query_re * other_re + query_im * other_im, axis=-1)

    def score_candidates(self, known, relation, candidates, side):
        """`(B, E)` scores of every candidate as one matrix product.

        Both sides are `Re(Σ_k q_k conj(c_k)) = [q_re, q_im] · [c_re, c_im]`
        for a query `q` made of the known entity and the relation: `h r`
        against tails `c`, `conj(r) t` against heads (as in `score`).
        """
        query = complex_query(
            *ops.split(known, 2, axis=-1),
            *ops.split(relation, 2, axis=-1),
            side,
        )
        query = ops.concatenate(query, axis=-1)
        return ops.matmul(query, ops.transpose(candidates))
