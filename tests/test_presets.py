"""The preset registry: bare names, keras-hub registration, bad presets."""

import shutil

import keras
import keras_hub
import numpy as np
import pytest

import hadamard_zoo
from hadamard_zoo import samples
from hadamard_zoo.models.pinet import PiNetImageClassifier


def _digits():
    images, labels = samples.load_samples("mnist")
    return images[..., None], labels


def test_list_presets_reports_metric_and_params(tiny_presets):
    (row,) = hadamard_zoo.list_presets()
    assert row["name"] == "pinet_ccp_mnist"
    assert row["params"] > 10000
    assert row["metric"]["metric"] == "accuracy"
    assert row["metric"]["dataset"] == "mnist"
    assert row["description"]


def test_unknown_name_lists_the_closest_names(tiny_presets):
    with pytest.raises(ValueError, match="Did you mean 'pinet_ccp_mnist'"):
        tiny_presets.resolve("pinet_ccp_mnst")
    with pytest.raises(ValueError, match="Did you mean 'pinet_ccp_mnist'"):
        PiNetImageClassifier.from_preset("pinet_ccp_minst")
    with pytest.raises(ValueError, match="Unknown preset"):
        hadamard_zoo.load_classifier("no_such_preset")


def test_loads_by_name_through_both_classes(tiny_presets):
    assert "pinet_ccp_mnist" in tiny_presets.register_with_keras_hub()
    images, _ = _digits()
    by_family = PiNetImageClassifier.from_preset("pinet_ccp_mnist")
    by_keras_hub = keras_hub.models.ImageClassifier.from_preset(
        "pinet_ccp_mnist"
    )
    assert isinstance(by_keras_hub, PiNetImageClassifier)
    np.testing.assert_allclose(
        by_family.predict(images, verbose=0),
        by_keras_hub.predict(images, verbose=0),
        atol=1e-6,
    )


def test_save_to_preset_round_trip(tiny_presets, tmp_path):
    classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
    classifier.save_to_preset(str(tmp_path / "copy"))
    copy = hadamard_zoo.load_classifier(str(tmp_path / "copy"))
    images, _ = _digits()
    np.testing.assert_array_equal(
        classifier.predict(images, verbose=0), copy.predict(images, verbose=0)
    )


def _broken_copy(tiny_preset_root, tmp_path, damage):
    copy = tmp_path / "pinet_ccp_mnist"
    shutil.copytree(tiny_preset_root / "pinet_ccp_mnist", copy)
    weights = copy / "model.weights.h5"
    data = weights.read_bytes()
    weights.write_bytes(damage(data))
    return copy


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:2048] + bytes(len(data) - 2048),  # zeroed
    ],
    ids=["truncated", "corrupted"],
)
def test_damaged_weights_raise_a_clear_error(
    tiny_preset_root, tmp_path, damage
):
    copy = _broken_copy(tiny_preset_root, tmp_path, damage)
    with pytest.raises(ValueError, match="missing or corrupted"):
        hadamard_zoo.load_classifier(str(copy))


def test_grayscale_and_rgb_of_other_size_are_converted(tiny_presets):
    classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
    images, _ = _digits()
    rgb = np.repeat(images, 3, axis=-1)
    np.testing.assert_allclose(
        classifier.predict(rgb, verbose=0),
        classifier.predict(images, verbose=0),
        atol=1e-4,
    )
    larger = keras.ops.convert_to_numpy(
        keras.ops.image.resize(images.astype("float32"), (56, 56))
    )
    assert classifier.predict(larger, verbose=0).shape == (8, 10)
    with pytest.raises(ValueError, match="channels"):
        classifier.predict(np.zeros((1, 28, 28, 2), "uint8"), verbose=0)
