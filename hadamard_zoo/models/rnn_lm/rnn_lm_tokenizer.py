"""The whitespace word tokenizer of the recurrent language models."""

import os

import keras
import numpy as np

# keras-hub's own helpers for the pure-Python path of a tokenizer (the same
# input forms its tokenizers accept); private API like the preset registry,
# covered by the pinned keras-hub range.
from keras_hub.src.utils.tensor_utils import canonicalize_python_string_inputs
from keras_hub.src.utils.tensor_utils import canonicalize_python_token_inputs
from keras_hub.src.utils.tensor_utils import convert_to_ragged_batch
from keras_hub.src.utils.tensor_utils import preprocessing_function
from keras_hub.src.utils.tensor_utils import restore_outer_shape
from keras_hub.tokenizers import Tokenizer

from hadamard_zoo.models.rnn_lm.rnn_lm_backbone import RNNLMBackbone
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool

VOCABULARY_FILE = "vocabulary.txt"
UNK_TOKEN = "<unk>"
EOS_TOKEN = "<eos>"

try:
    import tensorflow as tf
except ImportError:  # the Python path needs no TensorFlow
    tf = None


def _check_token(name, token):
    if not isinstance(token, str) or not token or token.split() != [token]:
        raise ValueError(
            f"`{name}` must be a non-empty str without whitespace. "
            f"Received: {name}={token!r}."
        )
    return token


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class RNNLMTokenizer(PresetNameMixin, Tokenizer):
    """Word-level tokenizer of the recurrent language models.

    Splits text on whitespace (optionally case-folded first) and maps each
    word to its line in the vocabulary; a word that is not there maps to
    `unk_token`. This is how Mikolov's Penn Treebank files are read
    (Zaremba et al.: `read().replace("\\n", "<eos>").split()`), so
    `"n't"`, `"<unk>"` and `"N"` stay single tokens, as they are in the
    corpus, and punctuation is not split off.

    ```
    "The cat sat"  ->  ["the", "cat", "sat"]  ->  [ids...]
    ```

    `eos_token` (`"<eos>"`) ends every sentence of the corpus, so it is
    also the start token (what the model reads before a sentence's first
    word) and the end token (where `generate()` stops). Padding uses the
    id of `unk_token` (padding is masked; it only must not be a stop
    token). `detokenize` joins the words with single spaces.

    The vocabulary is a preset asset: `save_to_preset` writes
    `assets/tokenizer/vocabulary.txt` (line `i` is id `i`) and
    `from_preset` reads it back; `get_config()` leaves it out.

    Args:
        vocabulary: `None`, a list of str or the path of a text file with
            one token per line. Must hold `unk_token` and `eos_token`, each
            token once. Defaults to `None` (set later, e.g. by
            `from_preset`).
        lowercase: bool, whether to case-fold the text (`str.lower`)
            before the lookup. Defaults to `True` (Penn Treebank is lower
            case).
        unk_token: str, the token of out-of-vocabulary words. Defaults to
            `"<unk>"`.
        eos_token: str, the end-of-sentence token. Defaults to `"<eos>"`.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: a str, or a list / array / tensor of str.

    Returns:
        The token ids: a 1-D int32 array for a str; for a batch, a list of
        int32 arrays (a ragged tensor on the TensorFlow path, e.g. inside
        `tf.data`).

    Example:

    >>> tokenizer = RNNLMTokenizer(["<unk>", "<eos>", "the", "cat"])
    >>> tokenizer("The cat sat").tolist()
    [2, 3, 0]
    >>> tokenizer.detokenize([2, 3, 0])
    'the cat <unk>'
    >>> tokenizer.start_token_id, tokenizer.end_token_id
    (1, 1)
    >>> tokenizer.pad_token_id
    0

    Reference:
        Mikolov et al., "Recurrent neural network based language model",
        Interspeech 2010; Zaremba et al., "Recurrent Neural Network
        Regularization", arXiv:1409.2329, 2014.
    """

    backbone_cls = RNNLMBackbone

    def __init__(
        self,
        vocabulary=None,
        lowercase=True,
        unk_token=UNK_TOKEN,
        eos_token=EOS_TOKEN,
        **kwargs,
    ):
        kwargs.setdefault("dtype", "int32")
        super().__init__(**kwargs)
        self.lowercase = check_bool("lowercase", lowercase)
        self.unk_token = _check_token("unk_token", unk_token)
        self.eos_token = _check_token("eos_token", eos_token)
        if unk_token == eos_token:
            raise ValueError(
                "`unk_token` and `eos_token` must differ. Received: "
                f"unk_token=eos_token={unk_token!r}."
            )
        self._add_special_token(eos_token, "start_token")
        self._add_special_token(eos_token, "end_token")
        # Padding is `unk_token`, not `<eos>`: keras-hub's samplers stop at
        # a stop token found in the padding they are to fill. Not a special
        # token, so generated `<unk>` words are kept in the output.
        self.pad_token = unk_token
        self.pad_token_id = None
        self.file_assets = [VOCABULARY_FILE]
        self._vocabulary = None
        self._token_to_id = None
        self._tf_table = None
        self.set_vocabulary(vocabulary)

    # === Vocabulary ===

    def set_vocabulary(self, vocabulary):
        """Sets the vocabulary: a list of str, a file path or `None`."""
        self._tf_table = None
        if vocabulary is None:
            self._vocabulary = None
            self._token_to_id = None
            return
        if isinstance(vocabulary, (str, os.PathLike)):
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\n") for line in f]
        if not isinstance(vocabulary, (list, tuple)) or not all(
            isinstance(token, str) for token in vocabulary
        ):
            raise TypeError(
                "`vocabulary` must be None, a list of str or the path of a "
                f"text file. Received: {type(vocabulary).__name__}."
            )
        vocabulary = list(vocabulary)
        token_to_id = {}
        for index, token in enumerate(vocabulary):
            if token in token_to_id:
                raise ValueError(
                    f"`vocabulary` lists {token!r} twice (ids "
                    f"{token_to_id[token]} and {index}); every token must "
                    "appear once."
                )
            if not token or token.split() != [token]:
                raise ValueError(
                    f"`vocabulary` entry {index} ({token!r}) is empty or "
                    "holds whitespace; words are split on whitespace, so "
                    "it could never be produced."
                )
            token_to_id[token] = index
        missing = [
            t for t in (self.unk_token, self.eos_token) if t not in token_to_id
        ]
        if missing:
            raise ValueError(
                f"`vocabulary` must contain the special tokens {missing}. "
                f"Received a vocabulary of {len(vocabulary)} tokens."
            )
        self._vocabulary = vocabulary
        self._token_to_id = token_to_id
        self._update_special_token_ids()
        self.pad_token_id = token_to_id[self.unk_token]

    @classmethod
    def from_corpus(cls, tokens, max_size=None, **kwargs):
        """A tokenizer whose vocabulary is the distinct words of a corpus.

        Words are ordered by decreasing count, ties by first appearance;
        `unk_token` and `eos_token` are always included.

        Args:
            tokens: iterable of str words (e.g. `load_ptb("train")`).
            max_size: optional int, the largest vocabulary size (rarer
                words become `unk_token`). Defaults to `None` (all words).
            **kwargs: the other arguments of `RNNLMTokenizer`.

        Returns:
            An `RNNLMTokenizer`.
        """
        counts = {}
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
        unk = kwargs.get("unk_token", UNK_TOKEN)
        eos = kwargs.get("eos_token", EOS_TOKEN)
        # sorted() is stable: equal counts keep their first-seen order.
        words = sorted(counts, key=lambda w: -counts[w])
        for special in (eos, unk):
            if special not in counts:
                words.append(special)
        if max_size is not None:
            if not isinstance(max_size, int) or max_size < 2:
                raise ValueError(
                    "`max_size` must be None or an int >= 2. Received: "
                    f"max_size={max_size!r}."
                )
            kept = [w for w in words if w in (unk, eos)]
            for w in words:
                if len(kept) >= max_size:
                    break
                if w not in kept:
                    kept.append(w)
            words = [w for w in words if w in kept]
        return cls(vocabulary=words, **kwargs)

    def get_vocabulary(self):
        self._check_vocabulary()
        return list(self._vocabulary)

    def vocabulary_size(self):
        self._check_vocabulary()
        return len(self._vocabulary)

    def id_to_token(self, id):
        self._check_vocabulary()
        if not 0 <= int(id) < len(self._vocabulary):
            raise ValueError(
                f"`id` must be in [0, {len(self._vocabulary)}). "
                f"Received: id={id}."
            )
        return self._vocabulary[int(id)]

    def token_to_id(self, token):
        self._check_vocabulary()
        if token not in self._token_to_id:
            raise ValueError(
                f"Token {token!r} is not in the vocabulary "
                f"({len(self._vocabulary)} tokens)."
            )
        return self._token_to_id[token]

    def _check_vocabulary(self):
        if self._vocabulary is None:
            raise ValueError(
                "No vocabulary has been set for RNNLMTokenizer. Pass "
                "`vocabulary=` or load one with `from_preset()`."
            )

    def save_assets(self, dir_path):
        self._check_vocabulary()
        path = os.path.join(dir_path, VOCABULARY_FILE)
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(token + "\n" for token in self._vocabulary))

    def load_assets(self, dir_path):
        self.set_vocabulary(os.path.join(dir_path, VOCABULARY_FILE))

    # === Tokenization ===

    def _words(self, text):
        return (text.lower() if self.lowercase else text).split()

    def _tokenize_python(self, inputs):
        texts, batched, outer_shape = canonicalize_python_string_inputs(inputs)
        unk = self._token_to_id[self.unk_token]
        ids = [
            np.asarray(
                [self._token_to_id.get(w, unk) for w in self._words(text)],
                dtype="int32",
            )
            for text in texts
        ]
        if outer_shape is not None:
            return restore_outer_shape(ids, outer_shape)
        return ids if batched else ids[0]

    def _lookup_table(self):
        if self._tf_table is None:
            # Made eagerly even when a tf.data or tf.function graph asks
            # first: a table made inside that graph cannot be used by the
            # next pipeline (a second `map`, a second `fit`).
            with tf.init_scope():
                self._tf_table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(self._vocabulary),
                        tf.range(len(self._vocabulary), dtype="int32"),
                    ),
                    default_value=self._token_to_id[self.unk_token],
                )
        return self._tf_table

    @preprocessing_function
    def _tokenize_tf(self, inputs):
        if self.lowercase:
            inputs = tf.strings.lower(inputs, encoding="utf-8")
        words = tf.strings.split(inputs)
        return tf.ragged.map_flat_values(self._lookup_table().lookup, words)

    def tokenize(self, inputs):
        self._check_vocabulary()
        if self._use_tf_workflow():
            return self._tokenize_tf(inputs)
        return self._tokenize_python(inputs)

    def _detokenize_python(self, inputs):
        rows, batched = canonicalize_python_token_inputs(inputs)
        texts = [" ".join(self.id_to_token(i) for i in row) for row in rows]
        return texts if batched else texts[0]

    @preprocessing_function
    def _detokenize_tf(self, inputs):
        inputs, unbatched, _ = convert_to_ragged_batch(inputs)
        words = tf.gather(tf.constant(self._vocabulary), inputs)
        outputs = tf.strings.reduce_join(words, axis=-1, separator=" ")
        return tf.squeeze(outputs, 0) if unbatched else outputs

    def detokenize(self, inputs):
        self._check_vocabulary()
        if self._use_tf_workflow():
            return self._detokenize_tf(inputs)
        return self._detokenize_python(inputs)

    def call(self, inputs, *args, training=None, **kwargs):
        return self.tokenize(inputs)

    def compute_output_spec(self, input_spec):
        return keras.KerasTensor(
            input_spec.shape + (None,), dtype=self.compute_dtype
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                # The vocabulary is an asset (assets/tokenizer/), not config.
                "vocabulary": None,
                "lowercase": self.lowercase,
                "unk_token": self.unk_token,
                "eos_token": self.eos_token,
            }
        )
        return config
