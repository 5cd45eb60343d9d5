import os
import stat

import pytest

from hadamard_zoo.utils.atomic import atomic_directory
from hadamard_zoo.utils.atomic import write_json


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_results_get_the_umask_modes_not_private_temp_modes(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_directory(tmp_path / "preset") as tmp:
            (tmp / "a.txt").write_text("a")
        write_json(tmp_path / "preset" / "metrics.json", {"a": 1})
    finally:
        os.umask(old)
    assert _mode(tmp_path / "preset") == 0o755
    assert _mode(tmp_path / "preset" / "metrics.json") == 0o644


def test_a_failed_write_leaves_the_old_directory(tmp_path):
    target = tmp_path / "preset"
    with atomic_directory(target) as tmp:
        (tmp / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_directory(target) as tmp:
            (tmp / "new.txt").write_text("half")
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in target.iterdir()) == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["preset"]
