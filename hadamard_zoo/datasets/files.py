"""Find, download and verify dataset files, offline first.

A dataset is a set of files, each described by a `RemoteFile` (its name,
its sha256 digest and the URLs it can be downloaded from). `fetch` looks
for every file in these directories, in order, and uses the first copy it
finds:

1. the `data_dir` argument, then `data_dir/<dataset>/`;
2. `$HADAMARD_ZOO_DATA/<dataset>/`;
3. the Keras cache, `~/.keras/datasets/hadamard_zoo/<dataset>/` (or under
   `$KERAS_HOME` when it is set, as Keras does).

A file found nowhere is downloaded into the Keras cache (when `download`
is true). Every file, found or downloaded, is checked against its sha256
digest; a download goes to a temporary file in the cache directory and is
renamed into place only once its digest matches, so the cache never holds
a partial or wrong file.

Nothing here is specific to one dataset or file format: the loaders (for
example `hadamard_zoo.datasets.mnist`) describe their files and parse them.
"""

import dataclasses
import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request

from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.paths import keras_home
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.version import __version__

ENV_VAR = "HADAMARD_ZOO_DATA"
CACHE_SUBDIR = os.path.join("datasets", "hadamard_zoo")

_CHUNK = 1 << 20
_TIMEOUT_S = 60
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

# sha256 digests already computed in this process, keyed by
# (real path, size, mtime in ns): a file that has not changed is hashed once.
_DIGESTS = {}


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is in none of the searched directories.

    Raised by `fetch` (and the loaders built on it) when a file is missing
    and could not be downloaded, either because `download=False` or because
    every URL failed. The message lists each directory searched, the
    environment variable to set and the URLs to download from.

    Attributes:
        dataset: str, the dataset name (e.g. `"mnist"`).
        missing: tuple of the missing file names.
        searched: tuple of the directories searched, in order.
        urls: tuple of the URLs of the missing files.

    Example:

    >>> issubclass(DatasetNotFoundError, FileNotFoundError)
    True
    """

    def __init__(self, message, dataset=None, missing=(), searched=(), urls=()):
        super().__init__(message)
        self.dataset = dataset
        self.missing = tuple(missing)
        self.searched = tuple(searched)
        self.urls = tuple(urls)

    def __str__(self):
        return self.args[0]


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name, sha256 digest and download URLs.

    Args:
        name: str, the file name, as stored on disk (no directory part).
        sha256: str, the 64-character hex sha256 digest of the file.
        urls: str or sequence of str, the full URLs of the file, tried in
            order when downloading (mirrors after the canonical source).
            A single string is stored as a one-element tuple.

    Raises:
        ValueError: if `name` has a directory part, `sha256` is not a hex
            digest or no URL is given.

    Example:

    >>> f = RemoteFile("a.txt", "ab" * 32, "https://example.org/a.txt")
    >>> f.urls
    ('https://example.org/a.txt',)
    """

    name: str
    sha256: str
    urls: tuple

    def __post_init__(self):
        name = self.name
        if (
            not isinstance(name, str)
            or not name
            or name in (".", "..")
            or os.path.basename(name) != name
            or "/" in name
        ):
            raise ValueError(
                "`name` must be a plain file name without a directory part. "
                f"Received: name={name!r}."
            )
        sha256 = self.sha256
        if not isinstance(sha256, str) or not _SHA256.match(sha256.lower()):
            raise ValueError(
                "`sha256` must be a 64-character hexadecimal digest. "
                f"Received: sha256={sha256!r}."
            )
        urls = self.urls
        if isinstance(urls, str):
            urls = (urls,)
        urls = tuple(urls) if isinstance(urls, (list, tuple)) else None
        if not urls or not all(isinstance(u, str) and u for u in urls):
            raise ValueError(
                "`urls` must be a URL string or a non-empty sequence of URL "
                f"strings. Received: urls={self.urls!r}."
            )
        object.__setattr__(self, "sha256", sha256.lower())
        object.__setattr__(self, "urls", urls)


