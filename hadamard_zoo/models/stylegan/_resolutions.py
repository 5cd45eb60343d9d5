"""Resolution checks and the filters-per-resolution rule of the GANs here.

StyleGAN, its DCGAN baseline and SPADE grow (or shrink) an image by
factors of 2 between 4x4 and the output resolution, halving the channels
each time the resolution doubles. Keeping the rule in one place keeps the
generators and discriminators of equal `base_filters` comparable.
"""

from hadamard_zoo.utils.validation import check_int

MIN_RESOLUTION = 4


def check_resolution(name, value):
    """Returns `value` if it is a power of 2 >= 4, else raises."""
    message = (
        f"`{name}` must be a power of 2 >= {MIN_RESOLUTION} (the networks "
        f"grow from, or shrink to, {MIN_RESOLUTION}x{MIN_RESOLUTION} by "
        f"factors of 2). Received: {name}={value!r}."
    )
    try:
        value = check_int(name, value, MIN_RESOLUTION)
    except ValueError as error:
        raise ValueError(message) from error
    if value & (value - 1):
        raise ValueError(message)
    return value


def check_filters(base_filters, max_filters):
    """Validates `base_filters` and `max_filters`, returned as ints."""
    base_filters = check_int("base_filters", base_filters)
    max_filters = check_int("max_filters", max_filters)
    return base_filters, max_filters


def resolutions(resolution):
    """`[4, 8, ..., resolution]`."""
    sizes = [MIN_RESOLUTION]
    while sizes[-1] < resolution:
        sizes.append(2 * sizes[-1])
    return sizes


def filters_at(size, resolution, base_filters, max_filters):
    """Channels at `size`: `base_filters` at `resolution`, doubling at each
    halving of the size, capped at `max_filters`."""
    return min(max_filters, base_filters * (resolution // size))
