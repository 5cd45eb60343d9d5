"""Checks of the input lists of the multi-input modulation layers."""


def list_input_shapes(layer, input_shape, names):
    """Returns the shapes of a list of `len(names)` inputs as tuples.

    Raises a `ValueError` naming the layer and the expected inputs if
    `input_shape` is not a list of that many shapes.
    """
    expected = "[" + ", ".join(names) + "]"
    if not (
        isinstance(input_shape, (list, tuple))
        and len(input_shape) == len(names)
        and all(isinstance(s, (list, tuple)) for s in input_shape)
    ):
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects a list "
            f"of {len(names)} inputs {expected}. Received input shape "
            f"{input_shape}."
        )
    return [tuple(s) for s in input_shape]


def check_same_batch(layer, tensors, names):
    """Raises if the tensors' statically known batch sizes differ."""
    sizes = [t.shape[0] for t in tensors]
    known = {s for s in sizes if s is not None}
    if len(known) > 1:
        shapes = ", ".join(
            f"{n}: {tuple(t.shape)}"
            for n, t in zip(names, tensors, strict=True)
        )
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects its "
            f"inputs to have the same batch size. Received {shapes}."
        )
