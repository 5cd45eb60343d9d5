"""Package layout that pyproject.toml cannot express on its own.

The preset directories live at the top level (`presets/<name>/`) but ship
inside the wheel as package data of `hadamard_zoo._presets`, where
`hadamard_zoo.presets.presets_root()` finds them.
"""

from setuptools import find_packages
from setuptools import setup

PRESET_FILES = ["*/*.json", "*/*.h5", "*/*.txt", "*/*.png", "*/assets/*/*"]

setup(
    packages=find_packages(include=["hadamard_zoo", "hadamard_zoo.*"])
    + ["hadamard_zoo._presets"],
    package_dir={"hadamard_zoo._presets": "presets"},
    package_data={
        "hadamard_zoo._presets": PRESET_FILES,
        "hadamard_zoo.samples": ["*.npz"],
    },
)
