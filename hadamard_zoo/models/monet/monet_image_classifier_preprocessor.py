"""The image classifier preprocessor of the MONet models."""

import keras
from keras_hub.models import ImageClassifierPreprocessor

from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_converter import MONetImageConverter
from hadamard_zoo.presets import PresetNameMixin


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MONetImageClassifierPreprocessor(
    PresetNameMixin, ImageClassifierPreprocessor
):
    """Preprocessor of `MONetImageClassifier`: a `MONetImageConverter`.

    keras-hub's `ImageClassifierPreprocessor` wired to the MONet classes:
    `x -> image_converter(x)`, labels and sample weights passed through,
    so `(x, y)` and `(x, y, sample_weight)` tuples work in `fit()`.

    Args:
        image_converter: a `MONetImageConverter` (or `None`: no
            preprocessing). Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: images (see `MONetImageConverter`).
        y: optional labels, returned unchanged.
        sample_weight: optional sample weights, returned unchanged.

    Returns:
        `x`, `(x, y)` or `(x, y, sample_weight)`, with `x` converted.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> preprocessor = MONetImageClassifierPreprocessor(
    ...     MONetImageConverter(image_size=(28, 28), scale=1.0 / 255)
    ... )
    >>> images = np.zeros((2, 28, 28, 1), "uint8")
    >>> x, y = preprocessor(images, np.array([3, 7]))
    >>> tuple(x.shape), keras.backend.standardize_dtype(x.dtype)
    ((2, 28, 28, 1), 'float32')

    Reference:
        Cheng et al., "Multilinear Operator Networks", ICLR 2024.
    """

    backbone_cls = MONetBackbone
    image_converter_cls = MONetImageConverter
