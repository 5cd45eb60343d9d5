"""SST-2 loader, on the real files of shared/data, with no network."""

import hashlib
import io
import os
import pathlib
import urllib.error
import zipfile

import numpy as np
import pytest

from hadamard_zoo.datasets import files
from hadamard_zoo.datasets import sst2
from hadamard_zoo.datasets.files import DatasetNotFoundError
from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.sst2 import SST2_CLASS_NAMES
from hadamard_zoo.datasets.sst2 import load_sst2
from hadamard_zoo.datasets.sst2 import read_sst2_tsv

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(
    os.environ.get(files.ENV_VAR) or REPO.parent / "shared" / "data"
)
HAVE_DATA = (DATA / "sst2").is_dir()
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason=f"no SST-2 files under {DATA} (set {files.ENV_VAR})"
)
NAMES = ("train.tsv", "dev.tsv", "test.tsv")
ZIP_URL = "https://example.invalid/glue/SST-2.zip"

# From shared/data/sst2/SOURCE.md (the published GLUE statistics).
COUNTS = {"train": (67349, 37569), "dev": (872, 444), "test": (1821, None)}


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


def cache(tmp_path):
    return tmp_path / "keras_home" / "datasets" / "hadamard_zoo" / "sst2"


def make_zip(damage=None, members=NAMES):
    """A GLUE-layout SST-2.zip of the local files; returns its bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in members:
            data = bytearray((DATA / "sst2" / name).read_bytes())
            if name == damage:
                data[len(data) // 2] ^= 0x01
            zf.writestr(f"SST-2/{name}", bytes(data))
    return buffer.getvalue()


def use_zip(monkeypatch, content):
    """Makes the loader expect `content` as SST-2.zip, served at ZIP_URL."""
    digest = hashlib.sha256(content).hexdigest()
    monkeypatch.setattr(
        sst2, "SST2_ZIP", RemoteFile("SST-2.zip", digest, ZIP_URL)
    )


def empty_search_path(tmp_path, monkeypatch):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))


@needs_data
@pytest.mark.parametrize("split", ["train", "dev", "test"])
def test_counts_and_label_balance(split):
    sentences, labels = load_sst2(split, download=False)
    n, positive = COUNTS[split]
    assert len(sentences) == n
    assert all(isinstance(s, str) and s.strip() for s in sentences)
    if split == "test":
        assert labels is None
        assert sentences[0] == "uneasy mishmash of styles and genres ."
        return
    assert labels.shape == (n,) and labels.dtype == np.int32
    assert np.bincount(labels, minlength=2).tolist() == [n - positive, positive]
    first = {
        "train": "hide new secretions from the parental units ",
        "dev": "it 's a charming and often affecting journey . ",
    }[split]
    assert sentences[0] == first


@needs_data
def test_validation_is_an_alias_of_dev():
    dev_sentences, dev_labels = load_sst2("dev", download=False)
    sentences, labels = load_sst2("validation", download=False)
    assert sentences == dev_sentences
    np.testing.assert_array_equal(labels, dev_labels)


def test_class_names():
    assert SST2_CLASS_NAMES == ("negative", "positive")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "valid"}, "split.*'train', 'dev', 'test'"),
        ({"split": None}, "split"),
        ({"download": "no"}, "download"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_sst2(**kwargs)


@needs_data
def test_wrong_checksum_is_a_clear_error(tmp_path, monkeypatch):
    # $HADAMARD_ZOO_DATA holds a damaged copy; data_dir a good one wins.
    damaged = tmp_path / "env" / "sst2"
    damaged.mkdir(parents=True)
    data = bytearray((DATA / "sst2" / "dev.tsv").read_bytes())
    data[100] ^= 0x01
    (damaged / "dev.tsv").write_bytes(bytes(data))
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "env"))
    sentences, _ = load_sst2("dev", data_dir=DATA / "sst2", download=False)
    assert len(sentences) == 872
    with pytest.raises(ValueError, match="sha256 checksum mismatch") as info:
        load_sst2("dev", download=False)
    message = str(info.value)
    assert str(damaged / "dev.tsv") in message
    assert sst2.SST2_FILES["dev"].sha256 in message
    assert hashlib.sha256(bytes(data)).hexdigest() in message


def test_missing_files_offline(tmp_path, monkeypatch, offline):
    empty_search_path(tmp_path, monkeypatch)
    with pytest.raises(DatasetNotFoundError) as info:
        load_sst2("dev", data_dir=tmp_path / "nowhere", download=False)
    error = info.value
    message = str(error)
    for directory in (
        tmp_path / "nowhere",
        tmp_path / "nowhere" / "sst2",
        tmp_path / "empty" / "sst2",
        cache(tmp_path),
    ):
        assert str(directory) in message
    assert "HADAMARD_ZOO_DATA" in message and "download=False" in message
    assert "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip" in message
    assert "dev.tsv" in message and "SST-2.zip" in message
    assert error.missing == ("dev.tsv", "SST-2.zip")
    assert error.dataset == "sst2" and len(error.searched) == 4
    assert offline.calls == []


def test_failed_download_is_not_found(tmp_path, monkeypatch, offline):
    empty_search_path(tmp_path, monkeypatch)
    with pytest.raises(DatasetNotFoundError, match="unreachable \\(test\\)"):
        load_sst2("train")
    assert offline.calls == [sst2.SST2_URL]
    assert os.listdir(cache(tmp_path)) == []


@needs_data
def test_download_extracts_the_zip_into_the_cache(
    tmp_path, monkeypatch, offline
):
    empty_search_path(tmp_path, monkeypatch)
    content = make_zip()
    use_zip(monkeypatch, content)
    offline.served[ZIP_URL] = content
    sentences, labels = load_sst2("dev")
    assert len(sentences) == 872 and int(labels.sum()) == 444
    assert sorted(os.listdir(cache(tmp_path))) == sorted(("SST-2.zip",) + NAMES)
    for name in NAMES:
        assert (cache(tmp_path) / name).read_bytes() == (
            DATA / "sst2" / name
        ).read_bytes()
    # The other splits come from the cache, without a second download.
    assert len(load_sst2("train")[0]) == 67349
    assert load_sst2("test")[1] is None
    assert offline.calls == [ZIP_URL]


@needs_data
def test_local_zip_is_extracted_without_download(tmp_path, monkeypatch):
    empty_search_path(tmp_path, monkeypatch)
    content = make_zip()
    use_zip(monkeypatch, content)
    given = tmp_path / "given"
    given.mkdir()
    (given / "SST-2.zip").write_bytes(content)
    sentences, _ = load_sst2("test", data_dir=given, download=False)
    assert len(sentences) == 1821
    assert sorted(os.listdir(cache(tmp_path))) == sorted(NAMES)


@needs_data
def test_zip_with_a_wrong_member_extracts_nothing_of_it(
    tmp_path, monkeypatch, offline
):
    empty_search_path(tmp_path, monkeypatch)
    content = make_zip(damage="dev.tsv")
    use_zip(monkeypatch, content)  # the zip itself verifies
    offline.served[ZIP_URL] = content
    with pytest.raises(ValueError, match="checksum mismatch for SST-2/dev"):
        load_sst2("dev")
    # train.tsv was extracted (and verified) before; no temp files remain.
    assert sorted(os.listdir(cache(tmp_path))) == ["SST-2.zip", "train.tsv"]


@pytest.mark.parametrize(
    "content, match",
    [
        (b"not a zip archive", "not a valid zip"),
        ("members", "has no member SST-2/test.tsv"),
    ],
)
def test_bad_zip_is_a_clear_error(tmp_path, monkeypatch, content, match):
    empty_search_path(tmp_path, monkeypatch)
    if content == "members":
        if not HAVE_DATA:
            pytest.skip("no SST-2 files")
        content = make_zip(members=("train.tsv", "dev.tsv"))
    use_zip(monkeypatch, content)
    (tmp_path / "given").mkdir()
    (tmp_path / "given" / "SST-2.zip").write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_sst2("test", data_dir=tmp_path / "given", download=False)
    assert not (cache(tmp_path) / "test.tsv").exists()


def test_read_tsv_of_synthetic_files(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text('sentence\tlabel\na "quoted film \t0\nfine .\t1\n')
    sentences, labels = read_sst2_tsv(path)
    assert sentences == ['a "quoted film ', "fine ."]
    assert labels.tolist() == [0, 1] and labels.dtype == np.int32
    path.write_text("index\tsentence\n0\tgood .\n1\tbad\n")
    assert read_sst2_tsv(path, labelled=False) == (["good .", "bad"], None)


@pytest.mark.parametrize(
    "text, labelled, match",
    [
        ("index\tsentence\n0\tgood\n", True, "header"),
        ("sentence\tlabel\ngood\n", True, "line 2 has 1 fields"),
        ("sentence\tlabel\ngood\t1\nbad\t2\n", True, "line 3 has label '2'"),
        ("sentence\tlabel\ngood\t1\n", False, "header"),
        ("", True, "header is None"),
    ],
)
def test_read_tsv_rejects_malformed_files(tmp_path, text, labelled, match):
    path = tmp_path / "bad.tsv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        read_sst2_tsv(path, labelled=labelled)
    assert "Malformed SST-2 file" in str(info.value)
    assert str(path) in str(info.value)
