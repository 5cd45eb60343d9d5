"""Entity and relation embeddings scored by a knowledge-graph model."""

import keras
from keras import ops
from keras_hub.models import Backbone

from hadamard_zoo.layers.fusion.kge import ComplEx
from hadamard_zoo.layers.fusion.kge import DistMult
from hadamard_zoo.layers.fusion.kge import RotatE
from hadamard_zoo.layers.fusion.kge import TransE
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

SCORING_FUNCTIONS = ("rotate", "transe", "distmult", "complex")
# RotatE's code draws every embedding from U(-ρ, ρ), ρ = (γ + ε) / d.
EPSILON = 2.0


def _dimensions(scoring, embedding_dim):
    """(entity, relation) embedding sizes: complex ones store re | im."""
    if scoring == "rotate":
        return 2 * embedding_dim, embedding_dim  # relations are phases
    if scoring == "complex":
        return 2 * embedding_dim, 2 * embedding_dim
    return embedding_dim, embedding_dim


def _scorer(scoring, gamma, embedding_dim, norm, dtype):
    if scoring == "rotate":
        return RotatE(
            gamma, embedding_dim, epsilon=EPSILON, dtype=dtype, name="scorer"
        )
    if scoring == "transe":
        return TransE(gamma, norm=norm, dtype=dtype, name="scorer")
    if scoring == "distmult":
        return DistMult(dtype=dtype, name="scorer")
    return ComplEx(dtype=dtype, name="scorer")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class KnowledgeGraphEmbeddingBackbone(PresetNameMixin, Backbone):
    """Entity and relation embeddings and the score of (h, r, t) triples.

    A functional keras-hub `Backbone` for link prediction. Its inputs are
    integer ids; the head and tail ids may hold several candidates per
    example (negative samples, or every entity when ranking):

    ```
    heads (B, Nh) ─ entity_embedding ──┐
    relations (B, 1) ─ relation_embedding ─ scorer -> scores (B, max(Nh, Nt))
    tails (B, Nt) ─ entity_embedding ──┘
    ```

    with `Nh = 1` or `Nt = 1` (the two broadcast). The scorer is one of

    - `"rotate"` (RotatE): `γ - Σ_k |h_k r_k - t_k|`, `r_k = e^{iθ_k}`: a
      relation rotates the head in complex space, a Hadamard product;
    - `"transe"`: `γ - ||h + r - t||_p`;
    - `"distmult"`: `Σ_k h_k r_k t_k`, a Hadamard trilinear product;
    - `"complex"` (ComplEx): `Re(Σ_k h_k r_k conj(t_k))`.

    Higher scores are more plausible. Every embedding starts uniform in
    `[-ρ, ρ]`, `ρ = (γ + 2) / embedding_dim`, as in the RotatE code (for
    RotatE the relation values become phases `θ = r / (ρ / π)`, so the
    initial phases cover `[-π, π]`).

    Args:
        num_entities: int, number of entities.
        num_relations: int, number of relations.
        embedding_dim: int, `d`: complex dimensions for RotatE and ComplEx
            (2 d real numbers per entity), real ones otherwise.
        scoring: `"rotate"`, `"transe"`, `"distmult"` or `"complex"`.
        gamma: float > 0, the margin `γ` (used by RotatE and TransE, and
            by all in the initialisation range).
        norm: 1 or 2, TransE's `p`.
        dtype: dtype policy of the layers.

    Example:

    >>> import numpy as np
    >>> backbone = KnowledgeGraphEmbeddingBackbone(
    ...     num_entities=5, num_relations=2, embedding_dim=4, gamma=6.0
    ... )
    >>> scores = backbone(
    ...     {
    ...         "heads": np.array([[0], [1]]),
    ...         "relations": np.array([[1], [0]]),
    ...         "tails": np.array([[2, 3, 4], [0, 1, 2]]),
    ...     }
    ... )
    >>> tuple(scores.shape)
    (2, 3)

    Reference:
        Sun et al., "RotatE: Knowledge Graph Embedding by Relational
        Rotation in Complex Space", ICLR 2019.
    """

    def __init__(
        self,
        num_entities,
        num_relations,
        embedding_dim,
        scoring="rotate",
        gamma=12.0,
        norm=1,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        num_entities = check_int("num_entities", num_entities)
        num_relations = check_int("num_relations", num_relations)
        embedding_dim = check_int("embedding_dim", embedding_dim)
        scoring = check_choice("scoring", scoring, SCORING_FUNCTIONS)
        gamma = check_float("gamma", gamma, minimum=0.0)
        if gamma <= 0:
            raise ValueError(
                f"`gamma` must be a float > 0. Received: gamma={gamma}."
            )
        # check_int first: `True == 1` would pass check_choice alone.
        norm = check_choice("norm", check_int("norm", norm), (1, 2))

        # === Layers ===
        entity_dim, relation_dim = _dimensions(scoring, embedding_dim)
        limit = (gamma + EPSILON) / embedding_dim
        self.entity_embedding = keras.layers.Embedding(
            num_entities,
            entity_dim,
            embeddings_initializer=keras.initializers.RandomUniform(
                -limit, limit
            ),
            dtype=dtype,
            name="entity_embedding",
        )
        self.relation_embedding = keras.layers.Embedding(
            num_relations,
            relation_dim,
            embeddings_initializer=keras.initializers.RandomUniform(
                -limit, limit
            ),
            dtype=dtype,
            name="relation_embedding",
        )
        self.scorer = _scorer(scoring, gamma, embedding_dim, norm, dtype)

        # === Functional model ===
        heads = keras.Input(shape=(None,), dtype="int32", name="heads")
        relations = keras.Input(shape=(None,), dtype="int32", name="relations")
        tails = keras.Input(shape=(None,), dtype="int32", name="tails")
        scores = self.scorer(
            [
                self.entity_embedding(heads),
                self.relation_embedding(relations),
                self.entity_embedding(tails),
            ]
        )
        super().__init__(
            inputs={"heads": heads, "relations": relations, "tails": tails},
            outputs=scores,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.num_entities = num_entities
        self.num_relations = num_relations
        self.embedding_dim = embedding_dim
        self.scoring = scoring
        self.gamma = gamma
        self.norm = norm

    def score_against_all_entities(self, ids, relations, side):
        """Scores of every entity as the `side` of `(ids, relations)`.

        Args:
            ids: int tensor `(B,)`, the known entity of each query: its
                head when `side="tail"`, its tail when `side="head"`.
            relations: int tensor `(B,)`.
            side: `"head"` or `"tail"`, the position being ranked.

        Returns:
            A `(B, num_entities)` score tensor.
        """
        side = check_choice("side", side, ("head", "tail"))
        known = self.entity_embedding(ids)
        relation = self.relation_embedding(relations)
        candidates = ops.cast(self.entity_embedding.embeddings, known.dtype)
        return self.scorer.score_all(known, relation, candidates, side)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_entities": self.num_entities,
                "num_relations": self.num_relations,
                "embedding_dim": self.embedding_dim,
                "scoring": self.scoring,
                "gamma": self.gamma,
                "norm": self.norm,
            }
        )
        return config
