"""The Colab notebooks are current and run (scripts/build_notebooks.py)."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

REPO = pathlib.Path(__file__).parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import build_notebooks  # noqa: E402


def _code_cells(notebook_path):
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    return [
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]


def test_every_guide_has_a_current_notebook(capsys):
    assert build_notebooks.main(["--check"]) == 0, capsys.readouterr().err
    for guide in sorted((REPO / "guides").glob("*.py")):
        notebook = json.loads(guide.with_suffix(".ipynb").read_text())
        assert notebook["metadata"]["accelerator"] == "GPU"
        cells = _code_cells(guide.with_suffix(".ipynb"))
        assert cells[0] == build_notebooks.SETUP_CODE
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] for c in code)  # shipped unexecuted


@pytest.mark.guides
def test_the_quickstart_notebook_runs_as_written(tmp_path):
    notebook = REPO / "guides" / "pinet_quickstart.ipynb"
    script = tmp_path / "notebook.py"
    script.write_text("\n\n".join(_code_cells(notebook)), encoding="utf-8")
    env = {
        **os.environ,
        "KERAS_BACKEND": keras.backend.backend(),
        "HADAMARD_ZOO_GUIDE_QUICK": "1",
    }
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    # The set-up cell found the installed package and installed nothing.
    lines = result.stdout.splitlines()
    assert lines[0] == f"backend: {keras.backend.backend()}"
    assert lines[-1] == "guide finished: OK"


def test_the_setup_cell_asks_for_a_source_when_there_is_none(tmp_path):
    # `-S`: no site-packages, so hadamard_zoo is not importable; no wheel
    # in the working directory and no HADAMARD_ZOO_SOURCE: a clear error,
    # and pip is never called.
    # PYTHONPATH too: a checkout on it (as benchmarks/gpu_check.sh sets
    # it) would make the package importable.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HADAMARD_ZOO_SOURCE", "PYTHONPATH")
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", build_notebooks.SETUP_CODE],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Upload a hadamard_zoo-*.whl" in result.stderr
