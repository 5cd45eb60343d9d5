"""The MONet image classifier."""

import keras
from keras_hub.models import ImageClassifier

from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_classifier_preprocessor import (
    MONetImageClassifierPreprocessor,
)
from hadamard_zoo.presets import PresetNameMixin


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MONetImageClassifier(PresetNameMixin, ImageClassifier):
    """MONet image classifier: a `MONetBackbone` and a linear head.

    keras-hub's `ImageClassifier` wired to the MONet classes; with the
    default `pooling="avg"` it is the paper's head, a global mean over the
    feature map followed by a linear layer:

    ```
    logits = Dense(num_classes)(mean_{i,j} backbone(x)[:, i, j, :])
    ```

    As in the reference code, the head's kernel starts at zero (so do the
    biases), so the first logits are all zero whatever the backbone. With
    a preprocessor attached, `fit()`, `predict()` and `evaluate()` take
    raw images (e.g. `uint8`).

    Args:
        backbone: a `MONetBackbone`.
        num_classes: int, the number of classes.
        preprocessor: `None` or a `MONetImageClassifierPreprocessor`.
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
    >>> from hadamard_zoo.models.monet import MONetImageConverter
    >>> classifier = MONetImageClassifier(
    ...     backbone=MONetBackbone(
    ...         image_shape=(8, 8, 1),
    ...         stage_dims=(32,),
    ...         stage_blocks=(1,),
    ...     ),
    ...     num_classes=10,
    ...     preprocessor=MONetImageClassifierPreprocessor(
    ...         MONetImageConverter(image_size=(8, 8), scale=1.0 / 255)
    ...     ),
    ... )
    >>> images = np.zeros((2, 8, 8, 1), "uint8")
    >>> classifier.predict(images, verbose=0).shape
    (2, 10)

    Reference:
        Cheng, Chrysos, Georgopoulos, Cevher, "Multilinear Operator
        Networks", ICLR 2024.
    """

    backbone_cls = MONetBackbone
    preprocessor_cls = MONetImageClassifierPreprocessor

    def __init__(self, backbone, num_classes, **kwargs):
        super().__init__(backbone=backbone, num_classes=num_classes, **kwargs)
        # The reference zero-initialises the head (`nn.init.zeros_`); a
        # loaded model overwrites this with its saved weights.
        kernel = self.output_dense.kernel
        kernel.assign(keras.ops.zeros(kernel.shape, kernel.dtype))
