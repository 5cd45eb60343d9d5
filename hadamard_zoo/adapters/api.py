"""Enable, merge, save and load adapters on the layers of any Keras model.

`enable_hira`, `enable_loha` and `enable_lora` (Keras's own LoRA, the
baseline) take the same arguments, so the three methods are one call apart:

```python
enable_hira(backbone, rank=4, targets=["query", "value"])
enable_loha(backbone, rank=4, targets=["query", "value"])
enable_lora(backbone, rank=4, targets=["query", "value"])
```

The supported layers are `keras.layers.Dense`, `EinsumDense` and `Conv2D`
(exactly these classes: a subclass may change `call`, which the adapter
class would silently drop). They are found anywhere in the model, nested
models and the sublayers of custom layers included (keras-hub backbones,
`ProdPolyBlock`, ...). Layers with their own kernels (`CCP`, `NCP`, ...) are
not supported: `targets=None` skips them, naming one raises a `TypeError`.

Saving: as with Keras LoRA, `model.save(...)`, `save_weights` and keras-hub
`save_to_preset` store each adapted layer's merged kernel `W0 + ΔW` in the
plain layer's format, so the files load into the un-adapted architecture
(keras-hub rebuilds its backbones from their arguments) with the same
outputs; a plain functional model reloads with its adapter layers, restarted
at `ΔW = 0` on the merged kernel. To keep the factors themselves (to resume
fine-tuning, or to ship a small file per task beside one base model), use
`save_adapter_weights` / `load_adapter_weights`.
"""

import json
import math

import keras
import numpy as np
from keras import ops

from hadamard_zoo.adapters.base import HadamardAdapter
from hadamard_zoo.adapters.base import check_rank_fits
from hadamard_zoo.adapters.base import class_name
from hadamard_zoo.adapters.hira import HiRAConv2D
from hadamard_zoo.adapters.hira import HiRADense
from hadamard_zoo.adapters.hira import HiRAEinsumDense
from hadamard_zoo.adapters.loha import LoHaConv2D
from hadamard_zoo.adapters.loha import LoHaDense
from hadamard_zoo.adapters.loha import LoHaEinsumDense
from hadamard_zoo.adapters.loha import check_loha_alpha
from hadamard_zoo.utils.atomic import atomic_path
from hadamard_zoo.utils.validation import check_int

HIRA_CLASSES = {
    keras.layers.Dense: HiRADense,
    keras.layers.EinsumDense: HiRAEinsumDense,
    keras.layers.Conv2D: HiRAConv2D,
}
LOHA_CLASSES = {
    keras.layers.Dense: LoHaDense,
    keras.layers.EinsumDense: LoHaEinsumDense,
    keras.layers.Conv2D: LoHaConv2D,
}
SUPPORTED_TYPES = tuple(HIRA_CLASSES)
_SUPPORTED_NAMES = "Dense, EinsumDense or Conv2D"

FILE_FORMAT = "hadamard_zoo.adapters"
FILE_VERSION = 1
_META_KEY = "__adapters__"


# ------------------------------------------------------------------ enable


def enable_hira(model_or_layer, rank, targets=None):
    """Adds HiRA adapters, `W = W0 + W0 * (A B)`, to layers of a model.

    Each target layer keeps its name and its place in the model; its class
    becomes `HiRADense`, `HiRAEinsumDense` or `HiRAConv2D` (see their
    docstrings for the equation). Every weight of `model_or_layer` other
    than the adapter factors is then frozen, as keras-hub's
    `Backbone.enable_lora` does: the kernels `W0`, the biases of the adapted
    layers, and every other layer (set with `layer.trainable = False`, so
    batch normalisation also runs in inference mode). Unfreeze a new head
    afterwards with `head.trainable = True`, and `compile()` the model
    after enabling.

    Args:
        model_or_layer: a built Keras model or layer.
        rank: int >= 1, the rank `r` of `A B`; at most `min(in, out)` of
            every target kernel seen as an `(in, out)` matrix.
        targets: which layers to adapt. `None` (default): every `Dense`,
            `EinsumDense` and `Conv2D` layer without an adapter, others
            skipped. A layer name or path (`"query"`,
            `"stage0_block0/conv1"`), or a list of them: every layer with
            that name or path, which must be supported. A callable
            `layer -> bool`: applied to every supported layer.

    Returns:
        The list of the adapted layers' paths, in model order.

    Raises:
        ValueError: a bad `rank` or `targets`, a rank larger than a layer
            allows, a target that is missing, not built, quantized or
            already adapted.
        TypeError: a target named explicitly whose type is not supported.

    Example:

    >>> model = keras.Sequential(
    ...     [keras.Input((6,)), keras.layers.Dense(4, name="head")], name="net"
    ... )
    >>> enable_hira(model, rank=2)
    ['net/head']
    >>> trainable_parameter_count(model)  # A: 6x2, B: 2x4
    20

    Reference:
        Huang et al., "HiRA: Parameter-Efficient Hadamard High-Rank
        Adaptation for Large Language Models", ICLR 2025.
    """
    rank = check_int("rank", rank)

    def setup(layer):
        layer.hira_rank = rank

    return _enable(model_or_layer, rank, targets, HIRA_CLASSES, setup)


