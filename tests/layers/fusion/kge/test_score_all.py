"""`score_all` of every scorer: all candidates at once, for ranking.

Each scorer ranks entities with its own `score_all` (RotatE: moduli
summed one component at a time; DistMult and ComplEx: one matrix product;
TransE: the base class's broadcast). Each must equal the scorer's NumPy
reference with the candidates in the ranked position, eagerly and inside
a compiled model.
"""

import keras
import numpy as np
import pytest
from test_compl_ex import compl_ex_reference
from test_dist_mult import dist_mult_reference
from test_rotate import rotate_reference
from test_trans_e import trans_e_reference

from hadamard_zoo.layers.fusion.kge.compl_ex import ComplEx
from hadamard_zoo.layers.fusion.kge.dist_mult import DistMult
from hadamard_zoo.layers.fusion.kge.rotate import RotatE
from hadamard_zoo.layers.fusion.kge.trans_e import TransE

D = 5
# (layer, entity width, relation width, NumPy reference of a triple)
SCORERS = {
    "rotate": (
        lambda: RotatE(gamma=6.0, embedding_dim=D),
        2 * D,
        D,
        lambda x: rotate_reference(x, [], 6.0, D),
    ),
    "transe": (
        lambda: TransE(gamma=3.0, norm=2),
        D,
        D,
        lambda x: trans_e_reference(x, [], 3.0, norm=2),
    ),
    "distmult": (DistMult, D, D, lambda x: dist_mult_reference(x, [])),
    "complex": (
        ComplEx,
        2 * D,
        2 * D,
        lambda x: compl_ex_reference(x, []),
    ),
}


def _uniform(shape, seed, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape).astype("float32")


@pytest.mark.parametrize("side", ["head", "tail"])
@pytest.mark.parametrize("scoring", sorted(SCORERS))
def test_score_all_equals_the_reference(scoring, side):
    make, entity_width, relation_width, reference = SCORERS[scoring]
    layer = make()
    known = _uniform((3, entity_width), 1)
    relation = _uniform((3, relation_width), 2, -3.0, 3.0)
    candidates = _uniform((7, entity_width), 3)
    if side == "tail":
        triple = [known[:, None], relation[:, None], candidates[None]]
    else:
        triple = [candidates[None], relation[:, None], known[:, None]]
    expected = reference(triple)
    assert expected.shape == (3, 7)
    eager = layer.score_all(known, relation, candidates, side)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(eager), expected, rtol=1e-5, atol=1e-5
    )
    inputs = [keras.Input((entity_width,)), keras.Input((relation_width,))]
    table = keras.ops.convert_to_tensor(candidates)
    scores = keras.layers.Lambda(
        lambda x: layer.score_all(x[0], x[1], table, side),
        output_shape=(len(candidates),),
    )(inputs)
    compiled = keras.Model(inputs, scores).predict_on_batch([known, relation])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(compiled), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("scoring", sorted(SCORERS))
def test_score_all_rejects_an_unknown_side(scoring):
    make, entity_width, relation_width, _ = SCORERS[scoring]
    with pytest.raises(ValueError, match="side"):
        make().score_all(
            _uniform((2, entity_width), 1),
            _uniform((2, relation_width), 2),
            _uniform((4, entity_width), 3),
            "middle",
        )


@pytest.mark.parametrize("scoring", sorted(SCORERS))
def test_float64_scores(scoring):
    # The KGE benchmark checks ranks in float64 (no near-tie rounding).
    # Keras keeps float64 only on TensorFlow: elsewhere it computes 64-bit
    # results in 32 bits (keras.src.backend.common.dtypes), so there the
    # scores are float32 and match the reference to float32 precision.
    make, entity_width, relation_width, reference = SCORERS[scoring]
    layer = make()
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    inputs = (
        _uniform((3, entity_width), 1).astype("float64"),
        _uniform((3, relation_width), 2, -3.0, 3.0).astype("float64"),
        _uniform((7, entity_width), 3).astype("float64"),
    )
    known, relation, candidates = inputs
    expected = reference([known[:, None], relation[:, None], candidates[None]])
    scores = layer.score_all(
        *(keras.ops.convert_to_tensor(x, "float64") for x in inputs), "tail"
    )
    dtype = keras.backend.standardize_dtype(scores.dtype)
    if keras.backend.backend() == "tensorflow":
        assert dtype == "float64"
        tolerance = 1e-12
    else:
        assert dtype == "float32"
        tolerance = 1e-5
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(scores),
        expected,
        rtol=tolerance,
        atol=tolerance,
    )
