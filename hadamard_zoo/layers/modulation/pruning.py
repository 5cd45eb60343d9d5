"""Magnitude pruning of a model's kernels through `WeightMask` wrappers."""

import keras
import numpy as np

from hadamard_zoo.layers.modulation.weight_mask import SUPPORTED_LAYERS
from hadamard_zoo.layers.modulation.weight_mask import WeightMask
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float

SCOPES = ("layer", "global")


def _check_layer_types(layer_types):
    if not isinstance(layer_types, (tuple, list)):
        layer_types = (layer_types,)
    layer_types = tuple(layer_types)
    supported = ", ".join(cls.__name__ for cls in SUPPORTED_LAYERS)
    for layer_type in layer_types:
        if layer_type not in SUPPORTED_LAYERS:
            raise TypeError(
                "`layer_types` must be classes among keras.layers."
                f"{{{supported}}}. Received: layer_types={layer_types!r} "
                f"(unsupported: {layer_type!r})."
            )
    if not layer_types:
        raise ValueError(
            "`layer_types` must name at least one layer class. "
            f"Received: layer_types={layer_types!r}."
        )
    return layer_types


def _check_sparsity(sparsity):
    sparsity = check_float("sparsity", sparsity, minimum=0.0, maximum=1.0)
    if sparsity >= 1.0:
        raise ValueError(
            "`sparsity` must be in [0, 1) (1 would prune every weight). "
            f"Received: sparsity={sparsity}."
        )
    return sparsity


def _is_target(layer, layer_types):
    if isinstance(layer, WeightMask):
        layer = layer.layer
    return type(layer) in layer_types


def prune_by_magnitude(
    model,
    sparsity,
    layer_types=(keras.layers.Dense, keras.layers.Conv2D),
    scope="layer",
):
    """A copy of `model` with its smallest kernel weights masked to zero.

    Every layer whose type is exactly one of `layer_types` (nested
    Functional and Sequential models included) is wrapped in a
    `WeightMask` whose 0/1 mask `M` zeroes the fraction `sparsity` of the
    kernel entries of smallest magnitude, `W ← W * M`. The copy keeps every
    other weight of `model` (biases, normalisation statistics, ...); the
    masked weights get zero gradient, so they stay zero when the copy is
    fine-tuned (compile it first: the copy is not compiled). Biases are
    never pruned.

    With `scope="layer"` each kernel loses `round(sparsity * size)` entries;
    with `scope="global"` the `round(sparsity * total)` smallest entries of
    all target kernels together are masked (Han et al.'s threshold over the
    whole network), so layers end up with different sparsities. Ties are
    broken by position, so the count is exact. Pruning an already pruned
    model (its `WeightMask` layers wrap target types) ranks the masked
    kernels `W * M` and keeps every entry masked so far masked: iterating
    `prune_by_magnitude` with growing `sparsity` and fine-tuning in between
    is gradual pruning.

    Args:
        model: a built Functional or Sequential `keras.Model`.
        sparsity: float in [0, 1), the fraction of kernel weights to mask.
        layer_types: a class or tuple of classes among
            `keras.layers.Dense`, `EinsumDense`, `Conv1D` and `Conv2D`.
            Defaults to `(Dense, Conv2D)`.
        scope: `"layer"` (every kernel at `sparsity`) or `"global"` (one
            threshold for all). Defaults to `"layer"`.

    Returns:
        A new, uncompiled model with the target layers wrapped in
        `WeightMask` (each wrapper named after the layer it wraps).

    Raises:
        ValueError: for a `sparsity` outside [0, 1), an unknown `scope`, an
            unbuilt model or a model without any target layer.
        TypeError: for a `layer_types` entry that `WeightMask` does not
            support, or a `model` that is not a Functional or Sequential
            model.

    Example:

    >>> model = keras.Sequential(
    ...     [
    ...         keras.Input((8,)),
    ...         keras.layers.Dense(4, name="hidden"),
    ...         keras.layers.Dense(2, name="logits"),
    ...     ]
    ... )
    >>> pruned = prune_by_magnitude(model, sparsity=0.75)
    >>> report = sparsity_report(pruned)
    >>> report["sparsity"], report["layers"]["hidden"]["zeros"]
    (0.75, 24)

    Reference:
        Han et al., "Learning both Weights and Connections for Efficient
        Neural Networks", NeurIPS 2015;
        Zhu and Gupta, "To prune, or not to prune", ICLR 2018 workshop
        (gradual magnitude pruning with a binary mask on each kernel).
    """
    sparsity = _check_sparsity(sparsity)
    layer_types = _check_layer_types(layer_types)
    scope = check_choice("scope", scope, SCOPES)
    if not isinstance(model, keras.Model):
        raise TypeError(
            "`model` must be a Functional or Sequential keras.Model. "
            f"Received: model={model!r} (type {type(model).__name__})."
        )
    if not model.built:
        raise ValueError(
            f"`model` must be built before pruning. Received: model "
            f"{model.name!r}, which is not built."
        )

    pairs = []

    def clone_function(layer):
        if isinstance(layer, WeightMask):
            clone = WeightMask.from_config(layer.get_config())
        elif _is_target(layer, layer_types):
            inner = layer.__class__.from_config(layer.get_config())
            clone = WeightMask(inner, name=layer.name)
        else:
            clone = layer.__class__.from_config(layer.get_config())
        pairs.append((layer, clone))
        return clone

    try:
        pruned = keras.models.clone_model(
            model, clone_function=clone_function, recursive=True
        )
    except ValueError as error:
        raise TypeError(
            "`model` must be a Functional or Sequential keras.Model. "
            f"Received a model of type {type(model).__name__}."
        ) from error

    targets = []
    for original, clone in pairs:
        if isinstance(clone, WeightMask) and not isinstance(
            original, WeightMask
        ):
            clone.layer.set_weights(original.get_weights())
        else:
            clone.set_weights(original.get_weights())
        if isinstance(clone, WeightMask) and _is_target(clone, layer_types):
            targets.append(clone)
    if not targets:
        names = ", ".join(t.__name__ for t in layer_types)
        raise ValueError(
            f"`model` {model.name!r} has no layer of type {names} to prune."
        )

    # Rank |W * M|; entries masked already rank first (-1) and stay masked.
    scores = []
    for wrapper in targets:
        kernel = keras.ops.convert_to_numpy(wrapper.layer.kernel)
        mask = keras.ops.convert_to_numpy(wrapper.mask)
        score = np.abs(kernel * mask).astype("float64")
        scores.append(np.where(mask == 0, -1.0, score).ravel())
    if scope == "layer":
        keeps = [_keep(score, _count(sparsity, score.size)) for score in scores]
    else:
        flat = np.concatenate(scores)
        keep = _keep(flat, _count(sparsity, flat.size))
        keeps = np.split(keep, np.cumsum([s.size for s in scores])[:-1])
    for wrapper, keep in zip(targets, keeps, strict=True):
        mask = keras.ops.convert_to_numpy(wrapper.mask)
        new_mask = keep.reshape(mask.shape) * (mask != 0)
        wrapper.set_mask(new_mask.astype("float32"))
    return pruned


