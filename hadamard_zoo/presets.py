"""Named presets shipped with the package, and their keras-hub registration.

This is the one module that touches keras-hub's preset registry. A preset is
a directory written by keras-hub's `save_to_preset` (`config.json`,
`metadata.json`, `model.weights.h5`, `task.json`, preprocessor files) plus
this project's `metrics.json` (dataset, split, metric, value, date, backend
and the command that reproduces it). Bare names such as `"pinet_ccp_mnist"`
resolve to those directories, inside the installed package, with no network.

keras-hub's `register_presets` is private API. It is wrapped here, the
keras-hub version is pinned in `pyproject.toml`, and if the private function
ever goes away `resolve()` still maps a bare name to its directory for every
hadamard_zoo class's `from_preset` (see `PresetNameMixin`).
"""

import difflib
import functools
import importlib.resources
import json
import pathlib

import keras

PRESET_CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
TASK_CONFIG_FILE = "task.json"


def presets_root():
    """The directory that holds the bundled preset directories.

    In an installed wheel that is the `hadamard_zoo/_presets` package data;
    in a source checkout it is the repository's top-level `presets/`.
    """
    packaged = pathlib.Path(
        str(importlib.resources.files("hadamard_zoo") / "_presets")
    )
    if packaged.is_dir():
        return packaged
    return pathlib.Path(__file__).resolve().parent.parent / "presets"


@functools.cache
def _bundled():
    """`{name: directory}` of every bundled preset, read once."""
    root = presets_root()
    if not root.is_dir():
        return {}
    return {
        path.name: path
        for path in sorted(root.iterdir())
        if (path / PRESET_CONFIG_FILE).is_file()
    }


def _read_json(path):
    try:
        with open(path, encoding="utf-8") as file:
            return json.load(file)
    except FileNotFoundError:
        return {}


def preset_names():
    """Names of the presets bundled with this installation."""
    return list(_bundled())


def unknown_preset_error(name):
    """A `ValueError` for `name` that lists the closest known names."""
    names = preset_names()
    close = difflib.get_close_matches(str(name), names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(
        f"Unknown preset {name!r}.{hint} Bundled presets: "
        f"{', '.join(names) or '(none)'}. A preset can also be a local "
        "directory or an hf:// / kaggle:// handle."
    )


def resolve(preset):
    """Maps a bundled preset name to its directory; other values unchanged.

    Raises:
        ValueError: `preset` is a bare name (no path separator, no scheme)
            that is neither bundled nor an existing directory.
    """
    bundled = _bundled()
    if not isinstance(preset, str):
        return preset
    if preset in bundled:
        return str(bundled[preset])
    is_bare_name = "://" not in preset and "/" not in preset
    if is_bare_name and not pathlib.Path(preset).exists():
        from keras_hub.src.utils import preset_utils

        if preset not in preset_utils.BUILTIN_PRESETS:
            raise unknown_preset_error(preset)
    return preset


def preset_info(name):
    """Everything known about one bundled preset, as a dict.

    Keys: `name`, `path`, `description`, `params`, `metric` (the headline
    metric as `{"metric", "value", "dataset", "split"}`), `metrics` (the
    whole `metrics.json`), `config` (the backbone config) and `size_bytes`.
    """
    bundled = _bundled()
    if name not in bundled:
        raise unknown_preset_error(name)
    path = bundled[name]
    metrics = _read_json(path / METRICS_FILE)
    metadata = _read_json(path / "metadata.json")
    config = _read_json(path / PRESET_CONFIG_FILE)
    headline = {
        key: metrics.get(key) for key in ("metric", "value", "dataset", "split")
    }
    return {
        "name": name,
        "path": str(path),
        "description": metrics.get("description", ""),
        "params": metadata.get("parameter_count"),
        "metric": headline,
        "metrics": metrics,
        "config": config.get("config", {}),
        "size_bytes": sum(
            f.stat().st_size for f in path.rglob("*") if f.is_file()
        ),
    }


def list_presets():
    """The bundled presets: name, description, parameter count, metric.

    Returns:
        A list of dicts with keys `name`, `description`, `params` and
        `metric` (`{"metric", "value", "dataset", "split"}`), sorted by name.

    Example:

    >>> import hadamard_zoo
    >>> all(p["name"] for p in hadamard_zoo.list_presets())
    True
    """
    keys = ("name", "description", "params", "metric")
    return [{k: preset_info(n)[k] for k in keys} for n in preset_names()]


def register_with_keras_hub():
    """Registers every bundled preset in keras-hub's (private) registry.

    After this, `keras_hub.models.ImageClassifier.from_preset(name)` and
    friends find hadamard_zoo presets by name. Returns the names registered;
    does nothing (and returns `[]`) if keras-hub's private API changed.
    """
    try:
        from keras_hub.src.utils.preset_utils import register_presets
    except ImportError:  # the public-API fallback is PresetNameMixin
        return []
    registered = []
    for name, path in _bundled().items():
        config = _read_json(path / PRESET_CONFIG_FILE)
        backbone_cls = keras.saving.get_registered_object(
            config.get("registered_name", "")
        )
        if backbone_cls is None:
            continue
        info = preset_info(name)
        entry = {
            "metadata": {
                "description": info["description"],
                "params": info["params"],
                "path": name,
            },
            "kaggle_handle": str(path),
        }
        register_presets({name: entry}, backbone_cls)
        registered.append(name)
    return registered


def task_class(preset):
    """The keras-hub `Task` subclass a preset was saved from (`task.json`).

    Args:
        preset: a bundled name, a preset directory or a handle.

    Raises:
        ValueError: the preset has no task (a backbone-only preset) or names
            a class that is not registered with Keras.
    """
    from keras_hub.src.utils.preset_utils import check_config_class
    from keras_hub.src.utils.preset_utils import load_json

    location = resolve(preset)
    try:
        config = load_json(location, TASK_CONFIG_FILE)
    except FileNotFoundError as error:
        raise ValueError(
            f"Preset {preset!r} ({location}) has no {TASK_CONFIG_FILE}: it "
            "holds a backbone only; load it with the backbone class's "
            "`from_preset`."
        ) from error
    return check_config_class(config)


class PresetNameMixin:
    """Lets `from_preset` take bundled names without keras-hub's registry.

    Mixed into every hadamard_zoo Backbone, Task and preprocessor, it maps a
    bundled name to its directory before keras-hub sees it, and turns an
    unknown bare name into an error that lists the closest names.
    """

    @classmethod
    def from_preset(cls, preset, **kwargs):
        return super().from_preset(resolve(preset), **kwargs)
