"""Generic file resolution, download and checksum machinery (no network)."""

import hashlib
import io
import os
import urllib.error

import pytest

from hadamard_zoo.datasets import DatasetNotFoundError
from hadamard_zoo.datasets import RemoteFile
from hadamard_zoo.datasets import fetch
from hadamard_zoo.datasets import files

CONTENT = b"synthetic dataset file\n" * 100
URL = "https://example.invalid/data/part.bin"
REAL_OPEN_URL = files._open_url  # before the fixture replaces it


def remote(content=CONTENT, name="part.bin", urls=URL):
    return RemoteFile(name, hashlib.sha256(content).hexdigest(), urls)


class FakeResponse(io.BytesIO):
    def __init__(self, content, length=True):
        super().__init__(content)
        self.headers = {"Content-Length": str(len(content))} if length else {}


class Opener:
    """Replaces `files._open_url`: serves bytes per URL, records calls."""

    def __init__(self, served):
        self.served = served
        self.calls = []

    def __call__(self, url, timeout):
        self.calls.append(url)
        result = self.served.get(url)
        if result is None:
            raise urllib.error.URLError("unreachable (test)")
        if isinstance(result, BaseException):
            raise result
        return result()


@pytest.fixture(autouse=True)
def offline(tmp_path, monkeypatch):
    """No network, no real Keras cache, no $HADAMARD_ZOO_DATA."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(files.ENV_VAR, raising=False)
    opener = Opener({})
    monkeypatch.setattr(files, "_open_url", opener)
    return opener


def put(directory, content=CONTENT, name="part.bin"):
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(content)
    return path


def cache(tmp_path, dataset="toy"):
    return tmp_path / "keras_home" / "datasets" / "hadamard_zoo" / dataset


def test_remote_file_normalises_and_validates():
    f = RemoteFile("a.gz", "AB" * 32, ["u1", "u2"])
    assert f.sha256 == "ab" * 32 and f.urls == ("u1", "u2")
    with pytest.raises(ValueError, match="name"):
        RemoteFile("dir/a.gz", "ab" * 32, "u")
    with pytest.raises(ValueError, match="sha256"):
        RemoteFile("a.gz", "abc", "u")
    with pytest.raises(ValueError, match="urls"):
        RemoteFile("a.gz", "ab" * 32, ())


def test_fetch_validates_arguments():
    with pytest.raises(ValueError, match="dataset"):
        fetch("../toy", [remote()])
    with pytest.raises(ValueError, match="files"):
        fetch("toy", [])
    with pytest.raises(ValueError, match="download"):
        fetch("toy", [remote()], download="no")


def test_keras_cache_respects_keras_home(tmp_path, monkeypatch):
    assert files.keras_cache_dir("toy") == str(cache(tmp_path))
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    expected = tmp_path / "home" / ".keras" / "datasets" / "hadamard_zoo"
    assert files.keras_cache_dir("toy") == str(expected / "toy")


def test_resolution_order(tmp_path, monkeypatch):
    env_root, given = tmp_path / "env", tmp_path / "given"
    monkeypatch.setenv(files.ENV_VAR, str(env_root))
    in_cache = put(cache(tmp_path))
    assert fetch("toy", [remote()]) == [str(in_cache)]
    in_env = put(env_root / "toy")
    assert fetch("toy", [remote()]) == [str(in_env)]
    # data_dir as a root holding <dataset>/, then as the directory itself.
    in_root = put(given / "toy")
    assert fetch("toy", [remote()], data_dir=given) == [str(in_root)]
    in_given = put(given)
    assert fetch("toy", [remote()], data_dir=given) == [str(in_given)]
    assert fetch("toy", remote(), data_dir=str(given)) == [str(in_given)]


def test_data_dir_wins_over_a_corrupt_env_copy(tmp_path, monkeypatch):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "env"))
    put(tmp_path / "env" / "toy", CONTENT[:-1] + b"?")
    good = put(tmp_path / "given")
    assert fetch("toy", [remote()], data_dir=tmp_path / "given") == [str(good)]
    with pytest.raises(ValueError, match="checksum"):
        fetch("toy", [remote()])


def test_one_changed_byte_fails_the_checksum(tmp_path):
    data = bytearray(CONTENT)
    data[10] ^= 1
    path = put(tmp_path / "given", bytes(data))
    expected = remote().sha256
    actual = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ValueError, match="checksum") as info:
        fetch("toy", [remote()], data_dir=tmp_path / "given")
    message = str(info.value)
    assert str(path) in message
    assert expected in message and actual in message
    assert "Delete it" in message and URL in message


def test_verification_is_cached_per_path_size_and_mtime(tmp_path, monkeypatch):
    path = put(tmp_path / "given")
    real = files._sha256_file
    hashed = []

    def counting(p):
        hashed.append(p)
        return real(p)

    monkeypatch.setattr(files, "_sha256_file", counting)
    for _ in range(3):
        fetch("toy", [remote()], data_dir=tmp_path / "given")
    assert len(hashed) == 1
    path.write_bytes(CONTENT + b"extra")  # new size and mtime: hashed again
    with pytest.raises(ValueError, match="checksum"):
        fetch("toy", [remote()], data_dir=tmp_path / "given")
    assert len(hashed) == 2


def test_missing_without_download_lists_what_was_searched(
    tmp_path, monkeypatch, offline
):
    monkeypatch.setenv(files.ENV_VAR, str(tmp_path / "env"))
    with pytest.raises(DatasetNotFoundError) as info:
        fetch(
            "toy",
            [remote(), remote(b"other", "second.bin")],
            data_dir=tmp_path / "given",
            download=False,
        )
    error = info.value
    assert isinstance(error, FileNotFoundError)
    message = str(error)
    for directory in (
        tmp_path / "given",
        tmp_path / "given" / "toy",
        tmp_path / "env" / "toy",
        cache(tmp_path),
    ):
        assert str(directory) in message
    assert files.ENV_VAR in message and URL in message
    assert "part.bin" in message and "second.bin" in message
    assert "download=False" in message
    assert error.missing == ("part.bin", "second.bin")
    assert len(error.searched) == 4
    assert offline.calls == []


def test_message_says_when_env_var_is_unset(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="HADAMARD_ZOO_DATA is not"):
        fetch("toy", [remote()], download=False)


def test_download_success_is_verified_and_cached(tmp_path, offline, capsys):
    offline.served[URL] = lambda: FakeResponse(CONTENT)
    [path] = fetch("toy", [remote()])
    assert path == str(cache(tmp_path) / "part.bin")
    assert open(path, "rb").read() == CONTENT
    assert os.listdir(cache(tmp_path)) == ["part.bin"]  # no temp file left
    assert "Downloading part.bin" in capsys.readouterr().err
    assert fetch("toy", [remote()]) == [path]
    assert offline.calls == [URL]  # found in the cache the second time


def test_download_from_a_file_url(tmp_path, monkeypatch):
    """The real opener (urllib) with a local file:// URL: no network."""
    monkeypatch.setattr(files, "_open_url", REAL_OPEN_URL)
    source = put(tmp_path / "served")
    [path] = fetch("toy", [remote(urls=source.as_uri())])
    assert open(path, "rb").read() == CONTENT
    assert os.listdir(cache(tmp_path)) == ["part.bin"]


