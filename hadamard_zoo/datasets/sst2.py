"""SST-2 (GLUE): binary sentiment of movie-review sentences, offline first.

The GLUE distribution of SST-2 is one zip, `SST-2.zip`, holding three TSV
files: `train.tsv` and `dev.tsv` (`sentence<TAB>label`, 0 = negative,
1 = positive) and the unlabelled `test.tsv` (`index<TAB>sentence`), each
with a header row. `load_sst2` looks for the TSV files (see
`hadamard_zoo.datasets.fetch`); when they are missing it extracts them from
`SST-2.zip`, found locally or downloaded, into the Keras cache. Every file,
the zip and each extracted TSV, is checked against its sha256 digest.
"""

import csv
import hashlib
import os
import zipfile

import numpy as np

from hadamard_zoo.datasets.files import DatasetNotFoundError
from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.files import fetch
from hadamard_zoo.datasets.files import keras_cache_dir
from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice

SST2_CLASS_NAMES = ("negative", "positive")
SPLITS = ("train", "dev", "test")
# Accepted for "dev", the name other libraries (TFDS, Hugging Face) use.
_ALIASES = {"validation": "dev"}

DATASET = "sst2"
SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
# sha256 as listed by Hugging Face `glue` and TFDS (7439277 bytes).
SST2_ZIP = RemoteFile(
    "SST-2.zip",
    "d67e16fb55739c1b32cdce9877596db1c127dc322d93c082281f64057c16deaa",
    SST2_URL,
)
# The TSV files inside SST2_ZIP (member SST-2/<name>); digests of
# shared/data/sst2/ (see its SOURCE.md), whose md5s equal those torchtext
# lists for the zip's members, so they are the zip's bytes.
SST2_FILES = {
    "train": RemoteFile(
        "train.tsv",
        "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1",
        SST2_URL,
    ),
    "dev": RemoteFile(
        "dev.tsv",
        "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0",
        SST2_URL,
    ),
    "test": RemoteFile(
        "test.tsv",
        "69a938605609b3e6663b4487918fe1565eb293734e6e520d0366d1d412fd2a13",
        SST2_URL,
    ),
}
_MEMBER_DIR = "SST-2"
_HEADERS = {
    "train": ["sentence", "label"],
    "dev": ["sentence", "label"],
    "test": ["index", "sentence"],
}
_CHUNK = 1 << 20


def load_sst2(split="train", data_dir=None, download=True):
    """Loads SST-2 (GLUE) sentences and their binary sentiment labels.

    `train.tsv`, `dev.tsv` and `test.tsv` (the GLUE files) are looked for
    in `data_dir` (itself, then `data_dir/sst2/`), `$HADAMARD_ZOO_DATA/sst2/`
    and the Keras cache `~/.keras/datasets/hadamard_zoo/sst2/`. A missing
    file is extracted from `SST-2.zip`, looked for in the same directories
    and, when `download` is true, downloaded into the cache; the three
    files are extracted into the cache. Every digest is checked (sha256).

    Train has 67349 sentences (37569 positive), dev 872 (444 positive) and
    test 1821, unlabelled as in GLUE, so the test split returns `None` for
    its labels. Sentences are returned as stored: lower-cased, tokenised
    with spaces around punctuation, and in train and dev usually ending in
    a space. Class names are `SST2_CLASS_NAMES`.

    Args:
        split: `"train"`, `"dev"` (or its alias `"validation"`) or
            `"test"`. Defaults to `"train"`.
        data_dir: optional directory searched first, either holding the
            files or holding `sst2/`. Defaults to `None`.
        download: bool, whether to download `SST-2.zip` when the files
            are missing. Defaults to `True`.

    Returns:
        A tuple `(sentences, labels)`: a list of `N` str, and an int32
        array of shape `(N,)` (0 = negative, 1 = positive), or `None` for
        the test split.

    Raises:
        ValueError: if `split` is unknown, a file's checksum does not match
            or a file is malformed.
        DatasetNotFoundError: if a file is missing and cannot be extracted
            from a local or downloaded `SST-2.zip`.

    Example:

    >>> sentences, labels = load_sst2("dev")  # $HADAMARD_ZOO_DATA/sst2/
    >>> len(sentences), labels.shape, labels.dtype
    (872, (872,), dtype('int32'))
    >>> sentences[0]
    "it 's a charming and often affecting journey . "
    >>> SST2_CLASS_NAMES[labels[0]]
    'positive'
    >>> test_sentences, test_labels = load_sst2("test")
    >>> len(test_sentences), test_labels
    (1821, None)

    Reference:
        Socher et al., "Recursive Deep Models for Semantic Compositionality
        Over a Sentiment Treebank", EMNLP 2013; Wang et al., "GLUE: A
        Multi-Task Benchmark and Analysis Platform for Natural Language
        Understanding", ICLR 2019.
    """
    split = _ALIASES.get(split, split) if isinstance(split, str) else split
    check_choice("split", split, SPLITS)
    check_bool("download", download)
    path = _resolve(split, data_dir, download)
    return read_sst2_tsv(path, labelled=split != "test")


