"""Every `Example:` in the package's docstrings runs on the current backend.

Marked `docstrings`: scripts/test.sh runs them under torch alone, as it
does the guides. They check that the documentation runs as written; the
layers and models they show are tested on every backend, and under JAX
each small eager op compiles for its shapes: in one full run (beside a
training job) these examples took 257 s under JAX, 41 s under TensorFlow
and 6 s under torch.
"""

import doctest
import importlib
import pkgutil

import pytest

import hadamard_zoo

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(hadamard_zoo.__path__, "hadamard_zoo.")
    if info.name not in ("hadamard_zoo.cli",)
)


@pytest.mark.docstrings
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    if name.endswith("_tensorflow"):  # e.g. a GPU image without TensorFlow
        pytest.importorskip("tensorflow")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, f"{result.failed} example(s) failed in {name}"