def enable_loha(model_or_layer, rank, alpha=None, targets=None):
    """Adds LoHa adapters, `ΔW = (α/r) (A1 B1) * (A2 B2)`, to a model.

    Each target layer keeps its name and its place in the model; its class
    becomes `LoHaDense`, `LoHaEinsumDense` or `LoHaConv2D` (see their
    docstrings for the equation). As with `enable_hira`, every weight of
    `model_or_layer` other than the adapter factors is then frozen.

    Args:
        model_or_layer: a built Keras model or layer.
        rank: int >= 1, the rank `r` of each factor pair (the update's rank
            can reach `r²`); at most `min(in, out)` of every target kernel
            seen as an `(in, out)` matrix.
        alpha: optional float > 0, the scale's numerator `α`. Defaults to
            `None` (`α = rank`, a scale of 1).
        targets: as in `enable_hira`.

    Returns:
        The list of the adapted layers' paths, in model order.

    Raises:
        ValueError, TypeError: as `enable_hira`; also a bad `alpha`.

    Example:

    >>> model = keras.Sequential(
    ...     [keras.Input((6,)), keras.layers.Dense(4, name="head")], name="net"
    ... )
    >>> enable_loha(model, rank=2)
    ['net/head']
    >>> trainable_parameter_count(model)  # 2 x (6x2 + 2x4)
    40

    Reference:
        Hyeon-Woo et al., "FedPara: Low-Rank Hadamard Product for
        Communication-Efficient Federated Learning", ICLR 2022.
    """
    rank = check_int("rank", rank)
    alpha = check_loha_alpha("alpha", alpha, rank)

    def setup(layer):
        layer.loha_rank = rank
        layer.loha_alpha = alpha

    return _enable(model_or_layer, rank, targets, LOHA_CLASSES, setup)


def enable_lora(model_or_layer, rank, alpha=None, targets=None):
    """Keras's own LoRA on the same targets: the baseline of the adapters.

    Calls `layer.enable_lora(rank, lora_alpha=alpha)` of every target
    (found as in `enable_hira`), then freezes everything else exactly as
    `enable_hira` does, the biases of the LoRA layers included (Keras
    alone leaves them trainable), so that the three methods train the same
    kind of weights. Keras saves a LoRA layer with the update merged into
    its kernel and reloads it with zero LoRA factors.

    Args:
        model_or_layer: a built Keras model or layer.
        rank: int >= 1, the LoRA rank, at most `min(in, out)`.
        alpha: optional number > 0, LoRA's `lora_alpha` (scale
            `alpha / rank`). Defaults to `None` (`alpha = rank`).
        targets: as in `enable_hira`.

    Returns:
        The list of the adapted layers' paths, in model order.

    Example:

    >>> model = keras.Sequential(
    ...     [keras.Input((6,)), keras.layers.Dense(4, name="head")], name="net"
    ... )
    >>> enable_lora(model, rank=2)
    ['net/head']
    >>> trainable_parameter_count(model)
    20

    Reference:
        Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models",
        ICLR 2022.
    """
    rank = check_int("rank", rank)
    if alpha is not None:
        alpha = check_loha_alpha("alpha", alpha, rank)
    root = _check_root(model_or_layer)
    chosen = _select_targets(root, targets)
    for layer in chosen:
        _check_adaptable(layer, rank)
        if layer.kernel_constraint is not None:
            raise ValueError(
                f"Keras LoRA cannot adapt layer '{_path(layer)}': it has a "
                "`kernel_constraint`."
            )
    for layer in chosen:
        layer.enable_lora(rank, lora_alpha=alpha)
    _freeze_all_but_adapters(root)
    _sync_torch_parameters(root)
    return [_path(layer) for layer in chosen]


