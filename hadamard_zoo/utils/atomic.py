"""Write files and directories so that readers never see half of them."""

import contextlib
import json
import os
import pathlib
import shutil
import tempfile


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _normal_mode(path, directory):
    # mkdtemp/mkstemp create private (0700/0600) entries; the result is a
    # normal file or directory, readable as the user's umask allows.
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_directory(target):
    """Yields a temporary directory that replaces `target` on success.

    The temporary directory is a sibling of `target` (same file system, so
    the final `os.replace` is atomic). If the block raises, it is removed and
    `target` is left as it was.
    """
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(
        tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)
    )
    try:
        yield tmp
        _normal_mode(tmp, directory=True)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_path(target):
    """Yields a temporary file path that replaces `target` on success."""
    target = pathlib.Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent
    )
    os.close(handle)
    try:
        yield pathlib.Path(name)
        if os.path.exists(name):
            _normal_mode(name, directory=False)
        os.replace(name, target)
    finally:
        if os.path.exists(name):
            os.remove(name)


def write_json(path, data):
    """Writes `data` as indented JSON to `path`, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
