"""Word splitting and vocabularies, checked against keras-hub's tokenizer."""

import collections
import os
import pathlib
import random

import numpy as np
import pytest

from hadamard_zoo.datasets import files
from hadamard_zoo.datasets.vocabulary import build_vocabulary
from hadamard_zoo.datasets.vocabulary import split_words

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(
    os.environ.get(files.ENV_VAR) or REPO.parent / "shared" / "data"
)
HAVE_DATA = (DATA / "sst2").is_dir()
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason=f"no SST-2 files under {DATA} (set {files.ENV_VAR})"
)

# Unicode corner cases of keras-hub's pre-tokenizer: case folding with NFKC
# (fullwidth, ligatures, sharp s, dotted I, final sigma), combining accents,
# CJK ideographs, non-ASCII punctuation and spaces, control and format
# characters (a zero-width space splits, a no-break space does not).
UNICODE_TEXTS = [
    "Ｆｕｌｌ width ﬁne Straße\u200bzero\u00a0nbsp 中文字 «quote» ‘x’",
    "é E\u0301 x\u00adz İstanbul ΣΑΣ Ǆ ½ Ⅻ ㈱ ¿Qué?",
    "tab\tnew\nline\rcr\x0bvt\x7fdel\fff end\u2028ls\u3000ideo",
    'a$b^c`d~e|f{g}h[i]j\\k@l<m>n=o+p*q&r%s#t"u_v',
]


@pytest.fixture(scope="module")
def sentences():
    from hadamard_zoo.datasets.sst2 import load_sst2

    return load_sst2("train", data_dir=DATA / "sst2", download=False)[0]


@pytest.mark.parametrize(
    "text, lowercase, expected",
    [
        (
            "It's GREAT -- really!",
            True,
            ["it", "'", "s", "great", "-", "-"] + ["really", "!"],
        ),
        ("It's GREAT", False, ["It", "'", "s", "GREAT"]),
        ("  a\t\tb \n", True, ["a", "b"]),
        ("", True, []),
        ("Straße", True, ["strasse"]),
        ("Straße", False, ["Straße"]),
        ("中文x", True, ["中", "文", "x"]),
        ("a\u00a0b", False, ["a\u00a0b"]),  # no-break space: one word
        ("a\u200bb", True, ["a", "b"]),  # zero-width space: format char
        ("x\u00ad", True, ["x"]),  # soft hyphen (Cf): a delimiter
        ("n°1 «ok»", True, ["n°1", "«", "ok", "»"]),  # ° is a symbol
    ],
)
def test_split_words(text, lowercase, expected):
    assert split_words(text, lowercase=lowercase) == expected


def keras_hub_tokenizer(vocabulary, lowercase=True, **kwargs):
    keras_hub = pytest.importorskip("keras_hub")
    return keras_hub.tokenizers.WordPieceTokenizer(
        vocabulary=vocabulary, lowercase=lowercase, **kwargs
    )


@needs_data
def test_ids_match_keras_hub_on_sst2(sentences):
    texts = sentences[:200]
    # Built from half of the texts, so the other half has unknown words.
    vocabulary = build_vocabulary(texts[:100])
    ids = {token: i for i, token in enumerate(vocabulary)}
    tokenizer = keras_hub_tokenizer(vocabulary)
    unknown = 0
    for text in texts:
        expected = [ids.get(w, 1) for w in split_words(text)]
        unknown += expected.count(1)
        assert np.asarray(tokenizer(text)).tolist() == expected, text
    assert unknown > 50
    # Padding uses id 0, which is [PAD].
    padded = keras_hub_tokenizer(vocabulary, sequence_length=64)(texts[0])
    assert np.asarray(padded)[-1] == 0 and vocabulary[0] == "[PAD]"


@pytest.mark.parametrize("lowercase", [True, False])
def test_words_match_keras_hub_on_unicode(lowercase):
    vocabulary = build_vocabulary(UNICODE_TEXTS, lowercase=lowercase)
    tokenizer = keras_hub_tokenizer(
        vocabulary, lowercase=lowercase, dtype="string"
    )
    for text in UNICODE_TEXTS:
        words = split_words(text, lowercase=lowercase)
        assert list(tokenizer(text)) == words
        assert "[UNK]" not in words


