"""The whitespace word tokenizer of the recurrent language models."""

import json

import keras_hub
import numpy as np
import pytest

from hadamard_zoo.models.rnn_lm import RNNLMBackbone
from hadamard_zoo.models.rnn_lm import RNNLMTokenizer

WORDS = ["<unk>", "<eos>", "the", "cat", "n't", "sat", ",", "N", "."]


def _tokenizer(**kwargs):
    return RNNLMTokenizer(WORDS, **kwargs)


def _ids(tokenizer, text):
    return np.asarray(tokenizer(text)).tolist()


def test_words_split_on_whitespace_only():
    tokenizer = _tokenizer(lowercase=False)
    # Penn Treebank style: "n't", "<unk>" and punctuation are words of
    # their own, separated by spaces; nothing is split further.
    text = "the  cat\tn't sat ,\n<unk> N ."
    assert _ids(tokenizer, text) == [2, 3, 4, 5, 6, 0, 7, 8]
    # Without the spaces they are other (unknown) words.
    assert _ids(tokenizer, "the cat, sat.") == [2, 0, 0]
    assert _ids(tokenizer, "can't") == [0]


def test_lowercase_on_and_off():
    assert _ids(_tokenizer(), "The CAT N") == [2, 3, 0]  # "n" is unknown
    assert _ids(_tokenizer(lowercase=False), "The CAT N") == [0, 0, 7]
    assert _ids(_tokenizer(lowercase=False), "the cat") == [2, 3]


def test_out_of_vocabulary_words_map_to_unk():
    tokenizer = _tokenizer()
    ids = tokenizer("the dog sat on the mat")
    assert ids.dtype == np.int32 and ids.ndim == 1
    assert ids.tolist() == [2, 0, 5, 0, 2, 0]
    unk = tokenizer.token_to_id("<unk>")
    assert unk == 0 and tokenizer.id_to_token(0) == "<unk>"


def test_empty_and_blank_strings_give_no_ids():
    tokenizer = _tokenizer()
    for text in ("", "   ", "\n"):
        ids = tokenizer(text)
        assert ids.shape == (0,) and ids.dtype == np.int32


def test_batch_input():
    tokenizer = _tokenizer()
    texts = ["the cat", "", "n't , dog"]
    expected = [[2, 3], [], [4, 6, 0]]
    for batch in (texts, tuple(texts), np.array(texts)):
        ids = tokenizer(batch)
        assert [np.asarray(row).tolist() for row in ids] == expected
    nested = tokenizer(np.array([["the cat"], ["sat x"]]))
    assert [[np.asarray(r).tolist() for r in row] for row in nested] == [
        [[2, 3]],
        [[5, 0]],
    ]


def test_detokenize():
    tokenizer = _tokenizer()
    assert tokenizer.detokenize([2, 3, 0]) == "the cat <unk>"
    assert tokenizer.detokenize(np.array([[2, 3], [4, 5]])) == [
        "the cat",
        "n't sat",
    ]
    assert tokenizer.detokenize([[2, 3], [4]]) == ["the cat", "n't"]
    assert tokenizer.detokenize([]) == ""
    # A round trip of in-vocabulary lower-case words separated by spaces.
    text = "the cat sat , n't ."
    assert tokenizer.detokenize(tokenizer(text)) == text
    with pytest.raises(ValueError, match="id"):
        tokenizer.detokenize([len(WORDS)])


def test_special_token_ids():
    tokenizer = _tokenizer()
    # <eos> ends every sentence: the start and the end (stop) token.
    assert tokenizer.start_token_id == tokenizer.end_token_id == 1
    # Padding is <unk>, not <eos>: a sampler must not stop in the padding.
    assert tokenizer.pad_token_id == 0 != tokenizer.end_token_id
    assert tokenizer.special_token_ids == [1]
    assert tokenizer.vocabulary_size() == len(WORDS)
    assert tokenizer.get_vocabulary() == WORDS
    # Other special tokens move the ids with them.
    other = RNNLMTokenizer(
        ["</s>", "the", "UNK"], unk_token="UNK", eos_token="</s>"
    )
    assert (other.start_token_id, other.pad_token_id) == (0, 2)
    assert _ids(other, "the cat </s>") == [1, 2, 0]


