"""Batches of true triples and their corruptions, as RotatE trains.

Each batch corrupts one side of its triples: even batches replace the
head (`"head"` batches), odd ones the tail, as RotatE's bidirectional
iterator alternates. Negatives are drawn uniformly over the entities and
filtered: a candidate that forms a known true triple is drawn again.
"""

import math

import keras
import numpy as np

from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int

# RotatE's subsampling counts start at 4 (word2vec-style smoothing).
COUNT_START = 4
# Rounds of redrawing before a triple is declared unsampleable.
MAX_ROUNDS = 50


def _check_triples(triples, num_entities, num_relations):
    triples = np.asarray(triples)
    if triples.ndim != 2 or triples.shape[1] != 3 or len(triples) == 0:
        raise ValueError(
            "`triples` must be a non-empty integer array of shape (n, 3) "
            f"(head, relation, tail ids). Received shape {triples.shape}."
        )
    if not np.issubdtype(triples.dtype, np.integer):
        raise TypeError(
            f"`triples` must hold integer ids. Received dtype {triples.dtype}."
        )
    for column, limit, what in (
        (0, num_entities, "head"),
        (1, num_relations, "relation"),
        (2, num_entities, "tail"),
    ):
        ids = triples[:, column]
        if ids.min() < 0 or ids.max() >= limit:
            raise ValueError(
                f"`triples` holds {what} ids outside [0, {limit}): "
                f"min {ids.min()}, max {ids.max()}."
            )
    return triples.astype("int64")


def subsampling_weights(triples):
    """RotatE's `1 / sqrt(count(h, r) + count(t, -r-1))` per triple."""
    heads, relations, tails = triples.T
    _, head_index, head_counts = np.unique(
        np.stack([heads, relations], 1),
        axis=0,
        return_inverse=True,
        return_counts=True,
    )
    _, tail_index, tail_counts = np.unique(
        np.stack([tails, relations], 1),
        axis=0,
        return_inverse=True,
        return_counts=True,
    )
    counts = (
        head_counts[head_index.ravel()]
        + tail_counts[tail_index.ravel()]
        + 2 * COUNT_START
    )
    return 1.0 / np.sqrt(counts.astype("float64"))


