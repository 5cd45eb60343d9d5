"""The Π-Net image classifier."""

import keras
from keras_hub.models import ImageClassifier

from hadamard_zoo.models.pinet.pinet_backbone import PiNetBackbone
from hadamard_zoo.models.pinet.pinet_image_classifier_preprocessor import (
    PiNetImageClassifierPreprocessor,
)
from hadamard_zoo.presets import PresetNameMixin


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PiNetImageClassifier(PresetNameMixin, ImageClassifier):
    """Π-Net image classifier: a `PiNetBackbone` and a linear head.

    keras-hub's `ImageClassifier` wired to the Π-Net classes:

    ```
    logits = Dense(num_classes)(GlobalAveragePooling2D(backbone(x)))
    ```

    For the CCP / NCP backbones the feature map is `1x1`, so the head is
    the survey's output map `y = C x_N + β`; for the product-of-polynomials
    backbone it is the usual ResNet head. With a preprocessor attached,
    `fit()`, `predict()` and `evaluate()` take raw images (e.g. `uint8`).

    Args:
        backbone: a `PiNetBackbone`.
        num_classes: int, the number of classes.
        preprocessor: `None` or a `PiNetImageClassifierPreprocessor`.
            Defaults to `None`.
        pooling: `"avg"` or `"max"`, the pooling of the feature map.
            Defaults to `"avg"`.
        activation: `None` (logits) or the activation of the output layer.
            Defaults to `None`.
        dropout: float, the dropout rate before the output layer. Defaults
            to `0.0`.
        head_dtype: `None` or the dtype policy of the head. Defaults to the
            backbone's.
        **kwargs: base `Task` arguments (`name`, `compile`).

    Example:

    >>> import numpy as np
    >>> from hadamard_zoo.models.pinet import PiNetImageConverter
    >>> classifier = PiNetImageClassifier(
    ...     backbone=PiNetBackbone("ncp", image_shape=(28, 28, 1), rank=8),
    ...     num_classes=10,
    ...     preprocessor=PiNetImageClassifierPreprocessor(
    ...         PiNetImageConverter(image_size=(28, 28), scale=1.0 / 255)
    ...     ),
    ... )
    >>> images = np.zeros((2, 28, 28, 1), "uint8")
    >>> classifier.predict(images, verbose=0).shape
    (2, 10)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Hadamard product in deep learning", section S.2.2.
    """

    backbone_cls = PiNetBackbone
    preprocessor_cls = PiNetImageClassifierPreprocessor
