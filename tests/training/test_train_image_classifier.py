import json

import numpy as np
import pytest

from hadamard_zoo.training import image_classification
from hadamard_zoo.training import train

PRESET_FILES = (
    "config.json",
    "metadata.json",
    "model.weights.h5",
    "task.json",
    "preprocessor.json",
    "metrics.json",
)


def _train(tmp_path, **kwargs):
    return train(
        "pinet_ccp_mnist",
        output_dir=tmp_path / "out" / "pinet_ccp_mnist",
        checkpoint_dir=tmp_path / "checkpoints",
        max_train_examples=kwargs.pop("max_train_examples", 256),
        verbose=0,
        **kwargs,
    )


def test_writes_a_complete_preset_with_metrics(tiny_preset_root):
    preset = tiny_preset_root / "pinet_ccp_mnist"
    for name in PRESET_FILES:
        assert (preset / name).is_file(), name
    metrics = json.loads((preset / "metrics.json").read_text())
    assert metrics["dataset"] == "mnist" and metrics["split"] == "test"
    assert metrics["examples"] == 10000
    assert metrics["metric"] == "accuracy" and 0.1 < metrics["value"] <= 1
    assert metrics["command"].endswith(
        "hadamard-zoo train pinet_ccp_mnist --epochs 1 --max-train-examples 512"
    )
    assert len(metrics["history"]) == 1


def test_same_seed_same_result(tmp_path):
    first = _train(tmp_path / "a", epochs=1)
    second = _train(tmp_path / "b", epochs=1)
    assert first["value"] == second["value"]
    assert first["loss"] == pytest.approx(second["loss"], abs=1e-4)


def test_resumes_from_the_last_checkpoint(tmp_path, monkeypatch, capsys):
    full = _train(tmp_path / "full", epochs=2)

    class Interrupted(Exception):
        pass

    class CrashAfterFirstEpoch(image_classification._Checkpoint):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            raise Interrupted

    run = tmp_path / "interrupted"
    with monkeypatch.context() as patch:
        patch.setattr(image_classification, "_Checkpoint", CrashAfterFirstEpoch)
        with pytest.raises(Interrupted):
            _train(run, epochs=2)
    progress = json.loads((run / "checkpoints" / "progress.json").read_text())
    assert progress["epochs_done"] == 1
    assert not (run / "out" / "pinet_ccp_mnist").exists()

    resumed = _train(run, epochs=2)
    assert "Resuming pinet_ccp_mnist after epoch 1" in capsys.readouterr().out
    assert len(resumed["history"]) == 2
    assert resumed["value"] == full["value"]
    assert resumed["loss"] == pytest.approx(full["loss"], abs=1e-4)


def test_failure_leaves_no_partial_preset(tmp_path, monkeypatch):
    from hadamard_zoo.training import runs

    write_json = runs.write_json

    def broken(path, data):
        if path.name == "metrics.json":  # the last file of the preset
            raise RuntimeError("disk full")
        write_json(path, data)

    monkeypatch.setattr(runs, "write_json", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        _train(tmp_path, epochs=1, resume=False)
    out = tmp_path / "out"
    assert not (out / "pinet_ccp_mnist").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_scaling_matches_the_preprocessor(tiny_presets):
    import hadamard_zoo
    from hadamard_zoo.training.recipes import get_recipe

    classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1))
    images = images.astype("uint8")
    by_preprocessor = np.asarray(classifier.preprocessor(images))
    by_recipe = image_classification.scale_images(
        images[..., 0], get_recipe("pinet_ccp_mnist")
    )
    np.testing.assert_allclose(by_preprocessor, by_recipe, atol=1e-6)


def test_data_parallel_needs_jax(monkeypatch):
    import keras

    if keras.backend.backend() == "jax":
        pytest.skip("the JAX case is tested with two devices (large)")
    with pytest.raises(ValueError, match="JAX"):
        image_classification._enable_data_parallel()
