"""Word vocabularies for text datasets, usable by keras-hub's tokenizer.

`split_words` splits text the way `keras_hub.tokenizers.WordPieceTokenizer`
pre-tokenises it (with its defaults `split=True`, `split_on_cjk=True`,
`strip_accents=False`), and `build_vocabulary` counts those words. A word
vocabulary has no `##` sub-word pieces, so the WordPiece tokenizer then
acts as a word-level tokenizer: a word in the vocabulary maps to its index
and any other word to `[UNK]`.
"""

import collections
import functools
import numbers
import re
import sys
import unicodedata

from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_int

DEFAULT_RESERVED = ("[PAD]", "[UNK]")

# Code point ranges of CJK ideographs that keras-hub (after the original BERT
# tokenizer) splits into one-character words.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
# Unicode Default_Ignorable_Code_Point ranges, which NFKC_Casefold (the
# lower-casing keras-hub and TF Text apply) deletes.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff"
    "\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)


def split_words(text, lowercase=True):
    """Splits text into words and punctuation, as keras-hub's WordPiece does.

    The rules of `keras_hub.tokenizers.WordPieceTokenizer`'s pre-tokenizer
    (itself that of the original BERT): ASCII whitespace (space, tab,
    newline, carriage return, form feed) and control or format characters
    (Unicode categories Cc, Cf) separate words and are dropped;
    punctuation (every ASCII character that is not a letter, digit or
    whitespace, and Unicode category P) and CJK ideographs separate words
    and are kept as one-character words. Other whitespace, such as a
    no-break space, does not split. Lower-casing is Unicode NFKC case
    folding (so `"ß"` becomes `"ss"`), applied to each word; accents are
    kept.

    Args:
        text: str, the text to split.
        lowercase: bool, whether to case-fold the words. Defaults to
            `True`.

    Returns:
        A list of non-empty str.

    Raises:
        TypeError: if `text` is not a str.
        ValueError: if `lowercase` is not a bool.

    Example:

    >>> split_words("It's a GREAT film -- really!")
    ['it', "'", 's', 'a', 'great', 'film', '-', '-', 'really', '!']
    >>> split_words("Naïve, isn't it?", lowercase=False)
    ['Naïve', ',', 'isn', "'", 't', 'it', '?']
    """
    if not isinstance(text, str):
        raise TypeError(
            "`text` must be a str. "
            f"Received: text={text!r} (type {type(text).__name__})."
        )
    check_bool("lowercase", lowercase)
    # The capturing group returns the kept delimiters (punctuation, CJK);
    # dropped ones (whitespace) come back as None.
    pieces = _splitter().split(text)
    words = [p for p in pieces if p]
    if lowercase:
        words = [w for w in map(_casefold, words) if w]
    return words


