"""The word-level tokenizer of the Poly-SA text models."""

import keras
from keras_hub.tokenizers import WordPieceTokenizer

from hadamard_zoo.datasets.vocabulary import build_vocabulary
from hadamard_zoo.models.polysa_transformer.polysa_transformer_backbone import (
    PolySATransformerBackbone,
)
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool

PAD_TOKEN = "[PAD]"
UNK_TOKEN = "[UNK]"
CLS_TOKEN = "[CLS]"
SEP_TOKEN = "[SEP]"
# The first ids of every vocabulary built by `PolySATokenizer.from_texts`.
SPECIAL_TOKENS = (PAD_TOKEN, UNK_TOKEN, CLS_TOKEN, SEP_TOKEN)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySATokenizer(PresetNameMixin, WordPieceTokenizer):
    """Word-level tokenizer of the Poly-SA text models.

    keras-hub's `WordPieceTokenizer` given a vocabulary of whole words (no
    `##` pieces), so that it acts as a word-level tokenizer: the text is
    case-folded and split on whitespace and punctuation (punctuation marks
    are words), each word in the vocabulary maps to its id and every other
    word to `[UNK]`.

    ```
    "A GREAT film!"  ->  ["a", "great", "film", "!"]  ->  [ids...]
    ```

    The special tokens are `[PAD]` (the padding value; id 0 in
    vocabularies from `from_texts`), `[UNK]`, `[CLS]` (`start_token`,
    put first by the preprocessor) and `[SEP]` (`end_token`, put last).
    All four must be in the vocabulary.

    The vocabulary is a preset asset, like every keras-hub tokenizer's:
    `save_to_preset` writes it to `assets/tokenizer/vocabulary.txt` (one
    token per line, line `i` being id `i`) and `from_preset` reads it back;
    `get_config()` leaves it out.

    Args:
        vocabulary: `None`, a list of str or the path of a text file with
            one token per line. Defaults to `None` (set later, e.g. by
            `from_preset`).
        lowercase: bool, whether to case-fold the text before the lookup.
            Must match the vocabulary (`from_texts` builds both from the
            same value). Defaults to `True`.
        **kwargs: the other arguments of
            `keras_hub.tokenizers.WordPieceTokenizer` (`sequence_length`,
            `strip_accents`, ...) and base `Layer` arguments.

    Call arguments:
        inputs: a str, or a list / tensor of str.

    Returns:
        The token ids: a 1-D int tensor for a str, a ragged tensor (or a
        list of lists without TensorFlow) for a batch, dense when
        `sequence_length` is set.

    Example:

    >>> tokenizer = PolySATokenizer.from_texts(
    ...     ["A good film.", "A bad film!"]
    ... )
    >>> tokenizer.get_vocabulary()
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'a', 'film', '!', '.', 'bad', 'good']
    >>> [int(i) for i in tokenizer("A GOOD, long film")]
    [4, 9, 1, 1, 5]

    Reference:
        Devlin et al., "BERT: Pre-training of Deep Bidirectional
        Transformers for Language Understanding", NAACL 2019 (the
        pre-tokenization and special tokens).
    """

    backbone_cls = PolySATransformerBackbone

    def __init__(self, vocabulary=None, lowercase=True, **kwargs):
        check_bool("lowercase", lowercase)
        self._add_special_token(PAD_TOKEN, "pad_token")
        self._add_special_token(CLS_TOKEN, "start_token")
        self._add_special_token(SEP_TOKEN, "end_token")
        kwargs.setdefault("oov_token", UNK_TOKEN)
        super().__init__(vocabulary=vocabulary, lowercase=lowercase, **kwargs)

    @classmethod
    def from_texts(
        cls, texts, max_size=None, min_count=1, lowercase=True, **kwargs
    ):
        """A tokenizer whose vocabulary is the words of `texts`.

        The vocabulary (see `hadamard_zoo.datasets.vocabulary
        .build_vocabulary`) is `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` (ids 0 to
        3), then the words of `texts` seen at least `min_count` times, most
        frequent first (ties in code point order), at most `max_size`
        tokens in all.

        Args:
            texts: iterable of str (e.g. the training sentences).
            max_size: optional int >= 4, the largest vocabulary size,
                special tokens included. Defaults to `None` (no limit).
            min_count: int >= 1, the fewest occurrences a word needs.
                Defaults to `1`.
            lowercase: bool, whether to case-fold words (both when
                counting and when tokenizing). Defaults to `True`.
            **kwargs: the other arguments of `PolySATokenizer`.

        Returns:
            A `PolySATokenizer`.
        """
        vocabulary = build_vocabulary(
            texts,
            max_size=max_size,
            min_count=min_count,
            lowercase=lowercase,
            reserved=SPECIAL_TOKENS,
        )
        return cls(vocabulary=vocabulary, lowercase=lowercase, **kwargs)
