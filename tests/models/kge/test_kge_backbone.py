import inspect
import json

import keras
import numpy as np
import pytest
from kge_references import reference_scores

from hadamard_zoo.models.kge import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor

NUM_ENTITIES, NUM_RELATIONS, DIM, GAMMA = 9, 3, 4, 6.0
SCORINGS = ("rotate", "transe", "distmult", "complex")


def backbone_with_weights(scoring, seed=0):
    """A backbone whose embeddings are seeded NumPy draws (any backend)."""
    backbone = KnowledgeGraphEmbeddingBackbone(
        NUM_ENTITIES, NUM_RELATIONS, DIM, scoring=scoring, gamma=GAMMA
    )
    rng = np.random.default_rng(seed)
    entities = rng.uniform(-1, 1, backbone.entity_embedding.embeddings.shape)
    relations = rng.uniform(-1, 1, backbone.relation_embedding.embeddings.shape)
    backbone.entity_embedding.embeddings.assign(entities.astype("float32"))
    backbone.relation_embedding.embeddings.assign(relations.astype("float32"))
    return backbone, entities, relations


def ids(rng, shape, limit):
    return rng.integers(0, limit, shape).astype("int32")


@pytest.mark.parametrize("scoring", SCORINGS)
@pytest.mark.parametrize("corrupt", ["head", "tail", "none"])
def test_scores_match_the_reference(scoring, corrupt):
    backbone, entities, relations = backbone_with_weights(scoring)
    rng = np.random.default_rng(1)
    heads = ids(rng, (4, 5 if corrupt == "head" else 1), NUM_ENTITIES)
    tails = ids(rng, (4, 5 if corrupt == "tail" else 1), NUM_ENTITIES)
    rels = ids(rng, (4, 1), NUM_RELATIONS)
    x = {"heads": heads, "relations": rels, "tails": tails}
    expected = reference_scores(
        scoring, GAMMA, entities, relations, heads, rels, tails
    )
    actual = keras.ops.convert_to_numpy(backbone(x))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)
    # The compiled path (jit / tf.function) too.
    compiled = backbone.predict_on_batch(x)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(compiled), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("scoring", SCORINGS)
@pytest.mark.parametrize("side", ["head", "tail"])
def test_scores_against_all_entities(scoring, side):
    backbone, entities, relations = backbone_with_weights(scoring)
    predictor = KnowledgeGraphLinkPredictor(backbone)
    rng = np.random.default_rng(2)
    known = ids(rng, (6,), NUM_ENTITIES)
    rels = ids(rng, (6,), NUM_RELATIONS)
    everyone = np.tile(np.arange(NUM_ENTITIES, dtype="int32"), (6, 1))
    if side == "tail":
        heads, tails = known[:, None], everyone
    else:
        heads, tails = everyone, known[:, None]
    expected = reference_scores(
        scoring, GAMMA, entities, relations, heads, rels[:, None], tails
    )
    actual = predictor.score_all(known, rels, side)
    assert actual.shape == (6, NUM_ENTITIES)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def test_initialisation_range():
    # Seeded: unseeded, the 40 relation phases all fell below 0.8 * limit
    # in about 1.5% of runs (0.9 ** 40).
    keras.utils.set_random_seed(0)
    backbone = KnowledgeGraphEmbeddingBackbone(50, 4, 10, gamma=8.0)
    limit = (8.0 + 2.0) / 10
    for variable in backbone.weights:
        values = keras.ops.convert_to_numpy(variable)
        assert values.min() >= -limit and values.max() <= limit
        # Uniform over the range, not a narrow default initialiser.
        assert values.max() > 0.8 * limit
    assert backbone.entity_embedding.embeddings.shape == (50, 20)
    assert backbone.relation_embedding.embeddings.shape == (4, 10)


@pytest.mark.parametrize(
    "scoring, entity_dim, relation_dim",
    [("rotate", 8, 4), ("complex", 8, 8), ("transe", 4, 4), ("distmult", 4, 4)],
)
def test_embedding_sizes(scoring, entity_dim, relation_dim):
    backbone = KnowledgeGraphEmbeddingBackbone(5, 2, 4, scoring=scoring)
    assert backbone.entity_embedding.embeddings.shape == (5, entity_dim)
    assert backbone.relation_embedding.embeddings.shape == (2, relation_dim)


def test_config_round_trip_and_preset(tmp_path):
    backbone, _, _ = backbone_with_weights("rotate")
    config = backbone.get_config()
    params = inspect.signature(KnowledgeGraphEmbeddingBackbone.__init__)
    missing = [
        n
        for n in params.parameters
        if n not in ("self", "kwargs", "dtype") and n not in config
    ]
    assert not missing
    clone = KnowledgeGraphEmbeddingBackbone.from_config(
        json.loads(json.dumps(config))
    )
    clone.set_weights(backbone.get_weights())
    x = {
        "heads": np.array([[1], [2]], "int32"),
        "relations": np.array([[0], [2]], "int32"),
        "tails": np.array([[3, 4], [5, 6]], "int32"),
    }
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(clone(x)),
        keras.ops.convert_to_numpy(backbone(x)),
    )
    backbone.save_to_preset(str(tmp_path / "preset"))
    restored = KnowledgeGraphEmbeddingBackbone.from_preset(
        str(tmp_path / "preset")
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored(x)),
        keras.ops.convert_to_numpy(backbone(x)),
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_entities": 0}, "num_entities"),
        ({"num_relations": 1.5}, "num_relations"),
        ({"embedding_dim": -3}, "embedding_dim"),
        ({"scoring": "rescal"}, "scoring"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": -1.0}, "gamma"),
        ({"gamma": "big"}, "gamma"),
        ({"norm": 3}, "norm"),
    ],
)
def test_bad_arguments(kwargs, match):
    arguments = dict(num_entities=5, num_relations=2, embedding_dim=4)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        KnowledgeGraphEmbeddingBackbone(**arguments)
