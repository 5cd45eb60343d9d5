"""Name-to-id preprocessing of link-prediction queries."""

import keras
import numpy as np
from keras_hub.models import Preprocessor

from hadamard_zoo.models.kge.kge_backbone import KnowledgeGraphEmbeddingBackbone
from hadamard_zoo.models.kge.kge_vocabulary import KnowledgeGraphVocabulary
from hadamard_zoo.presets import PresetNameMixin

INPUTS = ("heads", "relations", "tails")


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class KnowledgeGraphLinkPredictorPreprocessor(PresetNameMixin, Preprocessor):
    """Turns `{"heads", "relations", "tails"}` names into embedding ids.

    Each entry may hold names (str) or ids (ints, passed through), as a
    scalar, a list or a 2-D array (several candidates per example); the
    output is a dict of int32 arrays of shape `(batch, n)`. Labels and
    sample weights pass through unchanged.

    Args:
        tokenizer: a `KnowledgeGraphVocabulary`.

    Example:

    >>> vocabulary = KnowledgeGraphVocabulary(
    ...     entities=["paris", "france", "lyon"], relations=["capital_of"]
    ... )
    >>> preprocessor = KnowledgeGraphLinkPredictorPreprocessor(vocabulary)
    >>> x = preprocessor(
    ...     {"heads": ["paris"], "relations": ["capital_of"], "tails": [1]}
    ... )
    >>> {k: v.tolist() for k, v in x.items()}
    {'heads': [[0]], 'relations': [[0]], 'tails': [[1]]}

    Reference:
        Sun et al., "RotatE: Knowledge Graph Embedding by Relational
        Rotation in Complex Space", ICLR 2019.
    """

    backbone_cls = KnowledgeGraphEmbeddingBackbone
    tokenizer_cls = KnowledgeGraphVocabulary

    def __init__(self, tokenizer, **kwargs):
        super().__init__(**kwargs)
        self.tokenizer = tokenizer

    def build(self, input_shape=None):
        # No weights: the vocabulary is a plain lookup table.
        self.built = True

    def _ids(self, key, values):
        values = np.asarray(values)
        if values.ndim == 0:
            values = values.reshape(1, 1)
        elif values.ndim == 1:
            values = values[:, None]
        elif values.ndim != 2:
            raise ValueError(
                f"`x[{key!r}]` must be a scalar, a list or a 2-D array. "
                f"Received shape {values.shape}."
            )
        if values.dtype.kind in "US":
            lookup = (
                self.tokenizer.relation_id
                if key == "relations"
                else self.tokenizer.entity_id
            )
            values = np.vectorize(lookup, otypes=["int64"])(values)
        elif values.dtype.kind not in "iu":
            raise TypeError(
                f"`x[{key!r}]` must hold names (str) or integer ids. "
                f"Received dtype {values.dtype}."
            )
        return values.astype("int32")

    def call(self, x, y=None, sample_weight=None):
        if not isinstance(x, dict) or sorted(x) != sorted(INPUTS):
            keys = sorted(x) if isinstance(x, dict) else type(x).__name__
            raise ValueError(
                f"`x` must be a dict with keys {list(INPUTS)}. Received: "
                f"{keys}."
            )
        x = {key: self._ids(key, x[key]) for key in INPUTS}
        return keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
