"""MNIST and Fashion-MNIST loaders, on the real files of shared/data."""

import gzip
import os
import pathlib
import shutil

import numpy as np
import pytest

from hadamard_zoo.datasets import FASHION_MNIST_CLASS_NAMES
from hadamard_zoo.datasets import MNIST_CLASS_NAMES
from hadamard_zoo.datasets import DatasetNotFoundError
from hadamard_zoo.datasets import files
from hadamard_zoo.datasets import load_fashion_mnist
from hadamard_zoo.datasets import load_mnist
from hadamard_zoo.datasets.mnist import read_idx

REPO = pathlib.Path(__file__).resolve().parents[2]
DATA = pathlib.Path(
    os.environ.get(files.ENV_VAR) or REPO.parent / "shared" / "data"
)
HAVE_DATA = (DATA / "mnist").is_dir() and (DATA / "fashion_mnist").is_dir()
needs_data = pytest.mark.skipif(
    not HAVE_DATA, reason=f"no MNIST files under {DATA} (set {files.ENV_VAR})"
)

# From shared/data/mnist/SOURCE.md.
MNIST_TRAIN_COUNTS = [
    5923,
    6742,
    5958,
    6131,
    5842,
    5421,
    5918,
    6265,
    5851,
    5949,
]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """$HADAMARD_ZOO_DATA set, an empty Keras cache, and no network."""
    monkeypatch.setenv(files.ENV_VAR, str(DATA))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))

    def no_network(url, timeout):
        raise AssertionError(f"tests must not download ({url})")

    monkeypatch.setattr(files, "_open_url", no_network)


def copy_test_files(source, target, damage=None):
    target.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        data = bytearray((source / name).read_bytes())
        if name == damage:
            data[len(data) // 2] ^= 0xFF
        (target / name).write_bytes(bytes(data))
    return target


@needs_data
@pytest.mark.parametrize(
    "split, counts",
    [("train", MNIST_TRAIN_COUNTS), ("test", MNIST_TEST_COUNTS)],
)
def test_mnist_from_env_var(split, counts):
    images, labels = load_mnist(split, download=False)
    n = sum(counts)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert images.max() == 255 and images.min() == 0
    # Famous first labels: 5 for train, 7 for test.
    assert labels[0] == {"train": 5, "test": 7}[split]


@needs_data
@pytest.mark.parametrize("split, n", [("train", 60000), ("test", 10000)])
def test_fashion_mnist_from_env_var(split, n):
    images, labels = load_fashion_mnist(split, download=False)
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == [n // 10] * 10
    assert FASHION_MNIST_CLASS_NAMES[labels[0]] == "Ankle boot"


def test_class_names():
    assert MNIST_CLASS_NAMES == tuple("0123456789")
    assert len(FASHION_MNIST_CLASS_NAMES) == 10
    assert FASHION_MNIST_CLASS_NAMES[0] == "T-shirt/top"
    assert FASHION_MNIST_CLASS_NAMES[9] == "Ankle boot"


@pytest.mark.parametrize("loader", [load_mnist, load_fashion_mnist])
def test_bad_split(loader):
    with pytest.raises(ValueError, match="split.*'train', 'test'"):
        loader("validation")


@needs_data
def test_data_dir_takes_precedence(tmp_path, monkeypatch):
    # $HADAMARD_ZOO_DATA holds a damaged copy; data_dir a good one.
    bad = copy_test_files(
        DATA / "mnist", tmp_path / "env" / "mnist", damage=TEST_FILES[0]
    )
    good = copy_test_files(DATA / "mnist", tmp_path / "given")
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "env"))
    images, labels = load_mnist("test", data_dir=good, download=False)
    expected_images, expected_labels = load_mnist(
        "test", data_dir=DATA / "mnist", download=False
    )
    np.testing.assert_array_equal(images, expected_images)
    np.testing.assert_array_equal(labels, expected_labels)
    with pytest.raises(ValueError, match="checksum") as info:
        load_mnist("test", download=False)
    assert str(bad / TEST_FILES[0]) in str(info.value)


@needs_data
def test_one_changed_byte_fails_the_checksum(tmp_path):
    damaged = copy_test_files(
        DATA / "fashion_mnist", tmp_path / "fm", damage=TEST_FILES[1]
    )
    with pytest.raises(ValueError, match="sha256 checksum mismatch") as info:
        load_fashion_mnist("test", data_dir=damaged, download=False)
    message = str(info.value)
    assert str(damaged / TEST_FILES[1]) in message
    assert (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
        in (message)
    )


def test_missing_files_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as info:
        load_mnist("test", data_dir=tmp_path / "nowhere", download=False)
    message = str(info.value)
    for directory in (
        tmp_path / "nowhere",
        tmp_path / "empty" / "mnist",
        tmp_path / "keras_home" / "datasets" / "hadamard_zoo" / "mnist",
    ):
        assert str(directory) in message
    assert "HADAMARD_ZOO_DATA" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/" in message
    assert set(info.value.missing) == set(TEST_FILES)


def idx(magic, dims, payload):
    header = magic.to_bytes(4, "big")
    header += b"".join(d.to_bytes(4, "big") for d in dims)
    return header + payload


def test_read_idx_of_synthetic_files(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx(2051, (2, 3, 4), images.tobytes())))
    result = read_idx(path, magic=2051)
    np.testing.assert_array_equal(result, images)
    assert result.flags.writeable
    # Uncompressed, and a big-endian int32 type (code 0x0C).
    plain = tmp_path / "y-idx1-int"
    plain.write_bytes(idx(0x0C01, (3,), np.array([1, -2, 3], ">i4").tobytes()))
    assert read_idx(plain).tolist() == [1, -2, 3]


def _gzip(data):
    # mtime=0: the same bytes on every call, whatever the clock says.
    return gzip.compress(data, mtime=0)


@pytest.mark.parametrize(
    "content, match",
    [
        (_gzip(b"\x00\x00"), "shorter than the 4-byte magic"),
        (_gzip(idx(2049, (3,), b"\x01\x02\x03")), "magic number 2049"),
        (_gzip(idx(0x0000FF03, (1,), b"")), "is not IDX"),
        (_gzip(idx(2051, (2, 2, 2), b"\x00" * 7)), "only 7 bytes"),
        (_gzip(idx(2051, (2, 2, 2), b"\x00" * 9)), "more data"),
        (_gzip(idx(2051, (1, 1, 1), b"\x00"))[:-12], "gzip"),
        (b"\x1f\x8bnot gzip at all", "gzip"),
        (_gzip((2051).to_bytes(4, "big") + b"\x00\x00"), "header"),
    ],
    # Named ids: pytest-xdist workers must collect the same test names.
    ids=[
        "short-magic",
        "wrong-magic",
        "not-idx",
        "too-short",
        "too-long",
        "truncated-gzip",
        "not-gzip",
        "short-header",
    ],
)
def test_read_idx_rejects_malformed_files(tmp_path, content, match):
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path, magic=2051 if "magic" in match else None)
    assert "Malformed IDX file" in str(info.value)
    assert str(path) in str(info.value)


@needs_data
def test_truncated_real_file_is_a_clear_error(tmp_path):
    source = DATA / "mnist" / TEST_FILES[0]
    path = tmp_path / TEST_FILES[0]
    shutil.copyfile(source, path)
    with open(path, "r+b") as f:
        f.truncate(source.stat().st_size // 2)
    with pytest.raises(ValueError, match="Malformed IDX file.*gzip"):
        read_idx(path, magic=2051)