@needs_data
def test_vocabulary_of_sst2_is_sorted_by_count(sentences):
    vocabulary = build_vocabulary(sentences[:5000], min_count=2)
    counts = collections.Counter(
        w for s in sentences[:5000] for w in split_words(s)
    )
    words = vocabulary[2:]
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    assert words[:5] == ["the", ",", "a", "and", "of"]
    assert len(set(vocabulary)) == len(vocabulary)
    keys = [(-counts[w], w) for w in words]
    assert keys == sorted(keys)
    assert min(counts[w] for w in words) == 2
    assert set(words) == {w for w, c in counts.items() if c >= 2}


@needs_data
def test_vocabulary_is_deterministic(sentences):
    texts = sentences[:3000]
    shuffled = list(texts)
    random.Random(0).shuffle(shuffled)
    first = build_vocabulary(texts, max_size=1000)
    assert build_vocabulary(texts, max_size=1000) == first
    assert build_vocabulary(shuffled, max_size=1000) == first
    assert build_vocabulary(iter(shuffled), max_size=1000) == first
    assert len(first) == 1000


def test_ties_are_broken_by_code_point_order():
    texts = ["b a c", "c b a", "z"]
    assert build_vocabulary(texts) == ["[PAD]", "[UNK]", "a", "b", "c", "z"]
    assert build_vocabulary(texts, max_size=4) == ["[PAD]", "[UNK]", "a", "b"]
    assert build_vocabulary(texts, min_count=2) == [
        "[PAD]",
        "[UNK]",
        "a",
        "b",
        "c",
    ]


def test_reserved_tokens():
    texts = ["the cat", "the dog", "The end"]
    vocabulary = build_vocabulary(texts, reserved=("the", "<unk>"))
    assert vocabulary == ["the", "<unk>", "cat", "dog", "end"]
    assert build_vocabulary(texts, reserved=()) == [
        "the",
        "cat",
        "dog",
        "end",
    ]
    assert build_vocabulary(texts, lowercase=False, reserved=[]) == [
        "the",
        "The",
        "cat",
        "dog",
        "end",
    ]
    assert build_vocabulary([], max_size=2) == ["[PAD]", "[UNK]"]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"max_size": 1}, ValueError, "max_size.*>= 2"),
        ({"max_size": 0, "reserved": ()}, ValueError, "max_size.*>= 1"),
        ({"max_size": True}, ValueError, "max_size"),
        ({"max_size": 10.0}, ValueError, "max_size"),
        ({"min_count": 0}, ValueError, "min_count"),
        ({"min_count": 1.5}, ValueError, "min_count"),
        ({"lowercase": "yes"}, ValueError, "lowercase"),
        ({"reserved": "[UNK]"}, TypeError, "reserved"),
        ({"reserved": ("[UNK]", "[UNK]")}, ValueError, "reserved.*repeat"),
        ({"reserved": ("", "[UNK]")}, ValueError, "reserved.*non-empty"),
        ({"reserved": (None,)}, ValueError, "reserved"),
        ({"texts": "a single string"}, TypeError, "texts.*single str"),
        ({"texts": b"bytes"}, TypeError, "texts.*single bytes"),
        ({"texts": 3}, TypeError, "texts.*iterable"),
        ({"texts": ["ok", 3]}, TypeError, "texts.*int at position 1"),
        ({"texts": [b"bytes"]}, TypeError, "texts.*bytes at position 0"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    kwargs = {"texts": ["a b c"], **kwargs}
    with pytest.raises(error, match=match):
        build_vocabulary(**kwargs)


def test_split_words_bad_arguments():
    with pytest.raises(TypeError, match="text"):
        split_words(b"bytes")
    with pytest.raises(TypeError, match="text"):
        split_words(["a list"])
    with pytest.raises(ValueError, match="lowercase"):
        split_words("a", lowercase=1)
