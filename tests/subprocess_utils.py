"""Run Python snippets under a chosen Keras backend in a fresh process."""

import os
import subprocess
import sys
import textwrap

BACKENDS = ("tensorflow", "jax", "torch")


def run_python(code, backend, python=sys.executable, cwd=None, env=None):
    """Runs `code` with `KERAS_BACKEND=backend`; returns its stdout.

    Raises `AssertionError` with the process's output when it fails.
    """
    environment = {**os.environ, "KERAS_BACKEND": backend, **(env or {})}
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    result = subprocess.run(
        [python, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=600,
    )
    assert result.returncode == 0, (
        f"{backend} subprocess failed ({result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    )
    return result.stdout