def build_vocabulary(
    texts,
    max_size=None,
    min_count=1,
    lowercase=True,
    reserved=DEFAULT_RESERVED,
):
    """Builds a word vocabulary from texts, most frequent words first.

    Texts are split with `split_words`. The vocabulary is the `reserved`
    tokens, then the words seen at least `min_count` times by descending
    count, ties broken by code point order of the words, so the same texts
    always give the same vocabulary. Words equal to a reserved token are
    not counted.

    With the default reserved tokens, `[PAD]` has index 0 (the value
    keras-hub pads with) and `[UNK]` index 1, and the result can be passed
    to `keras_hub.tokenizers.WordPieceTokenizer(vocabulary=...,
    lowercase=lowercase)` to map text to word indices (words the
    vocabulary lacks become `[UNK]`; so do words longer than 100 UTF-8
    bytes, which that tokenizer never looks up).

    Args:
        texts: iterable of str (not a single str).
        max_size: optional int, the largest vocabulary size, reserved tokens
            included; the least frequent words are dropped. Must be at least
            `len(reserved)` and 1. Defaults to `None` (no limit).
        min_count: int >= 1, the fewest occurrences a word needs. Defaults
            to 1.
        lowercase: bool, whether to case-fold words (see `split_words`).
            Defaults to `True`.
        reserved: sequence of distinct non-empty str put first. Defaults to
            `("[PAD]", "[UNK]")`.

    Returns:
        A list of str without duplicates: the vocabulary, index `i` being
        the token of id `i`.

    Raises:
        TypeError: if `texts` is a str or not an iterable of str, or
            `reserved` is not a sequence of str.
        ValueError: if `max_size` is smaller than `len(reserved)` or 1,
            `min_count` < 1, or `reserved` holds an empty or repeated token.

    Example:

    >>> build_vocabulary(["a good film .", "a bad film", "Good!"])
    ['[PAD]', '[UNK]', 'a', 'film', 'good', '!', '.', 'bad']
    >>> build_vocabulary(["a good film .", "a bad film"], max_size=4)
    ['[PAD]', '[UNK]', 'a', 'film']
    """
    reserved = _check_reserved(reserved)
    smallest = max(len(reserved), 1)
    if max_size is not None and (
        isinstance(max_size, bool)
        or not isinstance(max_size, numbers.Integral)
        or max_size < smallest
    ):
        raise ValueError(
            f"`max_size` must be None or an integer >= {smallest} (room for "
            f"the {len(reserved)} reserved tokens and at least one token). "
            f"Received: max_size={max_size!r}."
        )
    check_int("min_count", min_count, 1)
    check_bool("lowercase", lowercase)
    if isinstance(texts, (str, bytes)):
        raise TypeError(
            "`texts` must be an iterable of str, not a single "
            f"{type(texts).__name__}; wrap it in a list. "
            f"Received: texts={texts[:50]!r}."
        )
    try:
        iterator = iter(texts)
    except TypeError:
        raise TypeError(
            "`texts` must be an iterable of str. "
            f"Received: texts of type {type(texts).__name__}."
        ) from None
    counts = collections.Counter()
    for i, text in enumerate(iterator):
        if not isinstance(text, str):
            raise TypeError(
                "`texts` must be an iterable of str. Received an element "
                f"of type {type(text).__name__} at position {i}: {text!r}."
            )
        counts.update(split_words(text, lowercase=lowercase))
    for token in reserved:
        counts.pop(token, None)
    words = sorted(
        (w for w, c in counts.items() if c >= min_count),
        key=lambda w: (-counts[w], w),
    )
    if max_size is not None:
        words = words[: max_size - len(reserved)]
    return list(reserved) + words


def _check_reserved(reserved):
    if isinstance(reserved, (str, bytes)) or not isinstance(
        reserved, (list, tuple)
    ):
        raise TypeError(
            "`reserved` must be a list or tuple of str. "
            f"Received: reserved={reserved!r}."
        )
    for token in reserved:
        if not isinstance(token, str) or not token:
            raise ValueError(
                "`reserved` must hold non-empty str tokens. "
                f"Received: reserved={reserved!r}."
            )
    if len(set(reserved)) != len(reserved):
        raise ValueError(
            f"`reserved` must not repeat a token. Received: reserved="
            f"{reserved!r}."
        )
    return tuple(reserved)


def _casefold(word):
    if word.isascii():
        return word.lower()
    # NFKC_Casefold is NFKC(casefold(NFKC(x))) minus default ignorables.
    word = unicodedata.normalize("NFKC", word).casefold()
    word = unicodedata.normalize("NFKC", word)
    return _DEFAULT_IGNORABLE.sub("", word)


@functools.lru_cache(maxsize=1)
def _splitter():
    """The compiled split pattern, built once from the Unicode database."""
    # Python's `re` has no \p{...} classes, so list the code points of each
    # class as ranges (one pass over Unicode, about 0.2 s, once).
    dropped, kept = [], []
    for cp in range(sys.maxunicode + 1):
        char = chr(cp)
        category = unicodedata.category(char)
        if char in " \t\n\r\f" or category in ("Cc", "Cf"):
            dropped.append(cp)
        elif category.startswith("P") or (cp < 128 and not char.isalnum()):
            kept.append(cp)
    cjk = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in _CJK_RANGES)
    return re.compile(f"([{_char_class(kept)}{cjk}])|[{_char_class(dropped)}]")


def _char_class(code_points):
    """Regex character-class body for sorted code points, as ranges."""
    parts, start, prev = [], None, None
    for cp in code_points + [None]:
        if start is not None and cp == prev + 1:
            prev = cp
            continue
        if start is not None:
            first, last = re.escape(chr(start)), re.escape(chr(prev))
            parts.append(first if start == prev else f"{first}-{last}")
        start = prev = cp
    return "".join(parts)
