"""Poly-SA transformers: text and image encoders with a Poly-SA mixer."""

from hadamard_zoo.models.polysa_transformer.polysa_image_backbone import (
    PolySAImageBackbone,
)
from hadamard_zoo.models.polysa_transformer.polysa_image_classifier import (
    PolySAImageClassifier,
)
from hadamard_zoo.models.polysa_transformer.polysa_image_classifier_preprocessor import (  # noqa: E501
    PolySAImageClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer.polysa_image_converter import (
    PolySAImageConverter,
)
from hadamard_zoo.models.polysa_transformer.polysa_layers import (
    PolySAMaskedMeanPooling,
)
from hadamard_zoo.models.polysa_transformer.polysa_layers import (
    PolySATokenAndPositionEmbedding,
)
from hadamard_zoo.models.polysa_transformer.polysa_text_classifier import (
    PolySATextClassifier,
)
from hadamard_zoo.models.polysa_transformer.polysa_text_classifier_preprocessor import (  # noqa: E501
    PolySATextClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer.polysa_tokenizer import (
    PolySATokenizer,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    PolySATransformerBackbone,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    PolySATransformerBlock,
)
