"""MNIST and Fashion-MNIST: the original IDX gzip files, offline first.

Both datasets are four gzip-compressed IDX files (train/test images and
labels). `fetch` finds them in `data_dir`, `$HADAMARD_ZOO_DATA/<dataset>/`
or the Keras cache, or downloads them, and checks their sha256 digests;
`read_idx` parses them.
"""

import gzip
import math
import os
import struct
import zlib

import numpy as np

from hadamard_zoo.datasets.files import RemoteFile
from hadamard_zoo.datasets.files import fetch
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice

MNIST_CLASS_NAMES = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASS_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

# Mirrors tried in order. ossci-datasets is the mirror torchvision uses;
# yann.lecun.com is the original source (often unavailable).
_MNIST_URLS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
# Zalando's download site, then the same files in the GitHub repository.
_FASHION_MNIST_URLS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/"
    "master/data/fashion/",
)

# File names per split, (images, labels).
_SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# sha256 digests, as listed in shared/data/{mnist,fashion_mnist}/SOURCE.md.
_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}
_FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"
    ),
    "train-labels-idx1-ubyte.gz": (
        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"
    ),
}


def _remote_files(digests, mirrors):
    """Returns {split: (images RemoteFile, labels RemoteFile)}."""
    return {
        split: tuple(
            RemoteFile(name, digests[name], tuple(m + name for m in mirrors))
            for name in names
        )
        for split, names in _SPLIT_FILES.items()
    }


MNIST_FILES = _remote_files(_MNIST_SHA256, _MNIST_URLS)
FASHION_MNIST_FILES = _remote_files(_FASHION_MNIST_SHA256, _FASHION_MNIST_URLS)
SPLITS = ("train", "test")

