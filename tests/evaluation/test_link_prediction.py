import os

import keras
import numpy as np
import pytest
from keras import ops

from hadamard_zoo.evaluation import FilterIndex
from hadamard_zoo.evaluation import countries_auc_pr
from hadamard_zoo.evaluation import evaluate_link_prediction
from hadamard_zoo.evaluation import filtered_ranks
from hadamard_zoo.evaluation import summarize_ranks

# A tiny graph: 5 entities, 2 relations.
TRAIN = np.array([[0, 0, 1], [0, 0, 2], [3, 1, 0], [1, 0, 3]])
VALID = np.array([[4, 1, 0]])
TEST = np.array([[0, 0, 3], [2, 1, 0]])
NUM_ENTITIES = 5

# Hand-written scores S[h, r, t]; entries no query reads stay 0.
SCORES = np.zeros((5, 2, 5), "float32")
SCORES[0, 0, :] = [0.5, 0.9, 0.7, 0.7, 0.7]  # tail query (0, 0, ?)
SCORES[:, 0, 3] = [0.7, 0.8, 0.7, 0.1, 0.9]  # head query (?, 0, 3)
SCORES[2, 1, :] = [0.2, 0.4, 0.1, 0.2, 0.3]  # tail query (2, 1, ?)
SCORES[:, 1, 0] = [0.3, 0.3, 0.2, 0.9, 0.9]  # head query (?, 1, 0)

# Tail (0, 0, ?), target 3 (0.7). True tails of (0, 0): 1, 2, 3, so 1
# (0.9, higher) and 2 (0.7, tied) are filtered. Left: 0 (0.5), 4 (0.7).
#   optimistic = 1 + 0 higher = 1; pessimistic = 1 + 1 (4 ties) = 2.
# Tail (2, 1, ?), target 0 (0.2). No other true tail of (2, 1).
#   higher: 1 (0.4), 4 (0.3) -> optimistic 3; 3 ties (0.2) -> pessimistic 4.
# Head (?, 0, 3), target 0 (0.7). True heads of (0, 3): 0, 1; 1 (0.8) is
# filtered. Left: 2 (0.7), 3 (0.1), 4 (0.9).
#   higher: 4 -> optimistic 2; 2 ties -> pessimistic 3.
# Head (?, 1, 0), target 2 (0.2). True heads of (1, 0): 2, 3, 4, so 3 and
# 4 (0.9) are filtered. Left: 0 (0.3), 1 (0.3), both higher.
#   optimistic 3, pessimistic 3.
FILTERED = {
    "tail": {"optimistic": [1, 3], "pessimistic": [2, 4]},
    "head": {"optimistic": [2, 3], "pessimistic": [3, 3]},
}
# Raw (no filter): the filtered candidates count again.
# Tail (0, 0, ?): 1 higher -> 2; 1, 2, 4 >= -> 4.
# Tail (2, 1, ?): unchanged, 3 and 4.
# Head (?, 0, 3): 1, 4 higher -> 3; 1, 2, 4 >= -> 4.
# Head (?, 1, 0): 0, 1, 3, 4 higher -> 5 and 5.
RAW = {
    "tail": {"optimistic": [2, 3], "pessimistic": [4, 4]},
    "head": {"optimistic": [3, 5], "pessimistic": [4, 5]},
}


def table_score_fn(table, calls=None):
    """Scores every entity for a query from a table S[h, r, t], as a
    backend tensor (the way a Keras model's output arrives)."""
    num_entities, num_relations, _ = table.shape
    by_tail = ops.convert_to_tensor(table.reshape(-1, num_entities))
    by_head = ops.convert_to_tensor(
        table.transpose(2, 1, 0).reshape(-1, num_entities)
    )

    def score_fn(queries, side, candidates=None):
        if calls is not None:
            calls.append(
                (
                    queries.shape,
                    None if candidates is None else candidates.shape,
                )
            )
        if side == "tail":
            rows = ops.take(
                by_tail, queries[:, 0] * num_relations + queries[:, 1], axis=0
            )
        else:
            rows = ops.take(
                by_head, queries[:, 2] * num_relations + queries[:, 1], axis=0
            )
        if candidates is not None:
            rows = ops.take(rows, candidates, axis=1)
        return rows

    return score_fn


