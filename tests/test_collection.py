"""Every process collects the same tests under the same names.

pytest-xdist has each worker collect the suite and refuses to run when
their lists differ. A test id that depends on the clock or on hash order
breaks that: on a GPU machine, a parametrised id holding gzip bytes (whose
header stores the current time) kept the whole torch suite from running.
"""

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]


def collect(hash_seed):
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            "not large",
            "tests",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    return [line for line in result.stdout.splitlines() if "::" in line]


# Two collections of the whole suite (~20 s each): with the other slow ones.
@pytest.mark.large
def test_two_collections_name_the_same_tests():
    # Collecting takes seconds, so the clocks of the two differ too.
    first, second = collect(1), collect(2)
    assert len(first) > 3000
    assert first == second, sorted(set(first) ^ set(second))[:10]


def collect_marked(marker):
    """The ids of the whole suite's tests selected by `-m marker`."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            marker,
            "tests",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    return sorted(line for line in result.stdout.splitlines() if "::" in line)


# scripts/test.sh runs the `guides` and `docstrings` tests under torch
# alone and leaves them out elsewhere: a guide without the marker would run
# three times, a marker on the wrong test would drop it from two backends.
# Collection is the same on every backend, so this runs once (large).
@pytest.mark.large
def test_the_torch_only_markers_select_the_guides_and_docstrings():
    selected = collect_marked("guides or docstrings")
    docstrings = "tests/test_docstring_examples.py::test_docstring_examples["
    examples = [test for test in selected if test.startswith(docstrings)]
    assert len(examples) > 100
    guides = sorted(set(selected) - set(examples))
    expected = [
        f"tests/guides/test_guides.py::test_guide_runs[{path.stem}]"
        for path in sorted((REPO / "guides").glob("*.py"))
    ]
    expected.append(
        "tests/guides/test_notebooks.py::"
        "test_the_quickstart_notebook_runs_as_written"
    )
    assert guides == sorted(expected)
