"""The Poly-SA word tokenizer and the text classifier preprocessor."""

import json

import keras
import keras_hub
import numpy as np
import pytest

from hadamard_zoo.datasets.vocabulary import split_words
from hadamard_zoo.models.polysa_transformer import (
    PolySATextClassifierPreprocessor,
)
from hadamard_zoo.models.polysa_transformer import PolySATokenizer
from hadamard_zoo.models.polysa_transformer import PolySATransformerBackbone

TEXTS = [
    "A good film.",
    "A bad film!",
    "Good acting, bad plot.",
    "The film is GOOD",
]


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _ids(tokenizer, text):
    return [int(i) for i in _np(tokenizer(text))]


def test_from_texts_vocabulary():
    tokenizer = PolySATokenizer.from_texts(TEXTS)
    vocab = tokenizer.get_vocabulary()
    assert vocab[:4] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    # Every word of the texts, lower-cased, once: a word-level vocabulary.
    words = {w for t in TEXTS for w in split_words(t)}
    assert set(vocab[4:]) == words
    assert "##" not in "".join(vocab)
    # Most frequent first: "film", "good" (3 each), then ".", "a", "bad".
    assert vocab[4:7] == ["film", "good", "."]
    assert tokenizer.pad_token_id == 0
    assert (tokenizer.start_token_id, tokenizer.end_token_id) == (2, 3)
    assert tokenizer.token_to_id("[UNK]") == 1
    assert tokenizer.backbone_cls is PolySATransformerBackbone


def test_words_map_to_ids_and_unknown_words_to_unk():
    tokenizer = PolySATokenizer.from_texts(TEXTS)
    vocab = tokenizer.get_vocabulary()
    text = "A GOOD; unseen film"
    expected = [vocab.index(w) if w in vocab else 1 for w in split_words(text)]
    assert _ids(tokenizer, text) == expected
    assert expected.count(1) == 2  # ";" and "unseen"
    # Special tokens in the text are plain punctuation and words.
    assert 2 not in _ids(tokenizer, "[CLS] good")


def test_max_size_and_min_count():
    tokenizer = PolySATokenizer.from_texts(TEXTS, max_size=6)
    assert tokenizer.get_vocabulary() == [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "film",
        "good",
    ]
    tokenizer = PolySATokenizer.from_texts(TEXTS, min_count=3)
    assert tokenizer.get_vocabulary()[4:] == ["film", "good"]


def test_lowercase_false():
    tokenizer = PolySATokenizer.from_texts(TEXTS, lowercase=False)
    assert "GOOD" in tokenizer.get_vocabulary()
    assert not tokenizer.lowercase
    assert _ids(tokenizer, "GOOD")[0] == tokenizer.token_to_id("GOOD")


def test_vocabulary_is_a_preset_asset(tmp_path):
    tokenizer = PolySATokenizer.from_texts(TEXTS)
    preset = tmp_path / "preset"
    PolySATransformerBackbone(
        vocabulary_size=tokenizer.vocabulary_size(),
        num_layers=1,
        hidden_dim=4,
        intermediate_dim=4,
    ).save_to_preset(str(preset))
    tokenizer.save_to_preset(str(preset))
    asset = preset / "assets" / "tokenizer" / "vocabulary.txt"
    lines = asset.read_text(encoding="utf-8").splitlines()
    assert lines == tokenizer.get_vocabulary()
    with open(preset / "tokenizer.json") as f:
        config = json.load(f)
    assert config["registered_name"] == "hadamard_zoo>PolySATokenizer"
    assert config["config"]["vocabulary"] is None  # only in the asset
    for cls in (PolySATokenizer, keras_hub.tokenizers.Tokenizer):
        loaded = cls.from_preset(str(preset))
        assert type(loaded) is PolySATokenizer
        assert loaded.get_vocabulary() == tokenizer.get_vocabulary()
        assert loaded.lowercase
        assert _ids(loaded, "a BAD film") == _ids(tokenizer, "a BAD film")