def keras_cache_dir(dataset):
    """Returns the Keras cache directory where `dataset` is downloaded.

    This is `$KERAS_HOME/datasets/hadamard_zoo/<dataset>` when `KERAS_HOME`
    is set, else `~/.keras/datasets/hadamard_zoo/<dataset>` (or
    `/tmp/.keras/...` when the home directory is not writable), the same
    base directory as `keras.utils.get_file`. The environment is read on
    each call. The directory is not created.

    Args:
        dataset: str, the dataset name.

    Returns:
        The directory, as a str.

    Raises:
        ValueError: if `dataset` is not a plain directory name.

    Example:

    >>> keras_cache_dir("mnist").endswith(
    ...     os.path.join("datasets", "hadamard_zoo", "mnist"))
    True
    """
    _check_dataset(dataset)
    return os.path.join(keras_home(), CACHE_SUBDIR, dataset)


def search_dirs(dataset, data_dir=None):
    """Returns the directories `fetch` searches for `dataset`, in order.

    Args:
        dataset: str, the dataset name (a directory name, e.g. `"mnist"`).
        data_dir: optional path searched first, both as the dataset
            directory itself and as a root holding `<dataset>/`.
            Defaults to `None`.

    Returns:
        A list of `(directory, origin)` pairs, where `origin` says where the
        directory comes from (`"data_dir"`, `"$HADAMARD_ZOO_DATA"`,
        `"Keras cache"`). Duplicates are dropped.

    Raises:
        ValueError: if `dataset` is not a plain directory name.

    Example:

    >>> [origin for _, origin in search_dirs("mnist", data_dir="/data")][:2]
    ['data_dir', 'data_dir/<dataset>']
    """
    _check_dataset(dataset)
    candidates = []
    if data_dir is not None:
        root = os.path.expanduser(os.fspath(data_dir))
        candidates.append((root, "data_dir"))
        candidates.append((os.path.join(root, dataset), "data_dir/<dataset>"))
    env = os.environ.get(ENV_VAR)
    if env:
        root = os.path.expanduser(env)
        candidates.append((os.path.join(root, dataset), f"${ENV_VAR}"))
    candidates.append((keras_cache_dir(dataset), "Keras cache"))
    seen, unique = set(), []
    for directory, origin in candidates:
        key = os.path.normpath(os.path.abspath(directory))
        if key not in seen:
            seen.add(key)
            unique.append((directory, origin))
    return unique


def fetch(dataset, files, data_dir=None, download=True):
    """Returns verified local paths of dataset files, downloading missing ones.

    Each file is looked for in `search_dirs(dataset, data_dir)`: `data_dir`
    (itself, then `data_dir/<dataset>/`), `$HADAMARD_ZOO_DATA/<dataset>/`,
    then the Keras cache `~/.keras/datasets/hadamard_zoo/<dataset>/`. The
    first copy found is used and checked against its sha256 digest (a
    digest is computed once per process for an unchanged file). Files found
    nowhere are downloaded into the Keras cache when `download` is true,
    trying each URL in turn; a download is written to a temporary file
    next to its destination and renamed into place only after its digest
    matched.

    Args:
        dataset: str, the dataset name, used as the directory name.
        files: sequence of `RemoteFile`, the files to resolve.
        data_dir: optional path (str or `os.PathLike`) searched first.
            Defaults to `None`.
        download: bool, whether to download missing files. Defaults to
            `True`.

    Returns:
        A list of paths (str), one per entry of `files`, in the same order.

    Raises:
        ValueError: if a file's sha256 digest does not match (a local copy,
            or a download, whose bytes are then discarded), or an argument
            is invalid.
        DatasetNotFoundError: if a file is missing and could not be
            downloaded (`download=False`, or every URL failed).

    Example:

    >>> import hashlib, pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> source = pathlib.Path(tmp.name, "hello.txt")
    >>> _ = source.write_bytes(b"hello\\n")
    >>> remote = RemoteFile(
    ...     "hello.txt",
    ...     hashlib.sha256(b"hello\\n").hexdigest(),
    ...     source.as_uri(),
    ... )
    >>> [path] = fetch("hello", [remote], data_dir=tmp.name, download=False)
    >>> open(path).read()
    'hello\\n'
    >>> tmp.cleanup()
    """
    _check_dataset(dataset)
    check_bool("download", download)
    if isinstance(files, RemoteFile):
        files = [files]
    files = list(files)
    if not files or not all(isinstance(f, RemoteFile) for f in files):
        raise ValueError(
            "`files` must be a non-empty sequence of `RemoteFile`. "
            f"Received: files={files!r}."
        )
    dirs = search_dirs(dataset, data_dir)
    paths, missing = [], []
    for remote in files:
        path = _find(remote, dirs)
        if path is not None:
            verify(path, remote)
        else:
            missing.append(remote)
        paths.append(path)
    if missing and not download:
        raise _not_found(
            dataset, missing, dirs, "Download is disabled (download=False)."
        )
    cache = keras_cache_dir(dataset)
    for i, remote in enumerate(files):
        if paths[i] is None:
            paths[i] = _download(dataset, remote, cache, dirs)
    return paths


