"""Input checks and 2x up-sampling shared by the StyleGAN layers."""

from keras import ops


def check_image_input(layer, shape, what="inputs"):
    """The channels of a `(batch, height, width, channels)` shape.

    Raises a `ValueError` naming the layer and `what` otherwise.
    """
    shape = tuple(shape)
    if len(shape) != 4 or shape[-1] is None:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects {what} "
            "of shape (batch, height, width, channels) with a defined "
            f"channel axis. Received {what} with shape {shape}."
        )
    return int(shape[-1])


def doubled(shape):
    """`(batch, 2 height, 2 width, channels)`, `None` kept."""
    batch, height, width, channels = tuple(shape)
    return (
        batch,
        None if height is None else 2 * height,
        None if width is None else 2 * width,
        channels,
    )


def upsample_nearest_2x(x):
    """Each pixel of NHWC `x` repeated into a 2x2 block."""
    return ops.repeat(ops.repeat(x, 2, axis=1), 2, axis=2)


def _bilinear_2x(x, axis):
    """Doubles `axis` (1 or 2) with the weights (1/4, 3/4) / (3/4, 1/4)."""
    if axis == 1:
        first, last = x[:, :1], x[:, -1:]
    else:
        first, last = x[:, :, :1], x[:, :, -1:]
    padded = ops.concatenate([first, x, last], axis=axis)
    if axis == 1:
        previous, following = padded[:, :-2], padded[:, 2:]
    else:
        previous, following = padded[:, :, :-2], padded[:, :, 2:]
    even = 0.25 * previous + 0.75 * x
    odd = 0.75 * x + 0.25 * following
    shape = list(ops.shape(x))
    shape[axis] = shape[axis] * 2
    return ops.reshape(ops.stack([even, odd], axis=axis + 1), shape)


def upsample_bilinear_2x(x):
    """Bilinear 2x up-sampling of NHWC `x`, half-pixel centres.

    Output pixel `2i` is `(x[i-1] + 3 x[i]) / 4` and `2i + 1` is
    `(3 x[i] + x[i+1]) / 4` along each spatial axis, with the edge pixels
    repeated beyond the border: the separable `[1, 3, 3, 1] / 4` filter of
    StyleGAN2's `upsample_2d`, which pads with zeros instead (darkening
    the border by a quarter), and what `keras.ops.image.resize(...,
    "bilinear")` gives for a factor of 2.
    """
    return _bilinear_2x(_bilinear_2x(x, 1), 2)


def style_input_shapes(layer, input_shape, optional=None):
    """Checks `[x, w]` (or `[x, w, optional]`) and returns their shapes.

    `x` must be `(batch, height, width, channels)` with defined channels
    and `w` `(batch, d_w)` with a defined `d_w`. Returns
    `(x_shape, w_shape, optional_shape_or_None)` as tuples.
    """
    counts = (2,) if optional is None else (2, 3)
    if not (
        isinstance(input_shape, (list, tuple))
        and len(input_shape) in counts
        and all(isinstance(s, (list, tuple)) for s in input_shape)
    ):
        expected = "a list of 2 inputs [x, w]"
        if optional is not None:
            expected += f" or of 3 inputs [x, w, {optional}]"
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects "
            f"{expected}. Received input shape {input_shape}."
        )
    shapes = [tuple(s) for s in input_shape] + [None]
    x_shape, w_shape, optional_shape = shapes[:3]
    check_image_input(layer, x_shape, "features x")
    if len(w_shape) != 2 or w_shape[-1] is None:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) expects latents "
            "w of shape (batch, d_w) with a defined last axis. Received w "
            f"with shape {w_shape}."
        )
    return x_shape, w_shape, optional_shape
