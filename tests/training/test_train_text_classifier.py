"""The SST-2 text recipe trains, checkpoints, resumes and writes a preset."""

import json

import keras_hub
import numpy as np

from hadamard_zoo.models.polysa_transformer import PolySATextClassifier
from hadamard_zoo.training import train


def test_smoke_run_writes_a_loadable_preset(tmp_path):
    output = tmp_path / "preset"
    metrics = train(
        "polysa_transformer_sst2",
        output_dir=output,
        checkpoint_dir=tmp_path / "checkpoints",
        epochs=1,
        max_train_examples=256,
        verbose=0,
    )
    assert metrics["split"] == "dev" and metrics["examples"] == 872
    assert 0.0 <= metrics["value"] <= 1.0
    assert "--max-train-examples 256" in metrics["command"]
    saved = json.loads((output / "metrics.json").read_text())
    assert saved["value"] == metrics["value"]
    assert saved["vocabulary_size"] > 4
    sentences = ["a gorgeous , witty film .", "dull and tedious"]
    classifier = PolySATextClassifier.from_preset(str(output))
    generic = keras_hub.models.TextClassifier.from_preset(str(output))
    np.testing.assert_allclose(
        classifier.predict(sentences, verbose=0),
        generic.predict(sentences, verbose=0),
        atol=1e-6,
    )


def test_a_finished_run_resumes_without_training(tmp_path, capsys):
    kwargs = dict(
        output_dir=tmp_path / "preset",
        checkpoint_dir=tmp_path / "checkpoints",
        epochs=1,
        max_train_examples=128,
        verbose=0,
    )
    first = train("baseline_mha_transformer_sst2", **kwargs)
    again = train("baseline_mha_transformer_sst2", **kwargs)
    assert "Resuming baseline_mha_transformer_sst2 after epoch 1" in (
        capsys.readouterr().out
    )
    assert again["value"] == first["value"]
    assert again["history"] == first["history"]