def verify(path, remote):
    """Checks that the file at `path` has the sha256 digest of `remote`.

    The digest of an unchanged file (same real path, size and modification
    time) is computed once per process, so repeated checks are cheap.

    Args:
        path: path of a local file.
        remote: the `RemoteFile` that describes it.

    Returns:
        `path`, unchanged.

    Raises:
        ValueError: if the digests differ. The message names the file, both
            digests, and what to do.

    Example:

    >>> import hashlib, pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name, "a.txt")
    >>> _ = path.write_bytes(b"a")
    >>> good = RemoteFile("a.txt", hashlib.sha256(b"a").hexdigest(), "x://a")
    >>> verify(path, good) == path
    True
    >>> verify(path, RemoteFile("a.txt", "0" * 64, "x://a"))
    Traceback (most recent call last):
    ...
    ValueError: sha256 checksum mismatch for ...
    >>> tmp.cleanup()
    """
    digest = _cached_sha256(path)
    if digest != remote.sha256:
        raise ValueError(
            f"sha256 checksum mismatch for {os.fspath(path)}: expected "
            f"{remote.sha256}, got {digest}. The file is corrupt, truncated "
            "or a different version of it. Delete it (it is downloaded "
            "again into the Keras cache when nothing else holds it) or "
            f"replace it with a good copy from {remote.urls[0]}."
        )
    return path


def _check_dataset(dataset):
    if (
        not isinstance(dataset, str)
        or not dataset
        or dataset in (".", "..")
        or os.path.basename(dataset) != dataset
        or "/" in dataset
    ):
        raise ValueError(
            "`dataset` must be a plain directory name such as 'mnist'. "
            f"Received: dataset={dataset!r}."
        )


def _find(remote, dirs):
    for directory, _ in dirs:
        path = os.path.join(directory, remote.name)
        if os.path.isfile(path):
            return path
    return None


