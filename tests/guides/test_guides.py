"""Every guide runs end to end (reduced-steps mode) on the current backend.

Each guide checks its own results with `assert`s and prints
`guide finished: OK` as its last line once they all passed.
"""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

# scripts/test.sh runs these under one backend (torch), not three: they
# check that each guide still runs as written, while the layers and models
# they use are tested under every backend. Plain `pytest` runs them under
# whichever backend is set.
pytestmark = pytest.mark.guides

GUIDES = sorted((pathlib.Path(__file__).parents[2] / "guides").glob("*.py"))


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_guide_runs(guide, tmp_path):
    env = {
        **os.environ,
        "KERAS_BACKEND": keras.backend.backend(),
        "HADAMARD_ZOO_GUIDE_QUICK": "1",
    }
    result = subprocess.run(
        [sys.executable, str(guide)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-4000:]
    assert result.stdout.rstrip().endswith("guide finished: OK"), result.stdout[
        -4000:
    ]