def _enable(model_or_layer, rank, targets, classes, setup):
    root = _check_root(model_or_layer)
    chosen = _select_targets(root, targets)
    # Every check before any change: a bad target leaves the model as it is.
    for layer in chosen:
        _check_adaptable(layer, rank)
    for layer in chosen:
        layer.__class__ = classes[type(layer)]
        setup(layer)
        layer._add_adapter_weights()
    _freeze_all_but_adapters(root)
    _sync_torch_parameters(root)
    return [_path(layer) for layer in chosen]


# ------------------------------------------------------------------- merge


def merge_adapters(model_or_layer):
    """Folds every HiRA / LoHa adapter into its kernel, for inference.

    Each adapted layer gets `W0 := W0 + ΔW`, loses its adapter factors and
    becomes a plain `Dense`, `EinsumDense` or `Conv2D` again, with the same
    outputs (up to float32 rounding). The merged kernels and biases become
    trainable again if their layer is (`layer.trainable`); other layers
    keep their state. Keras LoRA layers are left as they are (Keras merges
    them when saving).

    Args:
        model_or_layer: a Keras model or layer holding adapters.

    Returns:
        The list of the merged layers' paths.

    Example:

    >>> model = keras.Sequential(
    ...     [keras.Input((6,)), keras.layers.Dense(4, name="head")], name="net"
    ... )
    >>> enable_loha(model, rank=2)
    ['net/head']
    >>> merge_adapters(model)
    ['net/head']
    >>> type(model.layers[0]).__name__
    'Dense'
    """
    root = _check_root(model_or_layer)
    layers = [
        layer
        for layer in root._flatten_layers(include_self=True)
        if isinstance(layer, HadamardAdapter)
    ]
    if not layers:
        raise ValueError(
            f"'{root.name}' has no HiRA or LoHa adapter to merge. Enable "
            "them first with `enable_hira` or `enable_loha`."
        )
    paths = [_path(layer) for layer in layers]
    for layer in layers:
        layer._merge_and_remove()
    _sync_torch_parameters(root)
    _reset_compiled_functions(root)
    return paths


def _reset_compiled_functions(root):
    """Drops a model's traced train/test/predict functions.

    TensorFlow's traced functions captured the adapted kernel computation;
    reused after a merge they would add the update twice. Keras rebuilds a
    function that is `None` on the next `fit`/`evaluate`/`predict`.
    """
    if isinstance(root, keras.Model):
        for name in ("train_function", "test_function", "predict_function"):
            if hasattr(root, name):
                setattr(root, name, None)


# -------------------------------------------------------------- save / load


def adapter_summary(model_or_layer):
    """One dict per adapted layer: path, method, rank, alpha, parameters.

    HiRA, LoHa and Keras LoRA layers are listed, in model order.
    """
    root = _check_root(model_or_layer)
    return [
        {
            "layer": _path(layer),
            "method": info["method"],
            "rank": info["rank"],
            "alpha": info["alpha"],
            "parameters": sum(
                math.prod(v.shape) for v in info["variables"].values()
            ),
        }
        for layer, info in _adapted_layers(root)
    ]


def save_adapter_weights(model_or_layer, path):
    """Saves only the adapter factors of a model to an `.npz` file.

    The file holds the factors of every HiRA, LoHa and Keras LoRA layer, in
    model order, and a description of each layer (path, method, rank,
    alpha, shapes) that `load_adapter_weights` checks. It is written to a
    temporary file first and then renamed, so `path` is never half-written.

    Args:
        model_or_layer: a Keras model or layer holding adapters.
        path: the file to write (`.npz` suggested).

    Returns:
        `path`, as a string.
    """
    root = _check_root(model_or_layer)
    entries = _adapted_layers(root)
    if not entries:
        raise ValueError(
            f"'{root.name}' has no adapter to save. Enable them first with "
            "`enable_hira`, `enable_loha` or `enable_lora`."
        )
    arrays = {}
    layers = []
    for index, (layer, info) in enumerate(entries):
        shapes = {}
        for name, variable in info["variables"].items():
            arrays[f"{index}.{name}"] = np.asarray(
                ops.convert_to_numpy(variable)
            )
            shapes[name] = [int(d) for d in variable.shape]
        layers.append(
            {
                "path": _path(layer),
                "class": class_name(layer),
                "method": info["method"],
                "rank": info["rank"],
                "alpha": info["alpha"],
                "shapes": shapes,
            }
        )
    meta = {"format": FILE_FORMAT, "version": FILE_VERSION, "layers": layers}
    arrays[_META_KEY] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    return str(path)