def _sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _stat_key(path):
    stat = os.stat(path)
    return (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


def _cached_sha256(path):
    key = _stat_key(path)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = _sha256_file(path)
        _DIGESTS[key] = digest
    return digest


def _open_url(url, timeout):
    """Opens `url` for reading (tests replace this to stay offline)."""
    request = urllib.request.Request(
        url, headers={"User-Agent": f"hadamard_zoo/{__version__}"}
    )
    return urllib.request.urlopen(request, timeout=timeout)


class _ChecksumError(ValueError):
    pass


def _download(dataset, remote, directory, dirs):
    """Downloads `remote` into `directory`, trying each URL; returns path."""
    target = os.path.join(directory, remote.name)
    failures, mismatches = [], []
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as e:
        failures.append(f"cannot create {directory}: {e}")
    else:
        for url in remote.urls:
            try:
                _download_from(url, remote, target)
                return target
            except _ChecksumError as e:
                mismatches.append(str(e))
            except (OSError, http.client.HTTPException) as e:
                failures.append(f"{url}: {type(e).__name__}: {e}")
    if mismatches:
        raise ValueError(
            f"Downloaded {remote.name} of dataset {dataset!r}, but its sha256 "
            "checksum did not match, so it was discarded (nothing was "
            "written):\n  "
            + "\n  ".join(mismatches + failures)
            + "\nThe mirror may serve a different version or a truncated "
            "file. Try again later, or place a good copy in one of:\n"
            + _format_dirs(dirs)
        )
    reason = "Download failed:\n  " + "\n  ".join(failures)
    raise _not_found(dataset, [remote], dirs, reason)


def _download_from(url, remote, target):
    """Downloads one URL to `target` via a verified temporary file."""
    with atomic_path(target) as tmp:
        digest = hashlib.sha256()
        done = 0
        with _open_url(url, _TIMEOUT_S) as response, open(tmp, "wb") as out:
            total = _content_length(response)
            progress = _Progress(remote.name, url, total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress.update(done)
            progress.close(done)
        actual = digest.hexdigest()
        if actual != remote.sha256:
            raise _ChecksumError(
                f"{url}: expected sha256 {remote.sha256}, got {actual} "
                f"({done} bytes)"
            )
        os.chmod(tmp, 0o644)
    _DIGESTS[_stat_key(target)] = actual


def _content_length(response):
    headers = getattr(response, "headers", None)
    try:
        return int(headers.get("Content-Length")) if headers else None
    except (TypeError, ValueError):
        return None


class _Progress:
    """A one-line download progress bar on stderr."""

    def __init__(self, name, url, total, stream=None):
        self.stream = stream or sys.stderr
        self.name = name
        self.total = total
        self.start = time.monotonic()
        self.last = 0.0
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self._write(f"Downloading {name} from {url}\n")

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def _line(self, done):
        size = f"{done / 1e6:.1f}"
        if self.total:
            percent = min(100, 100 * done // self.total)
            width = 30
            filled = width * percent // 100
            bar = "=" * filled + "." * (width - filled)
            return f"[{bar}] {size}/{self.total / 1e6:.1f} MB {percent:3d}%"
        return f"{size} MB"

    def update(self, done):
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.last = now
            self._write(f"\r{self._line(done)}")

    def close(self, done):
        seconds = time.monotonic() - self.start
        prefix = "\r" if self.tty else ""
        self._write(f"{prefix}{self._line(done)} in {seconds:.1f} s\n")


def _format_dirs(dirs):
    lines = []
    for directory, origin in dirs:
        lines.append(f"  - {directory}  ({origin})")
    if not any(origin == f"${ENV_VAR}" for _, origin in dirs):
        lines.append(f"  (${ENV_VAR} is not set)")
    return "\n".join(lines)


def _not_found(dataset, missing, dirs, reason):
    names = ", ".join(r.name for r in missing)
    urls = [url for r in missing for url in r.urls]
    where = "\n".join(
        f"  {r.name} (sha256 {r.sha256}):\n"
        + "\n".join(f"    {url}" for url in r.urls)
        for r in missing
    )
    message = (
        f"Dataset {dataset!r}: {names} not found. Searched, in order:\n"
        f"{_format_dirs(dirs)}\n"
        f"{reason}\n"
        f"To fix it, set {ENV_VAR} to a directory holding "
        f"{dataset}/<file>, pass data_dir=<directory holding the files>, "
        "or, when online, call again with download=True (files go to "
        f"{keras_cache_dir(dataset)}). The files can be downloaded from:\n"
        f"{where}"
    )
    return DatasetNotFoundError(
        message,
        dataset=dataset,
        missing=[r.name for r in missing],
        searched=[d for d, _ in dirs],
        urls=urls,
    )
