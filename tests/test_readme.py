"""The README's numbers come from the repository's own files."""

import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
# The fine-tuning example trains two epochs: run apart, in the large lane.
FINETUNE = re.compile(
    r"<!-- finetune:begin -->\n```python\n(.*?)```\n<!-- finetune:end -->",
    flags=re.S,
)


def _run_script(tmp_path, code):
    script = tmp_path / "readme_examples.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
    )


def test_preset_table_matches_metrics_files():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "preset_table.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_names_the_commands_ci_runs():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in readme and "scripts/test.sh" in ci
    assert "bash scripts/demo.sh" in readme


def test_readme_python_examples_run(tmp_path):
    """The README's ```python blocks run, in order, as one script (later
    blocks use names earlier ones define, as in a notebook)."""
    readme = FINETUNE.sub("", (REPO / "README.md").read_text())
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(blocks) >= 3
    result = _run_script(tmp_path, "\n".join(blocks))
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.large
def test_readme_finetune_example_reaches_its_accuracy(tmp_path):
    (block,) = FINETUNE.findall((REPO / "README.md").read_text())
    check = (
        "\nassert classifier.dtype_policy.name == 'mixed_bfloat16'"
        "\nprint('accuracy', accuracy)\n"
    )
    result = _run_script(tmp_path, block + check)
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(result.stdout.split("accuracy ")[-1])
    # The README quotes 83.4-83.6% measured on the three backends.
    assert 0.82 < accuracy < 0.85, accuracy