def as_lists(ranks):
    return {
        side: {
            kind: ranks[side][kind].tolist()
            for kind in ("optimistic", "pessimistic")
        }
        for side in ranks
    }


def test_hand_computed_filtered_ranks():
    index = FilterIndex([TRAIN, VALID, TEST])
    ranks = filtered_ranks(
        table_score_fn(SCORES), TEST, index, NUM_ENTITIES, verbose=0
    )
    assert as_lists(ranks) == FILTERED
    # Realistic = (optimistic + pessimistic) / 2.
    assert ranks["tail"]["realistic"].tolist() == [1.5, 3.5]
    assert ranks["head"]["realistic"].tolist() == [2.5, 3.0]
    assert ranks["tail"]["optimistic"].dtype == np.int64


def test_hand_computed_raw_ranks():
    ranks = filtered_ranks(
        table_score_fn(SCORES), TEST, None, NUM_ENTITIES, verbose=0
    )
    assert as_lists(ranks) == RAW


@pytest.mark.parametrize("side", ["head", "tail"])
def test_one_side(side):
    index = FilterIndex([TRAIN, VALID, TEST])
    ranks = filtered_ranks(
        table_score_fn(SCORES),
        TEST,
        index,
        NUM_ENTITIES,
        side=side,
        verbose=0,
    )
    assert list(ranks) == [side]
    assert as_lists(ranks)[side] == FILTERED[side]


def test_hand_computed_metrics():
    index = FilterIndex([TRAIN, VALID, TEST])
    metrics = evaluate_link_prediction(
        table_score_fn(SCORES), TEST, index, NUM_ENTITIES, verbose=0
    )
    # Realistic ranks: tail 1.5, 3.5; head 2.5, 3.
    assert metrics["mrr"] == pytest.approx(
        (1 / 1.5 + 1 / 3.5 + 1 / 2.5 + 1 / 3) / 4
    )
    assert metrics["mr"] == pytest.approx((1.5 + 3.5 + 2.5 + 3) / 4)
    assert metrics["hits_at_1"] == 0.0  # 1.5 > 1
    assert metrics["hits_at_3"] == 0.75  # all but 3.5
    assert metrics["hits_at_10"] == 1.0
    assert metrics["num_queries"] == 4
    assert metrics["tail"]["mrr"] == pytest.approx((1 / 1.5 + 1 / 3.5) / 2)
    assert metrics["head"]["mr"] == pytest.approx(2.75)
    assert metrics["tail"]["hits_at_3"] == 0.5
    # Optimistic ranks: tail 1, 3; head 2, 3.
    optimistic = summarize_ranks(
        filtered_ranks(
            table_score_fn(SCORES), TEST, index, NUM_ENTITIES, verbose=0
        ),
        rank_type="optimistic",
        ks=(1, 2),
    )
    assert optimistic["hits_at_1"] == 0.25
    assert optimistic["hits_at_2"] == 0.5
    assert "hits_at_3" not in optimistic
    assert optimistic["mr"] == pytest.approx(9 / 4)


def test_filter_index_lookups():
    index = FilterIndex([TRAIN, VALID, TEST, TRAIN])  # repeats drop out
    assert index.true_tails(0, 0).tolist() == [1, 2, 3]
    assert index.true_heads(1, 0).tolist() == [2, 3, 4]
    assert index.true_heads(0, 3).tolist() == [0, 1]
    assert index.true_tails(4, 0).tolist() == []
    assert (index.num_entities, index.num_relations) == (5, 2)
    # With 2 relations, key(0, 2) would equal key(1, 0) = 2 if relation
    # ids the index never saw were not rejected.
    assert index.true_tails(1, 0).tolist() == [3]
    assert index.true_tails(0, 2).tolist() == []
    rows, entities = index.lookup(TEST, "head")
    assert sorted(zip(rows.tolist(), entities.tolist(), strict=True)) == [
        (0, 0),
        (0, 1),
        (1, 2),
        (1, 3),
        (1, 4),
    ]


