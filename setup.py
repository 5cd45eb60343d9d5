"""Package layout that pyproject.toml cannot express on its own.

The preset directories live at the top level (`presets/<name>/`) but ship
inside the wheel as package data of `hadamard_zoo._presets`, where
`hadamard_zoo.presets.presets_root()` finds them. Each preset directory
(and its `assets/` folders) is declared a package of its own, the form
setuptools expects for data files in importable-looking folders (without
it, every build warns once per folder).
"""

from setuptools import find_namespace_packages
from setuptools import find_packages
from setuptools import setup

PRESETS = "hadamard_zoo._presets"
PRESET_FILES = ["*.json", "*.h5", "*.txt", "*.png"]
ASSET_FILES = ["*"]  # a tokenizer's or vocabulary's files, any name

preset_packages = [PRESETS] + [
    f"{PRESETS}.{name}" for name in find_namespace_packages(where="presets")
]

setup(
    packages=find_packages(include=["hadamard_zoo", "hadamard_zoo.*"])
    + preset_packages,
    package_dir={PRESETS: "presets"},
    package_data={
        **{
            package: ASSET_FILES if ".assets." in package else PRESET_FILES
            for package in preset_packages
        },
        "hadamard_zoo.samples": ["*.npz"],
    },
)