def test_missing_special_token_raises():
    with pytest.raises(ValueError, match=r"\[SEP\]"):
        PolySATokenizer(vocabulary=["[PAD]", "[UNK]", "[CLS]", "good"])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="lowercase"):
        PolySATokenizer(vocabulary=None, lowercase="yes")
    with pytest.raises(ValueError, match="max_size"):
        PolySATokenizer.from_texts(TEXTS, max_size=3)
    with pytest.raises(TypeError, match="texts"):
        PolySATokenizer.from_texts("a single string")


# ------------------------------------------------------------ preprocessor


def _preprocessor(**kwargs):
    return PolySATextClassifierPreprocessor(
        PolySATokenizer.from_texts(TEXTS), **kwargs
    )


def test_preprocessor_packs_cls_text_sep_and_pads():
    preprocessor = _preprocessor(sequence_length=8)
    vocab = preprocessor.tokenizer.get_vocabulary()
    x, y = preprocessor(["A good film.", "bad"], np.array([1, 0]))
    assert sorted(x) == ["padding_mask", "token_ids"]  # no segment_ids
    words = ["a", "good", "film", "."]
    first = [2] + [vocab.index(w) for w in words] + [3, 0, 0]
    second = [2, vocab.index("bad"), 3, 0, 0, 0, 0, 0]
    np.testing.assert_array_equal(_np(x["token_ids"]), [first, second])
    np.testing.assert_array_equal(
        _np(x["padding_mask"]), np.array([first, second]) != 0
    )
    np.testing.assert_array_equal(_np(y), [1, 0])


def test_preprocessor_truncates_and_defaults():
    assert _preprocessor().sequence_length == 128
    preprocessor = _preprocessor(sequence_length=4)
    x = preprocessor(["good good good good good good"])
    ids = _np(x["token_ids"])[0]
    good = preprocessor.tokenizer.token_to_id("good")
    np.testing.assert_array_equal(ids, [2, good, good, 3])
    assert _np(x["padding_mask"]).all()


def test_preprocessor_with_sample_weight_and_pairs():
    preprocessor = _preprocessor(sequence_length=10)
    x, y, w = preprocessor(["good"], np.array([1]), np.array([0.5]))
    np.testing.assert_array_equal(_np(w), [0.5])
    x = preprocessor(x=(["good film"], ["bad"]))
    vocab = preprocessor.tokenizer.get_vocabulary()
    expected = [2, vocab.index("good"), vocab.index("film"), 3]
    expected += [vocab.index("bad"), 3, 0, 0, 0, 0]
    np.testing.assert_array_equal(_np(x["token_ids"])[0], expected)


def test_preprocessor_in_tf_data():
    """The tf.data path that Task.fit / predict use drops segment_ids too."""
    tf = pytest.importorskip("tensorflow")
    preprocessor = _preprocessor(sequence_length=6)
    ds = tf.data.Dataset.from_tensor_slices((TEXTS, [1, 0, 0, 1]))
    x, y = next(iter(ds.batch(4).map(preprocessor)))
    assert sorted(x) == ["padding_mask", "token_ids"]
    assert tuple(x["token_ids"].shape) == (4, 6)
    eager, _ = preprocessor(TEXTS, [1, 0, 0, 1])
    np.testing.assert_array_equal(
        x["token_ids"].numpy(), _np(eager["token_ids"])
    )


def test_preprocessor_preset_round_trip(tmp_path):
    preprocessor = _preprocessor(sequence_length=7)
    preset = str(tmp_path / "preset")
    PolySATransformerBackbone(
        vocabulary_size=preprocessor.tokenizer.vocabulary_size(),
        num_layers=1,
        hidden_dim=4,
        intermediate_dim=4,
    ).save_to_preset(preset)
    preprocessor.save_to_preset(preset)
    for cls in (
        PolySATextClassifierPreprocessor,
        keras_hub.models.TextClassifierPreprocessor,
    ):
        loaded = cls.from_preset(preset)
        assert type(loaded) is PolySATextClassifierPreprocessor
        assert loaded.sequence_length == 7
        np.testing.assert_array_equal(
            _np(loaded(TEXTS)["token_ids"]),
            _np(preprocessor(TEXTS)["token_ids"]),
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sequence_length=1), "sequence_length"),
        (dict(sequence_length=8.0), "sequence_length"),
        (dict(truncate="middle"), "truncate"),
    ],
)
def test_preprocessor_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _preprocessor(**kwargs)
