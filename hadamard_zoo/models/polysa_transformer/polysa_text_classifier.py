"""The Poly-SA text classifier."""

import keras
from keras_hub.models import TextClassifier

from hadamard_zoo.models.polysa_transformer.polysa_layers import (
    PolySAMaskedMeanPooling,
)
from hadamard_zoo.models.polysa_transformer.polysa_text_classifier_preprocessor import (  # noqa: E501
    PolySATextClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    PolySATransformerBackbone,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    check_dropout,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_int


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATextClassifier(PresetNameMixin, TextClassifier):
    """Poly-SA text classifier: a `PolySATransformerBackbone` and a head.

    keras-hub's `TextClassifier` for the Poly-SA backbone. The head
    averages the sequence output over the valid tokens (`[CLS]` and
    `[SEP]` included, padding excluded), then applies dropout and a dense
    layer:

    ```
    pooled = Σ_t m_t h_t / Σ_t m_t        (m = padding_mask)
    logits = Dense(num_classes)(Dropout(pooled))
    ```

    A mean rather than BERT's `[CLS]` vector: Poly-SA mixes tokens through
    one shared average, and the mean works the same with `causal=True`
    (where `[CLS]`, the first token, sees nothing else). With a
    preprocessor attached, `fit()`, `predict()` and `evaluate()` take raw
    strings and integer labels.

    Args:
        backbone: a `PolySATransformerBackbone`.
        num_classes: int, the number of classes.
        preprocessor: `None` or a `PolySATextClassifierPreprocessor`, whose
            `sequence_length` must not exceed the backbone's
            `max_sequence_length`. Defaults to `None`.
        activation: `None` (logits) or the activation of the output layer.
            Defaults to `None`.
        dropout: float in [0, 1), the dropout rate before the output layer.
            Defaults to `0.1`.
        **kwargs: base `Task` arguments (`name`, `compile`).

    Example:

    >>> from hadamard_zoo.models.polysa_transformer import PolySATokenizer
    >>> texts = ["a good film", "a bad film", "good", "bad"]
    >>> backbone = PolySATransformerBackbone(
    ...     vocabulary_size=16,
    ...     num_layers=1,
    ...     hidden_dim=8,
    ...     intermediate_dim=16,
    ...     max_sequence_length=8,
    ... )
    >>> preprocessor = PolySATextClassifierPreprocessor(
    ...     PolySATokenizer.from_texts(texts), sequence_length=8
    ... )
    >>> classifier = PolySATextClassifier(
    ...     backbone, num_classes=2, preprocessor=preprocessor
    ... )
    >>> classifier.predict(["What a good film!"], verbose=0).shape
    (1, 2)

    Reference:
        Babiloni et al., "Linear Complexity Self-Attention with 3rd Order
        Polynomials", TPAMI 2023; Chrysos et al., "Hadamard product in deep
        learning", Eq. 9.
    """

    backbone_cls = PolySATransformerBackbone
    preprocessor_cls = PolySATextClassifierPreprocessor

    def __init__(
        self,
        backbone,
        num_classes,
        preprocessor=None,
        activation=None,
        dropout=0.1,
        **kwargs,
    ):
        num_classes = check_int("num_classes", num_classes)
        dropout = check_dropout("dropout", dropout)
        length = getattr(preprocessor, "sequence_length", None)
        limit = getattr(backbone, "max_sequence_length", None)
        if length is not None and limit is not None and length > limit:
            raise ValueError(
                f"The preprocessor pads to sequence_length={length}, longer "
                "than the position embedding of the backbone "
                f"(max_sequence_length={limit}). Use a preprocessor with "
                f"sequence_length <= {limit}."
            )

        # === Layers ===
        self.backbone = backbone
        self.preprocessor = preprocessor
        self.pooler = PolySAMaskedMeanPooling(
            dtype=backbone.dtype_policy, name="pooler"
        )
        self.output_dropout = keras.layers.Dropout(
            dropout, dtype=backbone.dtype_policy, name="output_dropout"
        )
        self.output_dense = keras.layers.Dense(
            num_classes,
            activation=activation,
            dtype=backbone.dtype_policy,
            name="logits",
        )

        # === Functional model ===
        inputs = backbone.input
        x = backbone(inputs)
        x = self.pooler(x, padding_mask=inputs["padding_mask"])
        x = self.output_dropout(x)
        outputs = self.output_dense(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.activation = keras.activations.get(activation)
        self.dropout = dropout

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
            }
        )
        return config
