import keras
import numpy as np
import pytest

import hadamard_zoo
from hadamard_zoo.models.kge import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictorPreprocessor
from hadamard_zoo.models.kge import KnowledgeGraphVocabulary
from hadamard_zoo.training.negative_sampling import NegativeSamplingBatches

ENTITIES = ["paris", "france", "lyon", "berlin", "germany", "europe"]
RELATIONS = ["capital_of", "located_in"]
TRIPLES = np.array(
    [[0, 0, 1], [3, 0, 4], [2, 1, 1], [1, 1, 5], [4, 1, 5], [0, 1, 1]]
)


def predictor(scoring="rotate", dim=8):
    backbone = KnowledgeGraphEmbeddingBackbone(
        len(ENTITIES), len(RELATIONS), dim, scoring=scoring, gamma=6.0
    )
    vocabulary = KnowledgeGraphVocabulary(ENTITIES, RELATIONS)
    return KnowledgeGraphLinkPredictor(
        backbone,
        preprocessor=KnowledgeGraphLinkPredictorPreprocessor(vocabulary),
    )


def test_vocabulary_maps_both_ways_and_suggests_names():
    vocabulary = KnowledgeGraphVocabulary(ENTITIES, RELATIONS)
    assert vocabulary.tokenize(["lyon", "europe"]).tolist() == [2, 5]
    assert vocabulary.detokenize([3, 0]) == ["berlin", "paris"]
    assert vocabulary.relation_id("located_in") == 1
    assert vocabulary.relation_name(0) == "capital_of"
    assert vocabulary.vocabulary_size() == 6
    with pytest.raises(ValueError, match="'berlin'"):
        vocabulary.entity_id("berlim")
    with pytest.raises(ValueError, match="Unknown relation"):
        vocabulary.relation_id("capital")


@pytest.mark.parametrize(
    "entities, relations, error",
    [
        (["a", "a"], ["r"], ValueError),
        ("abc", ["r"], TypeError),
        (["a", 3], ["r"], TypeError),
    ],
)
def test_vocabulary_bad_names(entities, relations, error):
    with pytest.raises(error):
        KnowledgeGraphVocabulary(entities, relations)


def test_preprocessor_accepts_names_and_ids():
    model = predictor()
    x = model.preprocessor(
        {
            "heads": ["paris", "berlin"],
            "relations": ["capital_of", "capital_of"],
            "tails": [[1, 4, 5], [4, 1, 5]],
        }
    )
    assert x["heads"].tolist() == [[0], [3]]
    assert x["relations"].tolist() == [[0], [0]]
    assert x["tails"].shape == (2, 3)
    with pytest.raises(ValueError, match="keys"):
        model.preprocessor({"heads": [0]})
    with pytest.raises(TypeError, match="ids"):
        model.preprocessor({"heads": [0.5], "relations": [0], "tails": [1]})


def test_fit_lowers_the_loss_and_ranks_true_tails_first():
    keras.utils.set_random_seed(0)
    model = predictor()
    stream = NegativeSamplingBatches(
        TRIPLES,
        len(ENTITIES),
        len(RELATIONS),
        negatives=4,
        batch_size=6,
        steps_per_epoch=40,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    # Task.fit takes the PyDataset of id batches directly.
    history = model.fit(stream, epochs=3, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    top, scores = model.predict_top_k(TRIPLES[:, 0], TRIPLES[:, 1], "tail", k=2)
    assert top.shape == scores.shape == (len(TRIPLES), 2)
    assert np.all(np.diff(scores, axis=1) <= 0)  # best first
    pairs = zip(TRIPLES[:, 2], top, strict=True)
    hits = np.mean([t in row for t, row in pairs])
    assert hits >= 5 / 6, top


def test_preset_round_trip_keeps_names_and_scores(tmp_path):
    model = predictor()
    path = str(tmp_path / "preset")
    model.save_to_preset(path)
    restored = KnowledgeGraphLinkPredictor.from_preset(path)
    assert restored.preprocessor.tokenizer.entities == tuple(ENTITIES)
    assert restored.preprocessor.tokenizer.relations == tuple(RELATIONS)
    for side in ("head", "tail"):
        np.testing.assert_allclose(
            restored.score_all(np.array([0, 4]), np.array([1, 0]), side),
            model.score_all(np.array([0, 4]), np.array([1, 0]), side),
            rtol=1e-6,
        )
    # The names are assets in RotatE's format, not config.
    assert (
        tmp_path / "preset/assets/tokenizer/entities.dict"
    ).read_text().splitlines()[2] == "2\tlyon"
    loaded = hadamard_zoo.load_classifier(path)
    assert isinstance(loaded, KnowledgeGraphLinkPredictor)


def test_score_all_checks_its_arguments():
    model = predictor()
    with pytest.raises(ValueError, match="side"):
        model.score_all(np.array([0]), np.array([0]), "middle")
    with pytest.raises(ValueError, match=r"ids.*\[0, 6\)"):
        model.score_all(np.array([6]), np.array([0]), "tail")
    with pytest.raises(ValueError, match="relations"):
        model.score_all(np.array([0]), np.array([2]), "tail")
    with pytest.raises(ValueError, match="same shape"):
        model.score_all(np.array([0, 1]), np.array([0]), "tail")
    with pytest.raises(ValueError, match="1-D integer"):
        model.score_all(np.array([[0]]), np.array([[0]]), "tail")


def test_saved_weights_exclude_the_scoring_models(tmp_path):
    # score_all builds helper models; they must not join the saved weights.
    model = predictor()
    before = [w.path for w in model.weights]
    model.score_all(np.array([0]), np.array([0]), "tail")
    assert [w.path for w in model.weights] == before


def test_command_line_answers_queries_by_name(tmp_path, capsys):
    from hadamard_zoo import cli

    model = predictor()
    path = str(tmp_path / "preset")
    model.save_to_preset(path)
    argv = ["predict", path, "--head", "paris", "--relation", "capital_of"]
    assert cli.main(argv + ["--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "(paris, capital_of, ?):"
    assert len(lines) == 4
    expected = cli.answer_query(model, "paris", "capital_of", k=3)
    assert [line.split()[1] for line in lines[1:]] == [n for n, _ in expected]
    # Head queries, unknown names, and malformed queries.
    argv = ["predict", path, "--tail", "france", "--relation", "capital_of"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.startswith("(?, capital_of, france):")
    argv = ["predict", path, "--head", "pariss", "--relation", "capital_of"]
    assert cli.main(argv) == 2
    assert "'paris'" in capsys.readouterr().err
    assert cli.main(["predict", path, "--head", "paris"]) == 2
    assert "--relation" in capsys.readouterr().err


@pytest.mark.parametrize("side", ["head", "tail"])
def test_ranking_is_compiled_on_every_backend_but_torch(side):
    # Keras leaves XLA off on TensorFlow without a GPU; ranking turns it on
    # (test_scores_against_all_entities checks the compiled scores).
    model = predictor()
    model.score_all(np.array([0]), np.array([0]), side)
    scoring = model._score_all_model(side)
    assert scoring.jit_compile == (keras.backend.backend() != "torch")