class NegativeSamplingBatches(keras.utils.PyDataset):
    """Training batches for `KnowledgeGraphLinkPredictor.fit`.

    A stream of steps: a pass over the training triples is
    `2 * ceil(n / batch_size)` steps, alternately corrupting heads and
    tails, each side in its own shuffled order per pass. An epoch is
    `steps_per_epoch` consecutive steps of that stream (default: one
    pass), so long step-based schedules (RotatE counts steps, not
    passes) still checkpoint at regular intervals.

    Item `i` is `(x, y, sample_weight)`: `x` holds `heads`, `relations`
    and `tails` id arrays where the corrupted side has `1 + negatives`
    columns, the true entity first; `y` is a dummy zero per triple (the
    loss reads only the scores); `sample_weight` is RotatE's subsampling
    weight scaled to mean 1 in the batch (or 1 everywhere).

    Args:
        triples: int array `(n, 3)` of training (head, relation, tail).
        num_entities, num_relations: sizes of the id ranges.
        negatives: int, corruptions per triple.
        batch_size: int, triples per batch (the last one of a side may be
            smaller).
        steps_per_epoch: int, or `None` for one pass.
        known_triples: int array `(m, 3)`, the triples negatives must not
            form (default: `triples`, as in RotatE's training).
        subsampling: bool, use the subsampling weights.
        seed: int; the batches of a step depend on `(seed, step)` only, so
            a resumed run sees the same batches.
    """

    def __init__(
        self,
        triples,
        num_entities,
        num_relations,
        negatives=256,
        batch_size=512,
        steps_per_epoch=None,
        known_triples=None,
        subsampling=True,
        seed=0,
    ):
        super().__init__()
        self.num_entities = check_int("num_entities", num_entities)
        self.num_relations = check_int("num_relations", num_relations)
        self.triples = _check_triples(
            triples, self.num_entities, self.num_relations
        )
        self.negatives = check_int("negatives", negatives)
        self.batch_size = check_int("batch_size", batch_size)
        self.steps_per_pass = 2 * math.ceil(len(self.triples) / batch_size)
        if steps_per_epoch is None:
            steps_per_epoch = self.steps_per_pass
        self.steps_per_epoch = check_int("steps_per_epoch", steps_per_epoch)
        self.subsampling = check_bool("subsampling", subsampling)
        self.seed = check_int("seed", seed, minimum=0)
        known = self.triples
        if known_triples is not None:
            known = _check_triples(
                known_triples, self.num_entities, self.num_relations
            )
        # A true triple as one int64: (anchor, relation, entity) with the
        # anchor the side kept and entity the side corrupted.
        heads, relations, tails = known.T
        self._true_tails = np.unique(self._code(heads, relations, tails))
        self._true_heads = np.unique(self._code(tails, relations, heads))
        if self.subsampling:
            self.weights = subsampling_weights(self.triples)
        else:
            self.weights = np.ones(len(self.triples))
        self.epoch = 0
        self._orders_pass = None

    def _code(self, anchors, relations, entities):
        return (
            anchors * self.num_relations + relations
        ) * self.num_entities + entities

    def _orders(self, pass_index):
        """The (head-side, tail-side) triple orders of one pass."""
        if self._orders_pass != pass_index:
            rng = np.random.default_rng([self.seed, pass_index])
            n = len(self.triples)
            self._cached_orders = (rng.permutation(n), rng.permutation(n))
            self._orders_pass = pass_index
        return self._cached_orders

    def __len__(self):
        return self.steps_per_epoch

    def on_epoch_end(self):
        self.epoch += 1

    def set_epoch(self, epoch):
        """Positions the stream at the start of `epoch` (for resuming)."""
        self.epoch = check_int("epoch", epoch, minimum=0)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        step = self.epoch * self.steps_per_epoch + index
        pass_index, position = divmod(step, self.steps_per_pass)
        side = "head" if position % 2 == 0 else "tail"
        order = self._orders(pass_index)[position % 2]
        start = (position // 2) * self.batch_size
        rows = order[start : start + self.batch_size]
        batch = self.triples[rows]
        rng = np.random.default_rng([self.seed, step, 1])
        negatives = self.sample_negatives(batch, side, rng)
        heads, relations, tails = (batch[:, i : i + 1] for i in range(3))
        if side == "head":
            heads = np.concatenate([heads, negatives], 1)
        else:
            tails = np.concatenate([tails, negatives], 1)
        weights = self.weights[rows]
        weights = weights * (len(rows) / weights.sum())
        x = {
            "heads": heads.astype("int32"),
            "relations": relations.astype("int32"),
            "tails": tails.astype("int32"),
        }
        y = np.zeros((len(rows),), "float32")
        return x, y, weights.astype("float32")

    def sample_negatives(self, batch, side, rng):
        """`(len(batch), negatives)` entity ids forming no known triple."""
        heads, relations, tails = batch.T
        if side == "head":
            anchors, known = tails, self._true_heads
        else:
            anchors, known = heads, self._true_tails
        keys = self._code(anchors, relations, 0)[:, None]
        result = np.empty((len(batch), self.negatives), "int64")
        filled = np.zeros(len(batch), "int64")
        todo = np.arange(len(batch))
        for _ in range(MAX_ROUNDS):
            if not len(todo):
                return result
            # Twice the shortfall per draw: few rows need a second round.
            size = 2 * int((self.negatives - filled[todo]).max())
            draws = rng.integers(0, self.num_entities, (len(todo), size))
            codes = keys[todo] + draws
            position = np.searchsorted(known, codes)
            position = np.minimum(position, len(known) - 1)
            valid = known[position] != codes
            for row, row_draws, row_valid in zip(
                todo, draws, valid, strict=True
            ):
                take = row_draws[row_valid][: self.negatives - filled[row]]
                result[row, filled[row] : filled[row] + len(take)] = take
                filled[row] += len(take)
            todo = todo[filled[todo] < self.negatives]
        if not len(todo):
            return result
        raise ValueError(
            f"Could not draw {self.negatives} negatives in {MAX_ROUNDS} "
            f"rounds for the {side} of triple {batch[todo[0]].tolist()}: "
            "almost every entity forms a known triple with it."
        )
