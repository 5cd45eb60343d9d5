"""Writes a Colab-ready notebook beside each guide: guides/NAME.ipynb.

The guides are jupytext `py:percent` files (what CI runs). Each notebook is
that file's cells, without outputs, after one set-up cell that picks the
backend and installs `hadamard_zoo` when it is not importable yet, and
with Colab's metadata asking for a GPU runtime. Re-run after editing a
guide; `--check` exits 1 when a notebook is missing or stale.

Usage: .venv/bin/python scripts/build_notebooks.py [--check]
"""

import argparse
import pathlib
import sys

import jupytext
import nbformat

REPO = pathlib.Path(__file__).resolve().parents[1]
GUIDES = REPO / "guides"

SETUP_MARKDOWN = """\
**Set-up.** In Colab, pick a GPU (or TPU) runtime first (*Runtime → Change
runtime type*). The next cell chooses the Keras backend (`KERAS_BACKEND`:
`"jax"`, `"tensorflow"` or `"torch"`, before anything imports Keras) and
installs `hadamard_zoo` if it is not installed yet: from a
`hadamard_zoo-*.whl` uploaded next to the notebook (build one with
`pip wheel --no-deps -w dist .` in the repository), or from
`HADAMARD_ZOO_SOURCE` (a git URL or path pip accepts). Colab's own
Keras, TensorFlow, JAX and PyTorch are used as they are."""

SETUP_CODE = """\
import glob
import importlib.util
import os
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
if importlib.util.find_spec("hadamard_zoo") is None:
    wheels = sorted(glob.glob("hadamard_zoo-*.whl"))
    source = os.environ.get("HADAMARD_ZOO_SOURCE") or (wheels or [None])[-1]
    if source is None:
        raise RuntimeError(
            "Upload a hadamard_zoo-*.whl next to this notebook or set "
            "HADAMARD_ZOO_SOURCE to the repository's git URL."
        )
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.check_call([*pip, source])
print("backend:", os.environ["KERAS_BACKEND"])"""


def notebook_for(guide):
    """The notebook of one guide, as an `nbformat` node."""
    notebook = jupytext.read(guide)
    notebook.cells[:0] = [
        nbformat.v4.new_markdown_cell(SETUP_MARKDOWN),
        nbformat.v4.new_code_cell(SETUP_CODE),
    ]
    for cell in notebook.cells:
        cell.pop("id", None)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["accelerator"] = "GPU"
    notebook.metadata["colab"] = {"provenance": [], "gpuType": "T4"}
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "name": "python3",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.nbformat, notebook.nbformat_minor = 4, 4
    return notebook


def render(notebook):
    # Cell ids are random per write; without them (nbformat 4.4) the file
    # is a function of the guide, so a stale notebook shows as a diff.
    return nbformat.writes(notebook, version=4) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for guide in sorted(GUIDES.glob("*.py")):
        path = guide.with_suffix(".ipynb")
        text = render(notebook_for(guide))
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            tmp = path.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)  # a reader never sees a partial notebook
            print(f"wrote {path.relative_to(REPO)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(REPO)) for p in stale)
        print(f"stale or missing: {names}; run {__file__}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
