"""hadamard_zoo: Keras 3 layers and models built on the Hadamard product.

Importing the package registers every layer and model with Keras and every
bundled preset with keras-hub, so `keras_hub.models.ImageClassifier
.from_preset("pinet_ccp_mnist")` works after `import hadamard_zoo`.
"""

from hadamard_zoo import adapters
from hadamard_zoo import datasets
from hadamard_zoo import evaluation
from hadamard_zoo import layers
from hadamard_zoo import models
from hadamard_zoo import presets as _presets
from hadamard_zoo.generation import load_generator
from hadamard_zoo.presets import list_presets
from hadamard_zoo.version import __version__

__all__ = [
    "adapters",
    "datasets",
    "evaluation",
    "layers",
    "list_presets",
    "load_classifier",
    "load_generator",
    "models",
    "__version__",
]

_presets.register_with_keras_hub()


def load_classifier(preset, **kwargs):
    """Loads a classifier preset (bundled name, directory or handle).

    The task class comes from the preset (`task.json`): a
    `PiNetImageClassifier` for `pinet_ccp_mnist`, a `PolySATextClassifier`
    for `polysa_transformer_sst2`, and so on.

    Unlike a bare `from_preset`, a preset whose weights file is truncated or
    corrupted raises a `ValueError` naming the file, and no half-loaded
    model is returned.

    Args:
        preset: a bundled preset name (see `list_presets()`), a preset
            directory, or an `hf://` / `kaggle://` handle.
        **kwargs: passed to the task class's `from_preset`.
    """
    location = _presets.resolve(preset)
    try:
        task_cls = _presets.task_class(location)
        return task_cls.from_preset(location, **kwargs)
    except (OSError, KeyError, RuntimeError) as error:
        raise ValueError(
            f"Could not load preset {preset!r} from {location}: its files are "
            f"missing or corrupted ({type(error).__name__}: {error}). "
            "Reinstall the package or re-create the preset with "
            f"`hadamard-zoo train {preset}`."
        ) from error