def test_download_wrong_bytes_leaves_nothing(tmp_path, offline):
    offline.served[URL] = lambda: FakeResponse(CONTENT[:-1] + b"!")
    with pytest.raises(ValueError, match="checksum") as info:
        fetch("toy", [remote()])
    assert not isinstance(info.value, DatasetNotFoundError)
    assert remote().sha256 in str(info.value) and URL in str(info.value)
    assert os.listdir(cache(tmp_path)) == []  # neither the file nor a temp


def test_download_falls_back_to_the_next_mirror(tmp_path, offline):
    mirror = "https://mirror.invalid/part.bin"
    offline.served[mirror] = lambda: FakeResponse(CONTENT, length=False)
    [path] = fetch("toy", [remote(urls=(URL, mirror))])
    assert offline.calls == [URL, mirror]
    assert open(path, "rb").read() == CONTENT


def test_network_error_raises_not_found_with_the_reason(tmp_path, offline):
    with pytest.raises(DatasetNotFoundError) as info:
        fetch("toy", [remote()])
    message = str(info.value)
    assert "unreachable (test)" in message and URL in message
    assert str(cache(tmp_path)) in message
    assert os.listdir(cache(tmp_path)) == []


def test_interrupted_download_leaves_no_temp_file(tmp_path, offline):
    class Broken(FakeResponse):
        def read(self, n=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset (test)")
            return super().read(100)

    offline.served[URL] = lambda: Broken(CONTENT)
    with pytest.raises(DatasetNotFoundError, match="connection reset"):
        fetch("toy", [remote()])
    assert os.listdir(cache(tmp_path)) == []
