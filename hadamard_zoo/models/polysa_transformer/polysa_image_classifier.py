"""The Poly-SA image classifier."""

import keras
from keras_hub.models import ImageClassifier
from keras_hub.models import Task

from hadamard_zoo.models.polysa_transformer.polysa_image_backbone import (
    PolySAImageBackbone,
)
from hadamard_zoo.models.polysa_transformer.polysa_image_classifier_preprocessor import (  # noqa: E501
    PolySAImageClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    check_dropout,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

POOLINGS = ("avg", "max")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySAImageClassifier(PresetNameMixin, ImageClassifier):
    """Poly-SA image classifier: a `PolySAImageBackbone` and a linear head.

    keras-hub's `ImageClassifier` for a backbone that returns tokens
    `(batch, T, d)` rather than a feature map: the head pools over the
    tokens, then applies dropout and a dense layer:

    ```
    logits = Dense(num_classes)(Dropout(mean_t x_t))     (pooling="avg")
    ```

    With a preprocessor attached, `fit()`, `predict()` and `evaluate()`
    take raw images (e.g. `uint8`) and integer labels.

    Args:
        backbone: a `PolySAImageBackbone`.
        num_classes: int, the number of classes.
        preprocessor: `None` or a `PolySAImageClassifierPreprocessor`.
            Defaults to `None`.
        pooling: `"avg"` or `"max"`, the pooling over the tokens. Defaults
            to `"avg"`.
        activation: `None` (logits) or the activation of the output layer.
            Defaults to `None`.
        dropout: float in [0, 1), the dropout rate before the output layer.
            Defaults to `0.0`.
        head_dtype: `None` or the dtype policy of the head. Defaults to the
            backbone's.
        **kwargs: base `Task` arguments (`name`, `compile`).

    Example:

    >>> import numpy as np
    >>> from hadamard_zoo.models.polysa_transformer import PolySAImageConverter
    >>> backbone = PolySAImageBackbone(
    ...     image_shape=(8, 8, 3),
    ...     patch_size=4,
    ...     num_layers=1,
    ...     hidden_dim=8,
    ...     intermediate_dim=16,
    ... )
    >>> classifier = PolySAImageClassifier(
    ...     backbone=backbone,
    ...     num_classes=10,
    ...     preprocessor=PolySAImageClassifierPreprocessor(
    ...         PolySAImageConverter(image_size=(8, 8), scale=1.0 / 255)
    ...     ),
    ... )
    >>> classifier.predict(np.zeros((2, 8, 8, 3), "uint8"), verbose=0).shape
    (2, 10)

    Reference:
        Babiloni et al., "Linear Complexity Self-Attention with 3rd Order
        Polynomials", TPAMI 2023; Dosovitskiy et al., "An Image is Worth
        16x16 Words", ICLR 2021.
    """

    backbone_cls = PolySAImageBackbone
    preprocessor_cls = PolySAImageClassifierPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        pooling="avg",
        activation=None,
        dropout=0.0,
        head_dtype=None,
        **kwargs,
    ):
        num_classes = check_int("num_classes", num_classes)
        pooling = check_choice("pooling", pooling, POOLINGS)
        dropout = check_dropout("dropout", dropout)
        head_dtype = head_dtype or backbone.dtype_policy

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        pooler_cls = (
            keras.layers.GlobalAveragePooling1D
            if pooling == "avg"
            else keras.layers.GlobalMaxPooling1D
        )
        self.pooler = pooler_cls(dtype=head_dtype, name="pooler")
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=head_dtype, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            activation=activation,
            dtype=head_dtype,
            name="predictions",
        )

        # === Functional model ===
        inputs = backbone.input
        x = self.pooler(backbone(inputs))
        x = self.output_dropout(x)
        outputs = self.output_dense(x)
        # Not ImageClassifier.__init__: its head pools a 2-D feature map.
        Task.__init__(self, inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.pooling = pooling
        self.activation = activation
        self.dropout = dropout
