"""The image classifier preprocessor of the Poly-SA image models."""

import keras
from keras_hub.models import ImageClassifierPreprocessor

from hadamard_zoo.models.polysa_transformer.polysa_image_backbone import (
    PolySAImageBackbone,
)
from hadamard_zoo.models.polysa_transformer.polysa_image_converter import (
    PolySAImageConverter,
)
from hadamard_zoo.presets import PresetNameMixin


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySAImageClassifierPreprocessor(
    PresetNameMixin, ImageClassifierPreprocessor
):
    """Preprocessor of `PolySAImageClassifier`: a `PolySAImageConverter`.

    keras-hub's `ImageClassifierPreprocessor` wired to the Poly-SA image
    classes: `x -> image_converter(x)`, labels and sample weights passed
    through, so `(x, y)` and `(x, y, sample_weight)` tuples work in
    `fit()`.

    Args:
        image_converter: a `PolySAImageConverter` (or `None`: no
            preprocessing). Defaults to `None`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: images (see `PolySAImageConverter`).
        y: optional labels, returned unchanged.
        sample_weight: optional sample weights, returned unchanged.

    Returns:
        `x`, `(x, y)` or `(x, y, sample_weight)`, with `x` converted.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> preprocessor = PolySAImageClassifierPreprocessor(
    ...     PolySAImageConverter(image_size=(8, 8), scale=1.0 / 255)
    ... )
    >>> x, y = preprocessor(np.zeros((2, 8, 8, 3), "uint8"), np.array([1, 0]))
    >>> tuple(x.shape), keras.backend.standardize_dtype(x.dtype)
    ((2, 8, 8, 3), 'float32')

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021.
    """

    backbone_cls = PolySAImageBackbone
    image_converter_cls = PolySAImageConverter