def test_from_corpus_orders_by_count_then_first_appearance():
    corpus = "b a c a c <eos> d c b e".split()
    # c: 3; b, a: 2 (b seen first); <eos>, d, e: 1; <unk> added last.
    tokenizer = RNNLMTokenizer.from_corpus(corpus)
    assert tokenizer.get_vocabulary() == [
        "c",
        "b",
        "a",
        "<eos>",
        "d",
        "e",
        "<unk>",
    ]
    assert _ids(tokenizer, "a f") == [2, 6]
    # max_size keeps the most frequent words and always both specials.
    small = RNNLMTokenizer.from_corpus(corpus, max_size=4)
    assert small.get_vocabulary() == ["c", "b", "<eos>", "<unk>"]
    assert small.get_vocabulary() == [
        w for w in tokenizer.get_vocabulary() if w in small.get_vocabulary()
    ]
    assert RNNLMTokenizer.from_corpus(corpus, max_size=2).get_vocabulary() == [
        "<eos>",
        "<unk>",
    ]
    # Arguments pass through to the tokenizer.
    upper = RNNLMTokenizer.from_corpus(["A", "A", "b"], lowercase=False)
    assert upper.get_vocabulary() == ["A", "b", "<eos>", "<unk>"]
    assert not upper.lowercase
    with pytest.raises(ValueError, match="max_size"):
        RNNLMTokenizer.from_corpus(corpus, max_size=1)


@pytest.mark.parametrize(
    "vocabulary, error, match",
    [
        (["<unk>", "<eos>", "a", "a"], ValueError, "twice"),
        (["<eos>", "a"], ValueError, "<unk>"),
        (["<unk>", "a"], ValueError, "<eos>"),
        (["<unk>", "<eos>", "a b"], ValueError, "whitespace"),
        (["<unk>", "<eos>", ""], ValueError, "empty"),
        (["<unk>", "<eos>", 3], TypeError, "vocabulary"),
        ({"<unk>": 0, "<eos>": 1}, TypeError, "vocabulary"),
        (7, TypeError, "vocabulary"),
    ],
)
def test_vocabulary_validation(vocabulary, error, match):
    with pytest.raises(error, match=match):
        RNNLMTokenizer(vocabulary)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lowercase="yes"), "lowercase"),
        (dict(unk_token="un k"), "unk_token"),
        (dict(eos_token=""), "eos_token"),
        (dict(eos_token=None), "eos_token"),
        (dict(unk_token="<eos>"), "must differ"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNNLMTokenizer(WORDS, **kwargs)


def test_no_vocabulary_yet():
    tokenizer = RNNLMTokenizer()
    with pytest.raises(ValueError, match="No vocabulary"):
        tokenizer("the cat")
    tokenizer.set_vocabulary(WORDS)
    assert _ids(tokenizer, "the cat") == [2, 3]


def test_vocabulary_file(tmp_path):
    path = tmp_path / "vocabulary.txt"
    path.write_text("".join(w + "\n" for w in WORDS), encoding="utf-8")
    assert RNNLMTokenizer(str(path)).get_vocabulary() == WORDS
    assert RNNLMTokenizer(path).get_vocabulary() == WORDS


def test_vocabulary_is_a_preset_asset(tmp_path):
    tokenizer = _tokenizer(lowercase=False)
    preset = tmp_path / "preset"
    RNNLMBackbone(
        vocabulary_size=len(WORDS), hidden_dim=4, num_layers=1
    ).save_to_preset(str(preset))
    tokenizer.save_to_preset(str(preset))
    asset = preset / "assets" / "tokenizer" / "vocabulary.txt"
    assert asset.read_text(encoding="utf-8").splitlines() == WORDS
    with open(preset / "tokenizer.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "hadamard_zoo>RNNLMTokenizer"
    assert config["config"]["vocabulary"] is None  # only in the asset
    for cls in (RNNLMTokenizer, keras_hub.tokenizers.Tokenizer):
        loaded = cls.from_preset(str(preset))
        assert type(loaded) is RNNLMTokenizer
        assert loaded.get_vocabulary() == WORDS
        assert not loaded.lowercase
        assert _ids(loaded, "The cat N") == _ids(tokenizer, "The cat N")


def test_tensorflow_path_equals_python_path():
    tf = pytest.importorskip("tensorflow")
    tokenizer = _tokenizer()
    texts = ["The cat sat", "", "n't , <unk> dog", "the  cat\tN ."]
    python = [np.asarray(tokenizer(t)).tolist() for t in texts]
    # Inside tf.data the tokenizer runs its TensorFlow graph. Two pipelines
    # in a row: the lookup table must outlive the first one's graph.
    for _ in range(2):
        dataset = tf.data.Dataset.from_tensor_slices(texts).map(tokenizer)
        graph = [np.asarray(ids).tolist() for ids in dataset]
        assert graph == python
    batched = tf.data.Dataset.from_tensor_slices(texts).batch(4).map(tokenizer)
    (ragged,) = list(batched)
    assert isinstance(ragged, tf.RaggedTensor)
    assert ragged.to_list() == python
    assert ragged.dtype == tf.int32
    detokenized = (
        tf.data.Dataset.from_tensor_slices(tf.ragged.constant(python))
        .map(tokenizer.detokenize)
        .as_numpy_iterator()
    )
    assert [t.decode() for t in detokenized] == [
        tokenizer.detokenize(ids) for ids in python
    ]