def load_adapter_weights(model_or_layer, path):
    """Loads adapter factors saved by `save_adapter_weights`.

    The model must hold the same adapters as the saved one: the same
    number of adapted layers, matched in model order, each with the same
    method, rank, alpha and factor shapes (layer names may differ, e.g.
    `dense_3` in a second model built in the same process). Any mismatch
    raises a `ValueError` naming the layer, before any weight is changed.

    Args:
        model_or_layer: a Keras model or layer with adapters enabled.
        path: a file written by `save_adapter_weights`.
    """
    root = _check_root(model_or_layer)
    with np.load(path, allow_pickle=False) as data:
        if _META_KEY not in data.files:
            raise ValueError(
                f"{path} is not an adapter file written by "
                "`save_adapter_weights` (it has no adapter description)."
            )
        meta = json.loads(str(data[_META_KEY]))
        arrays = {k: data[k] for k in data.files if k != _META_KEY}
    if meta.get("format") != FILE_FORMAT or meta.get("version") != 1:
        raise ValueError(
            f"{path} has format {meta.get('format')!r} version "
            f"{meta.get('version')!r}; expected {FILE_FORMAT!r} version "
            f"{FILE_VERSION}."
        )
    entries = _adapted_layers(root)
    saved = meta["layers"]
    if len(saved) != len(entries):
        raise ValueError(
            f"{path} holds adapters for {len(saved)} layers "
            f"({[s['path'] for s in saved]}), but '{root.name}' has "
            f"{len(entries)} adapted layers "
            f"({[_path(layer) for layer, _ in entries]}). Enable the same "
            "adapters, on the same targets, before loading."
        )
    assignments = []
    for index, ((layer, info), record) in enumerate(
        zip(entries, saved, strict=True)
    ):
        where = (
            f"Layer '{_path(layer)}' (adapted layer #{index}, saved as "
            f"'{record['path']}')"
        )
        for key in ("method", "rank", "alpha"):
            if record[key] != info[key]:
                raise ValueError(
                    f"{where} has adapter {key}={info[key]!r}, but {path} "
                    f"holds {key}={record[key]!r} for it."
                )
        for name, variable in info["variables"].items():
            value = arrays.get(f"{index}.{name}")
            if value is None or tuple(value.shape) != tuple(variable.shape):
                found = None if value is None else tuple(value.shape)
                raise ValueError(
                    f"{where}: factor '{name}' has shape "
                    f"{tuple(variable.shape)}, but {path} holds {found}."
                )
            assignments.append((variable, value))
    for variable, value in assignments:
        variable.assign(value.astype(variable.dtype))


def trainable_parameter_count(model_or_layer):
    """The number of scalars in `model_or_layer.trainable_weights`."""
    root = _check_root(model_or_layer)
    return int(sum(math.prod(v.shape) for v in root.trainable_weights))


# ----------------------------------------------------------------- helpers


def _check_root(model_or_layer):
    if not isinstance(model_or_layer, keras.layers.Layer):
        raise ValueError(
            "`model_or_layer` must be a Keras model or layer. Received: "
            f"model_or_layer={model_or_layer!r} "
            f"(type {type(model_or_layer).__name__})."
        )
    return model_or_layer


def _path(layer):
    return layer.path or layer.name


def _lora_enabled(layer):
    return bool(getattr(layer, "lora_enabled", False))


def _adapter_info(layer):
    """`{method, rank, alpha, variables}` of an adapted layer, else None."""
    if isinstance(layer, HadamardAdapter):
        alpha = getattr(layer, "loha_alpha", None)
        return {
            "method": layer.adapter_method,
            "rank": layer.adapter_rank,
            "alpha": alpha,
            "variables": dict(
                zip(
                    layer.adapter_variable_names,
                    layer.adapter_variables,
                    strict=True,
                )
            ),
        }
    if _lora_enabled(layer):
        return {
            "method": "lora",
            "rank": int(layer.lora_rank),
            "alpha": float(layer.lora_alpha),
            "variables": {
                "lora_kernel_a": layer.lora_kernel_a,
                "lora_kernel_b": layer.lora_kernel_b,
            },
        }
    return None