def random_graph(seed, num_entities=23, num_relations=3, num_triples=120):
    rng = np.random.default_rng(seed)
    triples = np.stack(
        [
            rng.integers(0, num_entities, num_triples),
            # Skewed relations give (h, r) pairs with many true tails.
            rng.integers(0, num_relations, num_triples) ** 2 % num_relations,
            rng.integers(0, 5, num_triples),
        ],
        axis=1,
    )
    triples[::3, 2] = rng.integers(0, num_entities, len(triples[::3]))
    # Few distinct score values: many ties.
    scores = rng.integers(0, 4, (num_entities, num_relations, num_entities))
    return triples, scores.astype("float32")


def loop_ranks(table, test, true_triples, filtered=True):
    """Brute force: every candidate of every query, one at a time."""
    known = {tuple(t) for t in true_triples.tolist()}
    num_entities = table.shape[0]
    out = {}
    for side in ("head", "tail"):
        optimistic, pessimistic = [], []
        for h, r, t in test.tolist():
            target = table[h, r, t]
            higher, ties = 0, 0
            for e in range(num_entities):
                candidate = (e, r, t) if side == "head" else (h, r, e)
                if candidate == (h, r, t):
                    continue
                if filtered and candidate in known:
                    continue
                score = table[candidate]
                higher += score > target
                ties += score == target
            optimistic.append(1 + higher)
            pessimistic.append(1 + higher + ties)
        out[side] = {"optimistic": optimistic, "pessimistic": pessimistic}
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_random_graph_against_loop(seed):
    triples, table = random_graph(seed)
    train, test = triples[:90], triples[90:]
    index = FilterIndex([train, test])
    ranks = filtered_ranks(
        table_score_fn(table),
        test,
        index,
        table.shape[0],
        batch_size=8,
        verbose=0,
    )
    assert as_lists(ranks) == loop_ranks(table, test, triples)
    raw = filtered_ranks(
        table_score_fn(table), test, None, table.shape[0], verbose=0
    )
    assert as_lists(raw) == loop_ranks(table, test, triples, filtered=False)


def test_loop_reference_metrics():
    triples, table = random_graph(2)
    test = triples[100:]
    ranks = filtered_ranks(
        table_score_fn(table), test, FilterIndex(triples), 23, verbose=0
    )
    metrics = summarize_ranks(ranks, ks=(1, 3, 10))
    expected = loop_ranks(table, test, triples)
    realistic = [
        (o + p) / 2
        for side in ("head", "tail")
        for o, p in zip(
            expected[side]["optimistic"],
            expected[side]["pessimistic"],
            strict=True,
        )
    ]
    assert metrics["mrr"] == pytest.approx(
        sum(1 / r for r in realistic) / len(realistic)
    )
    for k in (1, 3, 10):
        assert metrics[f"hits_at_{k}"] == pytest.approx(
            sum(r <= k for r in realistic) / len(realistic)
        )


@pytest.mark.parametrize("batch_size", [1, 3, 7, 30, 64])
def test_batch_size_does_not_change_ranks(batch_size):
    # 30 queries: batches smaller than, not dividing, equal to and larger
    # than the number of queries.
    triples, table = random_graph(4)
    test = triples[:30]
    calls = []
    ranks = filtered_ranks(
        table_score_fn(table, calls),
        test,
        FilterIndex(triples),
        23,
        batch_size=batch_size,
        verbose=0,
    )
    assert as_lists(ranks) == loop_ranks(table, test, triples)
    # Every call has the same shape: a jit-compiled model compiles once.
    assert {shape for shape, _ in calls} == {(min(batch_size, 30), 3)}


@pytest.mark.parametrize("candidate_chunk", [1, 5, 23, 100])
def test_candidate_chunks_do_not_change_ranks(candidate_chunk):
    triples, table = random_graph(5)
    test = triples[:20]
    calls = []
    ranks = filtered_ranks(
        table_score_fn(table, calls),
        test,
        FilterIndex(triples),
        23,
        batch_size=6,
        candidate_chunk=candidate_chunk,
        verbose=0,
    )
    assert as_lists(ranks) == loop_ranks(table, test, triples)
    assert {chunk for _, chunk in calls} == {(min(candidate_chunk, 23),)}