def _count(sparsity, size):
    """`round(sparsity * size)`, halves rounded up."""
    return int(np.floor(sparsity * size + 0.5))


def _keep(score, pruned):
    """0/1 vector: 0 at the `pruned` smallest scores (ties by position)."""
    keep = np.ones(score.size)
    keep[np.argsort(score, kind="stable")[:pruned]] = 0.0
    return keep


def _kernel_layers(model, prefix=""):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _kernel_layers(layer, f"{prefix}{layer.name}/")
        elif isinstance(layer, WeightMask):
            yield prefix + layer.name, layer.masked_kernel
        elif type(layer) in SUPPORTED_LAYERS and layer.built:
            yield prefix + layer.name, layer.kernel


def sparsity_report(model):
    """Fractions of zero kernel weights, per layer and over the model.

    Counts the exact zeros of the kernels the forward pass uses: `W * M`
    for `WeightMask` layers, `W` for plain `Dense`, `EinsumDense`, `Conv1D`
    and `Conv2D` layers (nested models included, their layers named
    `"<model>/<layer>"`). Biases and other layers are not counted.

    Args:
        model: a built `keras.Model`.

    Returns:
        A dict `{"layers": {name: {"zeros": int, "weights": int,
        "sparsity": float}}, "zeros": int, "weights": int,
        "sparsity": float}`, the last three over all counted kernels
        (`sparsity` is `0.0` when there is none).

    Example:

    >>> model = keras.Sequential(
    ...     [keras.Input((3,)), keras.layers.Dense(2, name="fc")]
    ... )
    >>> _ = model.layers[0].kernel.assign([[0, 1], [2, 0], [3, 4]])
    >>> sparsity_report(model)["layers"]["fc"]
    {'zeros': 2, 'weights': 6, 'sparsity': 0.3333333333333333}
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"`model` must be a keras.Model. Received: model={model!r} "
            f"(type {type(model).__name__})."
        )
    layers = {}
    for name, kernel in _kernel_layers(model):
        kernel = keras.ops.convert_to_numpy(kernel)
        zeros = int(np.count_nonzero(kernel == 0))
        layers[name] = {
            "zeros": zeros,
            "weights": int(kernel.size),
            "sparsity": zeros / kernel.size,
        }
    zeros = sum(entry["zeros"] for entry in layers.values())
    weights = sum(entry["weights"] for entry in layers.values())
    return {
        "layers": layers,
        "zeros": zeros,
        "weights": weights,
        "sparsity": zeros / weights if weights else 0.0,
    }
