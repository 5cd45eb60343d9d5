"""Every bundled preset reaches its recorded accuracy on the full test set.

The images go in raw (uint8, through the preset's own preprocessor), so this
also checks that the preprocessor saved with the preset matches the scaling
the recipe trained with.
"""

import json

import numpy as np
import pytest

import hadamard_zoo
from hadamard_zoo import presets
from hadamard_zoo.training.image_classification import load_split


@pytest.mark.large
@pytest.mark.parametrize("name", presets.preset_names())
def test_bundled_preset_accuracy(name):
    metrics = json.loads(
        (presets.presets_root() / name / presets.METRICS_FILE).read_text()
    )
    images, labels = load_split(metrics["dataset"], metrics["split"])
    classifier = hadamard_zoo.load_classifier(name)
    logits = classifier.predict(images[..., None], batch_size=500, verbose=0)
    accuracy = float(np.mean(np.argmax(logits, axis=-1) == labels))
    assert len(labels) == metrics["examples"]
    assert accuracy == pytest.approx(metrics["value"], abs=1e-3)