def _adapted_layers(root):
    entries = []
    for layer in root._flatten_layers(include_self=True):
        info = _adapter_info(layer)
        if info is not None:
            entries.append((layer, info))
    return entries


def _is_supported(layer):
    return type(layer) in SUPPORTED_TYPES


def _select_targets(root, targets):
    layers = root._flatten_layers(include_self=True)
    free = [
        layer
        for layer in layers
        if _is_supported(layer) and _adapter_info(layer) is None
    ]
    if targets is None or (callable(targets) and not isinstance(targets, str)):
        chosen = free if targets is None else [x for x in free if targets(x)]
        if not chosen:
            adapted = len(_adapted_layers(root))
            raise ValueError(
                f"Found no layer to adapt in '{root.name}'"
                + ("" if targets is None else " matching `targets`")
                + f": adapters apply to {_SUPPORTED_NAMES} layers without "
                f"an adapter ({adapted} layer(s) already have one)."
            )
        return chosen
    names = [targets] if isinstance(targets, str) else targets
    if (
        not isinstance(names, (list, tuple))
        or not names
        or not all(isinstance(name, str) for name in names)
    ):
        raise ValueError(
            "`targets` must be None, a layer name, a non-empty list of "
            "layer names or a callable `layer -> bool`. "
            f"Received: targets={targets!r}."
        )
    seen = set()
    for name in names:
        matched = [x for x in layers if name in (x.name, x.path)]
        if not matched:
            candidates = sorted({x.name for x in free})
            raise ValueError(
                f"`targets`: '{root.name}' has no layer named {name!r}. "
                f"Its {_SUPPORTED_NAMES} layers: {candidates[:30]}"
                + (" ..." if len(candidates) > 30 else "")
            )
        for layer in matched:
            info = _adapter_info(layer)
            if info is not None:
                raise ValueError(
                    f"Layer '{_path(layer)}' already has a {info['method']} "
                    "adapter. Merge it first (`merge_adapters`) or target "
                    "other layers."
                )
            if not _is_supported(layer):
                raise TypeError(
                    f"Layer '{_path(layer)}' ({class_name(layer)}) does "
                    f"not support adapters: they apply to {_SUPPORTED_NAMES} "
                    "layers (exactly these classes)."
                )
            seen.add(id(layer))
    return [layer for layer in layers if id(layer) in seen]


def _check_adaptable(layer, rank):
    if not layer.built:
        raise ValueError(
            f"Layer '{layer.name}' ({class_name(layer)}) is not built. "
            "Build the model first (call it on a batch, or `model.build`)."
        )
    if layer.quantization_mode is not None:
        raise ValueError(
            f"Layer '{_path(layer)}' is quantized "
            f"({layer.quantization_mode!r}); adapters need a float kernel."
        )
    check_rank_fits(layer, rank, layer._kernel.shape)


def _freeze_all_but_adapters(root):
    """Leaves only adapter factors trainable under `root`.

    Layers with no adapter anywhere inside get `trainable = False`;
    containers of adapted layers keep `trainable = True` but their own
    weights are frozen; adapted layers train their factors only.
    """
    _set_trainable(root, True)
    adapted = {id(layer) for layer, _ in _adapted_layers(root)}

    def visit(layer):
        info = _adapter_info(layer)
        if info is not None:
            keep = {id(v) for v in info["variables"].values()}
            for variable in layer.weights:
                variable.trainable = id(variable) in keep
            return
        inside = layer._flatten_layers(include_self=False)
        if not any(id(x) in adapted for x in inside):
            _set_trainable(layer, False)
            return
        children = layer._flatten_layers(include_self=False, recursive=False)
        nested = {id(v) for child in children for v in child.weights}
        for variable in layer.weights:
            if id(variable) not in nested:
                variable.trainable = False
        for child in children:
            visit(child)

    visit(root)


def _set_trainable(layer, value):
    # Calls the setter even when `layer.trainable` already equals `value`:
    # on tensorflow, `layer.trainable = True` is skipped when it is already
    # True, and would not cascade to the sublayers.
    type(layer).trainable.fset(layer, value)


def _sync_torch_parameters(root):
    # On torch, a layer registers its variables (its sublayers' included)
    # as torch parameters once, after build; re-register them so that
    # `model.parameters()` sees added factors and forgets removed ones.
    for layer in root._flatten_layers(include_self=True):
        if hasattr(layer, "_torch_params"):
            layer._track_variables()