# IDX type codes (third byte of the magic number) -> big-endian dtype.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path, magic=None):
    """Reads an IDX file (gzip-compressed or not) into a NumPy array.

    The IDX format (LeCun's MNIST distribution format) is a 4-byte magic
    number `0x0000TTNN` (type code `TT`, number of dimensions `NN`), `NN`
    big-endian uint32 dimension sizes, then the data in C order. The file
    is decompressed when it starts with the gzip signature.

    Args:
        path: path (str or `os.PathLike`) of the file.
        magic: optional int, the magic number the file must have (2051 for
            MNIST images, 2049 for labels). Defaults to `None` (any valid
            IDX magic).

    Returns:
        A writable array of the shape in the header, in the header's type
        (uint8 for MNIST), native byte order.

    Raises:
        ValueError: if the file is not valid gzip, its magic number is not
            `magic` or not an IDX one, or its data is shorter or longer than
            its header says.

    Example:

    >>> import gzip, pathlib, tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name, "labels-idx1-ubyte.gz")
    >>> header = (2049).to_bytes(4, "big") + (3).to_bytes(4, "big")
    >>> _ = path.write_bytes(gzip.compress(header + bytes([7, 2, 1])))
    >>> read_idx(path, magic=2049)
    array([7, 2, 1], dtype=uint8)
    >>> tmp.cleanup()
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == b"\x1f\x8b"
        opener = gzip.open if compressed else open
        with opener(path, "rb") as f:
            return _parse_idx(f, path, magic)
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(
            f"Malformed IDX file {path}: it is not a valid gzip stream "
            f"({type(e).__name__}: {e}). The file is probably truncated or "
            "corrupt; delete it and fetch it again."
        ) from e


def _read_exactly(f, n):
    data = f.read(n)
    return data if len(data) == n else None


def _parse_idx(f, path, magic):
    def malformed(what):
        return ValueError(
            f"Malformed IDX file {path}: {what}. The file is probably "
            "truncated, corrupt or not the file expected; delete it and "
            "fetch it again."
        )

    header = _read_exactly(f, 4)
    if header is None:
        raise malformed("it is shorter than the 4-byte magic number")
    found = int.from_bytes(header, "big")
    zero, code, ndim = header[:2], header[2], header[3]
    if magic is not None and found != magic:
        raise malformed(f"magic number {found}, expected {magic}")
    if zero != b"\x00\x00" or code not in _IDX_DTYPES or ndim == 0:
        raise malformed(f"magic number {found} ({found:#010x}) is not IDX")
    dims = _read_exactly(f, 4 * ndim)
    if dims is None:
        raise malformed(f"its header is shorter than {ndim} dimension sizes")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = _IDX_DTYPES[code]
    array = np.empty(shape, dtype=dtype)
    buffer = memoryview(array).cast("B")
    expected = math.prod(shape) * dtype.itemsize
    filled = 0
    while filled < expected:
        n = f.readinto(buffer[filled:])
        if not n:
            break
        filled += n
    if filled != expected:
        raise malformed(
            f"its header announces shape {shape} ({expected} bytes of data) "
            f"but it holds only {filled} bytes"
        )
    if f.read(1):
        raise malformed(
            f"it holds more data than its header's shape {shape} announces"
        )
    if dtype.byteorder == ">":
        array = array.astype(dtype.newbyteorder("="))
    return array


def _load_idx_pair(dataset, files, split, data_dir, download, num_classes):
    check_choice("split", split, SPLITS)
    check_bool("download", download)
    images_path, labels_path = fetch(
        dataset, files[split], data_dir=data_dir, download=download
    )
    images = read_idx(images_path, magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise ValueError(
            f"{images_path}: expected images of 28x28 pixels, found shape "
            f"{images.shape}."
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{images_path} holds {len(images)} images but {labels_path} "
            f"holds {len(labels)} labels."
        )
    if labels.size and int(labels.max()) >= num_classes:
        raise ValueError(
            f"{labels_path}: labels must be in [0, {num_classes}), found "
            f"{int(labels.max())}."
        )
    return images, labels


def load_mnist(split="train", data_dir=None, download=True):
    """Loads MNIST handwritten digits as uint8 NumPy arrays.

    The four original IDX gzip files (`train-images-idx3-ubyte.gz`, ...)
    are looked for in `data_dir`, `$HADAMARD_ZOO_DATA/mnist/` and the Keras
    cache `~/.keras/datasets/hadamard_zoo/mnist/`, and downloaded into the
    cache when missing (see `hadamard_zoo.datasets.fetch`); their sha256
    digests are checked. Train has 60000 examples, test 10000; class names
    are `MNIST_CLASS_NAMES`.

    Args:
        split: `"train"` or `"test"`. Defaults to `"train"`.
        data_dir: optional directory searched first, either holding the
            files or holding `mnist/`. Defaults to `None`.
        download: bool, whether to download missing files. Defaults to
            `True`.

    Returns:
        A tuple `(images, labels)`: uint8 arrays of shapes `(N, 28, 28)`
        (pixels 0..255, white digit on black) and `(N,)` (digits 0..9).

    Raises:
        ValueError: if `split` is not `"train"` or `"test"`, a file's
            checksum does not match or a file is malformed.
        DatasetNotFoundError: if a file is missing and cannot be downloaded.

    Example:

    >>> images, labels = load_mnist("test")  # $HADAMARD_ZOO_DATA/mnist/
    >>> images.shape, images.dtype, labels.shape, labels.dtype
    ((10000, 28, 28), dtype('uint8'), (10000,), dtype('uint8'))
    >>> MNIST_CLASS_NAMES[labels[0]]
    '7'

    Reference:
        LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied
        to document recognition", Proc. IEEE 1998;
        http://yann.lecun.com/exdb/mnist/
    """
    return _load_idx_pair(
        "mnist", MNIST_FILES, split, data_dir, download, num_classes=10
    )


def load_fashion_mnist(split="train", data_dir=None, download=True):
    """Loads Fashion-MNIST (Zalando article images) as uint8 NumPy arrays.

    Same layout and file names as MNIST, looked for in `data_dir`,
    `$HADAMARD_ZOO_DATA/fashion_mnist/` and the Keras cache
    `~/.keras/datasets/hadamard_zoo/fashion_mnist/`, downloaded into the
    cache when missing, with sha256 digests checked. Train has 60000
    examples, test 10000, balanced over 10 classes named in
    `FASHION_MNIST_CLASS_NAMES`.

    Args:
        split: `"train"` or `"test"`. Defaults to `"train"`.
        data_dir: optional directory searched first, either holding the
            files or holding `fashion_mnist/`. Defaults to `None`.
        download: bool, whether to download missing files. Defaults to
            `True`.

    Returns:
        A tuple `(images, labels)`: uint8 arrays of shapes `(N, 28, 28)`
        and `(N,)` (class ids 0..9).

    Raises:
        ValueError: if `split` is not `"train"` or `"test"`, a file's
            checksum does not match or a file is malformed.
        DatasetNotFoundError: if a file is missing and cannot be downloaded.

    Example:

    >>> images, labels = load_fashion_mnist("test")
    >>> images.shape, labels.shape
    ((10000, 28, 28), (10000,))
    >>> FASHION_MNIST_CLASS_NAMES[labels[0]]
    'Ankle boot'

    Reference:
        Xiao, Rasul and Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
        Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
    """
    return _load_idx_pair(
        "fashion_mnist",
        FASHION_MNIST_FILES,
        split,
        data_dir,
        download,
        num_classes=10,
    )