def test_nan_candidates_count_in_neither_rank():
    # As in PyKEEN: NaN compares false both ways.
    table = SCORES.copy()
    table[0, 0, 0] = np.nan  # tail query (0, 0, ?), an unfiltered candidate
    ranks = filtered_ranks(
        table_score_fn(table),
        TEST[:1],
        FilterIndex(TEST),
        5,
        side="tail",
        verbose=0,
    )
    # Unfiltered others: 0 (NaN), 1 (0.9), 2 (0.7), 4 (0.7) around 0.7.
    assert ranks["tail"]["optimistic"].tolist() == [2]
    assert ranks["tail"]["pessimistic"].tolist() == [4]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32"])
def test_other_score_dtypes(dtype):
    score_fn = table_score_fn(SCORES * 10)

    def cast_score_fn(queries, side):
        return ops.cast(score_fn(queries, side), dtype)

    ranks = filtered_ranks(
        cast_score_fn, TEST, FilterIndex([TRAIN, VALID, TEST]), 5, verbose=0
    )
    assert as_lists(ranks) == FILTERED


def test_numpy_scores_and_progress_bar(capsys):
    def score_fn(queries, side):
        return keras.ops.convert_to_numpy(table_score_fn(SCORES)(queries, side))

    ranks = filtered_ranks(
        score_fn,
        TEST,
        FilterIndex([TRAIN, VALID, TEST]),
        5,
        batch_size=1,
        verbose=1,
    )
    assert as_lists(ranks) == FILTERED
    assert "4/4" in capsys.readouterr().out


