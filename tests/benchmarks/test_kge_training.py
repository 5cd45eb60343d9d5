"""Tests of benchmarks/kge_training.py (and the PyKEEN side's graph file).

PyKEEN is not installed here; its side is tested through the graph file
it reads and the rank comparison that consumes its output.
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


def load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load("kge_training.py")
pykeen_side = load("kge_pykeen.py")


def ranks(tail, head):
    def sides(values):
        values = np.asarray(values, dtype=np.float64)
        return {
            "optimistic": values,
            "pessimistic": values,
            "realistic": values,
        }

    return {"tail": sides(tail), "head": sides(head)}


def flattened(r):
    return {f"{s}_{t}": r[s][t] for s in ("head", "tail") for t in r[s]}


def test_identical_ranks_are_reported_identical():
    ours = ranks([1, 4, 2], [3, 1, 9])
    comparison = bench.compare_ranks(ours, flattened(ours))
    assert comparison["identical"]
    assert comparison["tail_realistic"] == {
        "equal": 3,
        "total": 3,
        "max_abs_difference": 0.0,
    }


def test_one_different_rank_is_counted():
    ours = ranks([1, 4, 2], [3, 1, 9])
    theirs = flattened(ranks([1, 4, 2], [3, 2.5, 9]))
    comparison = bench.compare_ranks(ours, theirs)
    assert not comparison["identical"]
    assert comparison["head_pessimistic"]["equal"] == 2
    assert comparison["head_pessimistic"]["max_abs_difference"] == 1.5
    assert comparison["tail_optimistic"]["equal"] == 3


def test_rank_arrays_of_different_lengths_rejected():
    ours = ranks([1, 4, 2], [3, 1, 9])
    with pytest.raises(ValueError, match="tail"):
        bench.compare_ranks(ours, flattened(ranks([1, 4], [3, 1, 9])))


def report(ours_tps, theirs_tps, ours_eval, theirs_eval, identical=True):
    return {
        "hadamard_zoo": {
            "triples_per_second": ours_tps,
            "evaluation_seconds": ours_eval,
        },
        "pykeen": {
            "training": {"triples_per_second": theirs_tps},
            "evaluation": {"eval_seconds": theirs_eval},
        },
        "rank_comparison": {"identical": identical},
    }


def test_targets_judged_from_the_ratios():
    derived = bench.derive(report(3100.0, 1500.0, 5.0, 150.0))
    assert derived["throughput_ratio"] == pytest.approx(3100 / 1500)
    assert derived["throughput_target_met"]
    assert derived["evaluation_speedup"] == pytest.approx(30.0)
    assert derived["evaluation_target_met"]
    derived = bench.derive(report(2900.0, 1500.0, 10.0, 150.0, False))
    assert not derived["throughput_target_met"]
    assert not derived["evaluation_target_met"]
    assert not derived["ranks_identical"]


def test_pykeen_side_reads_the_graph_file(tmp_path):
    path = tmp_path / "graph.npz"
    np.savez(
        path,
        entities=np.array(["a", "b", "c"]),
        relations=np.array(["r"]),
        train=np.array([[0, 0, 1]], np.int32),
        valid=np.array([[1, 0, 2]], np.int32),
        test=np.array([[2, 0, 0]], np.int32),
    )
    entity_to_id, relation_to_id, splits = pykeen_side.read_graph(path)
    assert entity_to_id == {"a": 0, "b": 1, "c": 2}
    assert relation_to_id == {"r": 0}
    assert splits["test"].tolist() == [[2, 0, 0]]
    assert splits["train"].dtype == np.int64


def test_short_run_without_pykeen_writes_results(tmp_path, capsys):
    # Countries S1 (271 entities) keeps the run to seconds; the settings
    # are the benchmark's own, only smaller.
    bench.main(
        [
            "--dataset",
            "countries_s1",
            "--dim",
            "8",
            "--batch-size",
            "64",
            "--negatives",
            "8",
            "--steps",
            "6",
            "--output-dir",
            str(tmp_path),
        ]
    )
    backend = bench.keras.backend.backend()
    saved = json.loads((tmp_path / f"kge_training_{backend}.json").read_text())
    ours = saved["hadamard_zoo"]
    assert ours["triples_per_second"] > 0
    assert ours["steady_triples_per_second"] > 0
    assert 0 < ours["test"]["mrr"] <= 1
    assert ours["evaluation_seconds"] > 0
    assert saved["derived"] == {}
    assert saved["settings"]["steps"] == 6
    markdown = (tmp_path / f"kge_training_{backend}.md").read_text()
    assert "hadamard_zoo" in markdown and "countries_s1" in markdown
    assert "hadamard_zoo" in capsys.readouterr().out


def test_identity_is_judged_on_float64_ranks_when_they_exist():
    # float32 scores differ in a near-tie, float64 scores agree.
    saved = report(3100.0, 1500.0, 5.0, 150.0, identical=False)
    saved["rank_comparison_float64"] = {"identical": True}
    derived = bench.derive(saved)
    assert derived["ranks_identical"]
    assert derived["ranks_identical_in"] == "float64"
    assert not derived["ranks_identical_float32"]
    saved["rank_comparison_float64"] = {"identical": False}
    assert not bench.derive(saved)["ranks_identical"]
    del saved["rank_comparison_float64"]
    derived = bench.derive(saved)
    assert derived["ranks_identical_in"] == "float32"
    assert not derived["ranks_identical"]


def test_float64_copy_scores_the_same_embeddings_in_float64():
    from hadamard_zoo.models.kge import KnowledgeGraphEmbeddingBackbone
    from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor

    bench.keras.utils.set_random_seed(0)
    backbone = KnowledgeGraphEmbeddingBackbone(
        num_entities=7, num_relations=3, embedding_dim=4, gamma=6.0
    )
    predictor = KnowledgeGraphLinkPredictor(backbone)
    reason = bench.float64_support()
    if reason is not None:
        # Keras keeps float64 only on TensorFlow; the report says why.
        assert bench.keras.backend.backend() != "tensorflow"
        assert "float32" in reason
        return
    copy = bench.float64_predictor(predictor)
    ids, relations = np.array([0, 3, 6]), np.array([0, 1, 2])
    for side in ("head", "tail"):
        expected = predictor.score_all(ids, relations, side)
        scores = copy.score_all(ids, relations, side)
        assert scores.dtype == np.float64
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)
    for original, upcast in zip(
        backbone.get_weights(), copy.backbone.get_weights(), strict=True
    ):
        assert upcast.dtype == np.float64
        np.testing.assert_array_equal(upcast, original.astype(np.float64))
