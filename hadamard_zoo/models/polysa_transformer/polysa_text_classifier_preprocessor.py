"""The text classifier preprocessor of the Poly-SA models."""

import keras
from keras_hub.models import TextClassifierPreprocessor

from hadamard_zoo.models.polysa_transformer.polysa_tokenizer import (
    PolySATokenizer,
)
from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    PolySATransformerBackbone,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

TRUNCATIONS = ("round_robin", "waterfall")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATextClassifierPreprocessor(
    PresetNameMixin, TextClassifierPreprocessor
):
    """Preprocessor of `PolySATextClassifier`: raw strings to token ids.

    keras-hub's `TextClassifierPreprocessor` wired to `PolySATokenizer`:

    ```
    "A good film."  ->  [CLS] a good film . [SEP] [PAD] ... [PAD]
    token_ids:    (batch, sequence_length) int32
    padding_mask: (batch, sequence_length) bool, token_ids != [PAD]
    ```

    Several segments (a tuple of string batches) are joined with `[SEP]`
    and truncated to fit together. keras-hub's `segment_ids` are dropped:
    the backbone has no segment embedding. Labels and sample weights pass
    through unchanged, so `(x, y)` and `(x, y, sample_weight)` work in
    `fit()`.

    Args:
        tokenizer: a `PolySATokenizer`.
        sequence_length: int >= 2, the padded length (`[CLS]` and `[SEP]`
            included); at most the backbone's `max_sequence_length`.
            Defaults to `128`.
        truncate: `"round_robin"` or `"waterfall"`, how several segments
            are cut to fit (see `keras_hub.layers.MultiSegmentPacker`).
            Defaults to `"round_robin"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        x: a str, a batch of str, or a tuple of batches (segments).
        y: optional labels, returned unchanged.
        sample_weight: optional sample weights, returned unchanged.

    Returns:
        `x`, `(x, y)` or `(x, y, sample_weight)` with `x` the dict
        `{"token_ids", "padding_mask"}`.

    Example:

    >>> import numpy as np
    >>> tokenizer = PolySATokenizer.from_texts(["a good film", "a bad film"])
    >>> preprocessor = PolySATextClassifierPreprocessor(
    ...     tokenizer, sequence_length=6
    ... )
    >>> x = preprocessor(["A good film!"])
    >>> sorted(x)
    ['padding_mask', 'token_ids']
    >>> np.asarray(x["token_ids"]).tolist()
    [[2, 4, 7, 5, 1, 3]]

    Reference:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional
        Transformers for Language Understanding", NAACL 2019.
    """

    backbone_cls = PolySATransformerBackbone
    tokenizer_cls = PolySATokenizer

    def __init__(
        self,
        tokenizer,
        sequence_length=128,
        truncate="round_robin",
        **kwargs,
    ):
        sequence_length = check_int("sequence_length", sequence_length, 2)
        truncate = check_choice("truncate", truncate, TRUNCATIONS)
        super().__init__(
            tokenizer=tokenizer,
            sequence_length=sequence_length,
            truncate=truncate,
            **kwargs,
        )

    def call(self, x, y=None, sample_weight=None):
        output = super().call(x, y=y, sample_weight=sample_weight)
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(output)
        # The backbone has no segment embedding.
        x = {k: v for k, v in x.items() if k != "segment_ids"}
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
