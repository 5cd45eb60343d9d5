"""Argument checks shared by layers and models.

Every check raises at construction time with a message that names the
argument, the value received and what is allowed, so a typo in a config
fails where it was made rather than deep inside `build()`.
"""

import numbers


def check_int(name, value, minimum=1):
    """Returns `value` as an `int`, or raises if it is not an int >= minimum.

    Booleans are rejected even though `True` is an `int` in Python: a flag
    passed where a size belongs is a bug.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value!r} (type {type(value).__name__})."
        )
    if value < minimum:
        raise ValueError(
            f"`{name}` must be an integer >= {minimum}. "
            f"Received: {name}={value}."
        )
    return int(value)


def check_optional_int(name, value, minimum=1):
    """Like `check_int`, but `None` passes through unchanged."""
    if value is None:
        return None
    return check_int(name, value, minimum)


def check_int_tuple(name, value, length, minimum=1):
    """Normalises an int or a sequence of ints to a tuple of `length` ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,) * length
    if not isinstance(value, (tuple, list)) or len(value) != length:
        raise ValueError(
            f"`{name}` must be an integer or a tuple of {length} integers. "
            f"Received: {name}={value!r}."
        )
    return tuple(check_int(name, v, minimum) for v in value)


def check_bool(name, value):
    """Returns `value` if it is a bool, else raises (no truthy coercion)."""
    if not isinstance(value, bool):
        raise ValueError(
            f"`{name}` must be True or False. Received: {name}={value!r}."
        )
    return value


def check_choice(name, value, allowed):
    """Returns `value` if it is one of `allowed`, else raises."""
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(
            f"`{name}` must be one of {options}. Received: {name}={value!r}."
        )
    return value


def check_float(name, value, minimum=None, maximum=None):
    """Returns `value` as a float within [minimum, maximum], else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"`{name}` must be a number. Received: {name}={value!r}."
        )
    low_ok = minimum is None or value >= minimum
    high_ok = maximum is None or value <= maximum
    if not (low_ok and high_ok):
        raise ValueError(
            f"`{name}` must be in [{minimum}, {maximum}]. "
            f"Received: {name}={value}."
        )
    return float(value)


def last_axis(layer, input_shape, min_rank=2):
    """Returns the (known) size of the last axis of `input_shape`.

    Raises a `ValueError` naming `layer` if the input has fewer than
    `min_rank` axes or an undefined last axis, which the layer needs to
    create its weights.
    """
    shape = tuple(input_shape)
    if len(shape) < min_rank:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects inputs "
            f"of rank >= {min_rank}. Received input with shape {shape}."
        )
    if shape[-1] is None:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) needs the last "
            f"axis of its input to be defined. Received shape {shape}."
        )
    return int(shape[-1])