def read_sst2_tsv(path, labelled=True):
    """Reads one GLUE SST-2 TSV file.

    Fields are tab-separated with no quoting (a `"` is an ordinary
    character, one row is one line), after a header row:
    `sentence<TAB>label` for a labelled file, `index<TAB>sentence` for the
    test file.

    Args:
        path: path (str or `os.PathLike`) of the file.
        labelled: bool, whether it is a labelled file (train, dev) rather
            than the test file. Defaults to `True`.

    Returns:
        A tuple `(sentences, labels)`: a list of str and an int32 array of
        0/1 labels, or `None` when `labelled` is false.

    Raises:
        ValueError: if the header, a row's number of fields or a label is
            not as expected.

    Example:

    >>> import pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name, "dev.tsv")
    >>> _ = path.write_text('sentence\\tlabel\\na "fine" film \\t1\\n')
    >>> read_sst2_tsv(path)
    (['a "fine" film '], array([1], dtype=int32))
    >>> tmp.cleanup()
    """
    check_bool("labelled", labelled)
    path = os.fspath(path)
    header = _HEADERS["train" if labelled else "test"]

    def malformed(what):
        return ValueError(
            f"Malformed SST-2 file {path}: {what}. Expected a GLUE SST-2 "
            f"TSV file with the header {chr(9).join(header)!r}."
        )

    sentences, labels = [], []
    with open(path, encoding="utf-8", newline="") as f:
        rows = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        first = next(rows, None)
        if first != header:
            raise malformed(f"its header is {first!r}")
        for line, row in enumerate(rows, start=2):
            if len(row) != 2:
                raise malformed(f"line {line} has {len(row)} fields, not 2")
            if not labelled:
                sentences.append(row[1])
                continue
            sentence, label = row
            if label not in ("0", "1"):
                raise malformed(f"line {line} has label {label!r}, not 0/1")
            sentences.append(sentence)
            labels.append(label == "1")
    if not labelled:
        return sentences, None
    return sentences, np.asarray(labels, dtype=np.int32)


def _resolve(split, data_dir, download):
    """Returns the verified path of the split's TSV, extracting if needed."""
    remote = SST2_FILES[split]
    try:
        [path] = fetch(DATASET, [remote], data_dir=data_dir, download=False)
        return path
    except DatasetNotFoundError:
        pass
    try:
        [archive] = fetch(
            DATASET, [SST2_ZIP], data_dir=data_dir, download=download
        )
    except DatasetNotFoundError as e:
        raise DatasetNotFoundError(
            f"Dataset {DATASET!r}: {remote.name} was not found, nor "
            f"{SST2_ZIP.name} to extract it from. Place the GLUE SST-2 files "
            "(train.tsv, dev.tsv, test.tsv) or SST-2.zip in one of the "
            f"directories below.\n{e}",
            dataset=DATASET,
            missing=(remote.name,) + e.missing,
            searched=e.searched,
            urls=e.urls,
        ) from None
    _extract_zip(archive, keras_cache_dir(DATASET))
    [path] = fetch(DATASET, [remote], data_dir=data_dir, download=False)
    return path


def _extract_zip(archive, directory):
    """Extracts the three TSV files of `SST-2.zip` into `directory`.

    Each member `SST-2/<name>.tsv` is written to a temporary file and
    renamed to `directory/<name>.tsv` only once its sha256 digest matches
    `SST2_FILES`, so `directory` never holds a partial or wrong file. A
    file already in `directory` is left alone (`fetch` verifies it).

    Args:
        archive: path of the zip file.
        directory: the directory to extract into (created if needed).

    Returns:
        The list of paths of the three TSV files, train, dev, test.

    Raises:
        ValueError: if the archive is not a valid zip, lacks a member, or a
            member's digest does not match (nothing is written for it).
    """
    archive = os.fspath(archive)
    paths = []
    try:
        with zipfile.ZipFile(archive) as zf:
            for split in SPLITS:
                remote = SST2_FILES[split]
                target = os.path.join(directory, remote.name)
                if not os.path.isfile(target):
                    _extract_member(zf, archive, remote, target)
                paths.append(target)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
        raise ValueError(
            f"{archive} is not a valid zip archive ({type(e).__name__}: "
            f"{e}). Delete it and fetch it again from {SST2_URL}."
        ) from e
    return paths


def _extract_member(zf, archive, remote, target):
    member = f"{_MEMBER_DIR}/{remote.name}"
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise ValueError(
            f"{archive} has no member {member}: it is not the GLUE SST-2 "
            f"archive. Delete it and fetch it again from {SST2_URL}."
        ) from None
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        with zf.open(info) as source, open(tmp, "wb") as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
        if digest.hexdigest() != remote.sha256:
            raise ValueError(
                f"sha256 checksum mismatch for {member} in {archive}: "
                f"expected {remote.sha256}, got {digest.hexdigest()}. The "
                "archive is a different version of SST-2, so this file was "
                "not extracted."
            )
        os.chmod(tmp, 0o644)
