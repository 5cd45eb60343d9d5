"""The image classifier preprocessor of the Π-Net models."""

import keras
from keras_hub.models import ImageClassifierPreprocessor

from hadamard_zoo.models.pinet.pinet_backbone import PiNetBackbone
from hadamard_zoo.models.pinet.pinet_image_converter import PiNetImageConverter
from hadamard_zoo.presets import PresetNameMixin


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PiNetImageClassifierPreprocessor(
    PresetNameMixin, ImageClassifierPreprocessor
):
    """Preprocessor of `PiNetImageClassifier`: a `PiNetImageConverter`.

    keras-hub's `ImageClassifierPreprocessor` wired to the Π-Net classes:
    `x -> image_converter(x)`, labels and sample weights passed through,
    so `(x, y)` and `(x, y, sample_weight)` tuples work in `fit()`.

    Args:
        image_converter: a `PiNetImageConverter` (or `None`: no
            preprocessing). Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: images (see `PiNetImageConverter`).
        y: optional labels, returned unchanged.
        sample_weight: optional sample weights, returned unchanged.

    Returns:
        `x`, `(x, y)` or `(x, y, sample_weight)`, with `x` converted.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> from hadamard_zoo.models.pinet import PiNetImageConverter
    >>> preprocessor = PiNetImageClassifierPreprocessor(
    ...     PiNetImageConverter(image_size=(28, 28), scale=1.0 / 255)
    ... )
    >>> images = np.zeros((2, 28, 28, 1), "uint8")
    >>> x, y = preprocessor(images, np.array([3, 7]))
    >>> tuple(x.shape), keras.backend.standardize_dtype(x.dtype)
    ((2, 28, 28, 1), 'float32')

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020.
    """

    backbone_cls = PiNetBackbone
    image_converter_cls = PiNetImageConverter
