"""Checks shared by the fusion layers, whose inputs are lists of tensors.

A fusion layer takes `[z_1, ..., z_M]`, tensors of shapes `(..., d_m)`
that share their leading axes `...` (batch first). These helpers turn a
wrong call (a single tensor, the wrong number of tensors, tensors whose
batch sizes differ) into a `ValueError` that names the layer and says
what it expects, instead of a broadcasting error deep inside `call()`.
"""

import numbers

import keras

from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


def _describe(layer):
    return f"Layer '{layer.name}' ({type(layer).__name__})"


def _expected(count, minimum):
    if count is not None:
        return f"a list of {count} tensors"
    return f"a list of at least {minimum} tensor(s)"


def _is_shape(value):
    """True for one shape: a tuple/list of ints or None."""
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, numbers.Integral) for d in value
    )


def _check_count(layer, items, count, minimum, what):
    if not isinstance(items, (list, tuple)) or (
        what == "shapes" and len(items) > 0 and _is_shape(items)
    ):
        raise ValueError(
            f"{_describe(layer)} expects {_expected(count, minimum)} "
            f"of shape (..., d). Received a single input instead of a list "
            f"(shape {_shape_of(items, what)})."
        )
    if (count is not None and len(items) != count) or len(items) < minimum:
        raise ValueError(
            f"{_describe(layer)} expects {_expected(count, minimum)}. "
            f"Received {len(items)} input(s)."
        )


def _shape_of(item, what):
    if what == "shapes":
        return tuple(item) if isinstance(item, (list, tuple)) else item
    return tuple(getattr(item, "shape", ()))


def merge_leading_axes(layer, shapes):
    """The leading axes `...` the inputs share, or a `ValueError`.

    Every input needs rank >= 2 and the same rank; an axis of known size
    must agree across the inputs (the batch axis first of all). Unknown
    sizes (`None`) are filled in from the other inputs.
    """
    shapes = [tuple(s) for s in shapes]
    for shape in shapes:
        if len(shape) < 2:
            raise ValueError(
                f"{_describe(layer)} expects inputs of rank >= 2, shape "
                f"(batch, ..., d). Received shapes {shapes}."
            )
    if len({len(s) for s in shapes}) > 1:
        raise ValueError(
            f"{_describe(layer)} expects inputs of the same rank that share "
            f"their leading axes (batch, ...). Received shapes {shapes}."
        )
    leading = []
    for axis, sizes in enumerate(zip(*(s[:-1] for s in shapes), strict=True)):
        known = {int(d) for d in sizes if d is not None}
        if len(known) > 1:
            what = "batch sizes" if axis == 0 else f"sizes on axis {axis}"
            raise ValueError(
                f"{_describe(layer)} expects inputs with the same leading "
                f"axes (batch, ...), but their {what} differ. Received "
                f"shapes {shapes}."
            )
        leading.append(known.pop() if known else None)
    return tuple(leading)


def input_shapes(layer, input_shape, count=None, minimum=2):
    """Validates the shapes of a list input; returns them as tuples.

    Args:
        layer: the layer (named in errors).
        input_shape: what Keras passes to `build()` for a list input.
        count: the exact number of inputs, or None for "at least minimum".
        minimum: the smallest number of inputs when `count` is None.

    Returns:
        `(shapes, leading)`: the list of shapes and the merged leading axes.
    """
    _check_count(layer, input_shape, count, minimum, "shapes")
    shapes = [tuple(s) for s in input_shape]
    leading = merge_leading_axes(layer, shapes)
    for index, shape in enumerate(shapes):
        if shape[-1] is None:
            raise ValueError(
                f"{_describe(layer)} needs the last axis of every input to "
                f"be defined. Input {index} has shape {shape}."
            )
    return shapes, leading


def check_call_inputs(layer, inputs):
    """At call time: a list of the built length, with matching batch sizes.

    Keras checks the count and widths against `input_spec` before `call()`;
    this adds the leading axes, which `input_spec` cannot relate across
    inputs. Sizes unknown while tracing are skipped.
    """
    count = len(layer.input_spec) if layer.input_spec else None
    _check_count(layer, inputs, count, 1, "tensors")
    merge_leading_axes(layer, [tuple(x.shape) for x in inputs])


def input_specs(shapes):
    """One `InputSpec` per input, pinning rank and last axis."""
    return [keras.InputSpec(ndim=len(s), axes={-1: int(s[-1])}) for s in shapes]


def check_units_pair(name, value, count=2):
    """`None`, an int (for every input) or a tuple of `count` ints/None.

    Returns a tuple of `count` entries, each an int >= 1 or None.
    """
    if value is None or (
        isinstance(value, numbers.Integral) and not isinstance(value, bool)
    ):
        return (check_optional_int(name, value),) * count
    if not isinstance(value, (tuple, list)) or len(value) != count:
        raise ValueError(
            f"`{name}` must be None, an integer >= 1 or a tuple of {count} "
            f"entries, each None or an integer >= 1. Received: "
            f"{name}={value!r}."
        )
    for v in value:
        if v is not None:
            try:
                check_int(name, v)
            except ValueError as error:
                raise ValueError(
                    f"`{name}` must be None, an integer >= 1 or a tuple of "
                    f"{count} entries, each None or an integer >= 1. "
                    f"Received: {name}={value!r}."
                ) from error
    return tuple(None if v is None else int(v) for v in value)