@pytest.mark.parametrize(
    "triples, match",
    [
        (np.zeros((2, 2), "int64"), "triples"),
        (np.zeros((3,), "int64"), "triples"),
        (np.zeros((2, 3), "float32"), "triples"),
        (np.zeros((0, 3), "int64"), "triples"),
        (np.array([[0, 0, 5]]), "triples.*entity id 5"),
        (np.array([[5, 0, 0]]), "triples.*entity id 5"),
        (np.array([[0, -1, 0]]), "triples.*non-negative"),
    ],
)
def test_bad_triples(triples, match):
    with pytest.raises(ValueError, match=match):
        filtered_ranks(table_score_fn(SCORES), triples, None, 5, verbose=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(side="middle"), "side"),
        (dict(batch_size=0), "batch_size"),
        (dict(candidate_chunk=0), "candidate_chunk"),
        (dict(num_entities=0), "num_entities"),
        (dict(verbose=3), "verbose"),
        (dict(filter_index=TRAIN), "filter_index"),
        (dict(filter_index=FilterIndex(TRAIN), num_entities=3), "filter_index"),
        (dict(score_fn="model"), "score_fn"),
    ],
)
def test_bad_arguments(kwargs, match):
    arguments = dict(
        score_fn=table_score_fn(SCORES),
        triples=np.array([[0, 0, 1]]),
        filter_index=None,
        num_entities=5,
        verbose=0,
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        filtered_ranks(**arguments)


def test_score_fn_wrong_shape():
    def too_narrow(queries, side):
        return np.zeros((len(queries), 4), "float32")

    with pytest.raises(ValueError, match=r"score_fn.*\(2, 5\).*\(2, 4\)"):
        filtered_ranks(too_narrow, TEST, None, 5, verbose=0)

    def ignores_candidates(queries, side, candidates):
        return np.zeros((len(queries), 5), "float32")

    with pytest.raises(ValueError, match=r"score_fn.*\(2, 2\)"):
        filtered_ranks(
            ignores_candidates, TEST, None, 5, candidate_chunk=2, verbose=0
        )


def test_nan_target_score_rejected():
    table = SCORES.copy()
    table[2, 1, 0] = np.nan  # the score of test triple 1
    with pytest.raises(ValueError, match="NaN.*query 1"):
        filtered_ranks(table_score_fn(table), TEST, None, 5, verbose=0)


@pytest.mark.parametrize(
    "triples, match",
    [
        (np.zeros((2, 4), "int64"), "triples"),
        ([], "at least one array"),
        ([np.zeros((1, 3), "float64")], "integer"),
    ],
)
def test_bad_filter_triples(triples, match):
    with pytest.raises(ValueError, match=match):
        FilterIndex(triples)


def test_summarize_ranks_bad_arguments():
    ranks = {"tail": {"realistic": np.array([1.0])}}
    with pytest.raises(ValueError, match="rank_type"):
        summarize_ranks(ranks, rank_type="average")
    with pytest.raises(ValueError, match="ks"):
        summarize_ranks(ranks, ks=(0,))
    with pytest.raises(ValueError, match="ranks"):
        summarize_ranks({"both": ranks["tail"]})


# Countries: region ids 10, 11, 12; countries 0, 1, 2.
def country_score_fn(triples):
    # Country c prefers region 10 + c; the further away, the worse.
    country, region = triples[:, 0], triples[:, 2]
    return -np.abs(region - 10 - country).astype("float32")


def test_countries_auc_pr_hand_computed():
    test = np.array([[0, 0, 10], [1, 0, 12], [2, 0, 11]])
    # Scores (country, region: score, label):
    #   0: 10: 0 (+), 11: -1, 12: -2
    #   1: 10: -1, 11: 0, 12: -1 (+)
    #   2: 10: -2, 11: -1 (+), 12: 0
    # Threshold 0: 3 predicted, 1 true: P = 1/3, R = 1/3.
    # Threshold -1: 7 predicted, 3 true: P = 3/7, R = 1.
    # AP = 1/3 * 1/3 + 2/3 * 3/7 = 1/9 + 2/7.
    assert countries_auc_pr(
        country_score_fn, test, np.array([10, 11, 12])
    ) == pytest.approx(1 / 9 + 2 / 7)


def test_countries_auc_pr_accepts_column_scores_and_tensors():
    test = np.array([[0, 0, 10], [1, 0, 11]])

    def column_score_fn(triples):
        return ops.convert_to_tensor(country_score_fn(triples)[:, None])

    # Every true region scores 0, every other below: AP = 1.
    assert countries_auc_pr(column_score_fn, test, [10, 11, 12]) == 1.0


def test_countries_auc_pr_bad_input():
    test = np.array([[0, 0, 10], [1, 0, 13]])
    with pytest.raises(ValueError, match="regions.*13"):
        countries_auc_pr(country_score_fn, test, [10, 11, 12])
    with pytest.raises(ValueError, match="regions"):
        countries_auc_pr(country_score_fn, test[:1], [10, 10, 11])
    with pytest.raises(ValueError, match="regions"):
        countries_auc_pr(country_score_fn, test[:1], [])
    with pytest.raises(ValueError, match="test_triples"):
        countries_auc_pr(country_score_fn, test[:, :2], [10, 11])
    with pytest.raises(
        ValueError, match=r"score_fn.*2 scores.*Received shape \(3,\)"
    ):
        countries_auc_pr(lambda t: np.zeros(3), test[:1], [10, 11])


def read_countries(name):
    folder = os.path.join(os.environ["HADAMARD_ZOO_DATA"], name)
    if not os.path.isdir(folder):
        pytest.skip(f"{folder} not available")

    def ids(path):
        with open(os.path.join(folder, path)) as f:
            return {n: int(i) for i, n in (ln.split() for ln in f)}

    entities, relations = ids("entities.dict"), ids("relations.dict")
    with open(os.path.join(folder, "test.txt")) as f:
        test = np.array(
            [
                [entities[h], relations[r], entities[t]]
                for h, r, t in (ln.split() for ln in f)
            ]
        )
    with open(os.path.join(folder, "regions.list")) as f:
        regions = np.array([entities[ln.strip()] for ln in f if ln.strip()])
    return test, regions


def test_countries_s1_oracle_and_constant():
    test, regions = read_countries("countries_S1")
    assert test.shape == (24, 3) and len(regions) == 5
    truth = {(h, t) for h, _, t in test.tolist()}

    def oracle(triples):
        return np.array(
            [float((h, t) in truth) for h, _, t in triples.tolist()]
        )

    assert countries_auc_pr(oracle, test, regions) == 1.0
    # All scores tied: AP is the fraction of positives, 1 in 5 regions.
    constant = countries_auc_pr(lambda t: np.zeros(len(t)), test, regions)
    assert constant == pytest.approx(0.2)
