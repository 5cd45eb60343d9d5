"""Every bundled preset reaches its recorded accuracy on its full split.

The images (sentences) go in raw: uint8 pixels (strings) through the
preset's own preprocessor, so this also checks that the preprocessor saved
with the preset matches the scaling (vocabulary) the recipe trained with.
Link-prediction presets re-rank their full test split; language models
re-read it; generators draw their FID samples again (same seed) and are
scored against the same test images with the same classifier.
"""

import json

import numpy as np
import pytest

import hadamard_zoo
from hadamard_zoo import presets
from hadamard_zoo.datasets import KNOWLEDGE_GRAPHS
from hadamard_zoo.datasets import load_knowledge_graph
from hadamard_zoo.training import image_generation
from hadamard_zoo.training import language_modeling
from hadamard_zoo.training import link_prediction
from hadamard_zoo.training.image_classification import load_split
from hadamard_zoo.training.recipes import ImageGenerationRecipe
from hadamard_zoo.training.text_classification import DATASETS as TEXT
from hadamard_zoo.training.text_classification import load_text_split


@pytest.mark.large
@pytest.mark.parametrize("name", presets.preset_names())
def test_bundled_preset_accuracy(name):
    metrics = json.loads(
        (presets.presets_root() / name / presets.METRICS_FILE).read_text()
    )
    if metrics["dataset"] in KNOWLEDGE_GRAPHS:
        # Re-ranks the full test split (filtered, against all entities).
        graph = load_knowledge_graph(metrics["dataset"])
        model = hadamard_zoo.load_classifier(name)
        results = link_prediction.evaluate(
            model, graph, batch_size=256, verbose=0
        )
        assert len(graph.test) == metrics["examples"]
        assert results[metrics["metric"]] == pytest.approx(
            metrics["value"], abs=1e-3
        )
        assert results["mrr"] == pytest.approx(
            metrics["ranking"]["mrr"], abs=1e-3
        )
        return
    if metrics["metric"] == "perplexity":
        # The full test split read as one stream, state carried.
        model = hadamard_zoo.load_classifier(name)
        tokenizer = model.preprocessor.tokenizer
        tokens = language_modeling.load_stream(metrics["dataset"], "test")
        ids = [tokenizer.token_to_id(t) for t in tokens]
        perplexity, count = language_modeling.stream_perplexity(
            model.backbone, ids
        )
        assert count == metrics["examples"]
        assert perplexity == pytest.approx(metrics["value"], abs=0.01)
        return
    if metrics["metric"] == "fid":
        recipe = ImageGenerationRecipe(**metrics["recipe"])
        images, classes = load_split(metrics["dataset"], "test")
        results, _ = image_generation.evaluate(
            recipe,
            hadamard_zoo.load_generator(name),
            images,
            classes,
            hadamard_zoo.load_classifier(metrics["fid_classifier"]),
        )
        assert results["examples"] == metrics["examples"]
        assert results["fid"] == pytest.approx(metrics["value"], rel=1e-3)
        for key in ("floor", "class_accuracy"):
            assert (key in results) == (key in metrics), key
            if key in results:
                assert results[key] == pytest.approx(metrics[key], rel=1e-3)
        return
    if metrics["dataset"] in TEXT:
        inputs, labels = load_text_split(metrics["dataset"], metrics["split"])
    else:
        images, labels = load_split(metrics["dataset"], metrics["split"])
        inputs = images[..., None]
    classifier = hadamard_zoo.load_classifier(name)
    logits = classifier.predict(inputs, batch_size=500, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == labels))
    assert len(labels) == metrics["examples"]
    assert accuracy == pytest.approx(metrics["value"], abs=1e-3)
