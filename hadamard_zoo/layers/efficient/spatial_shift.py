"""Spatial shift of four channel groups (S²-MLP, used by MONet)."""

import keras
from keras import ops

GROUPS = 4


def _check_channels(channels, where):
    if channels is None:
        raise ValueError(
            f"{where} needs the channel (last) axis of its input to be defined."
        )
    if channels % GROUPS:
        raise ValueError(
            f"{where} splits the channels into {GROUPS} equal shift groups, "
            f"so the channel count must be divisible by {GROUPS}. Received "
            f"{channels} channels."
        )


def spatial_shift(inputs):
    """Shifts four channel groups of an image by one pixel each.

    The function form of `SpatialShift`: see that layer for the equation
    and the border behaviour.

    Args:
        inputs: tensor of shape `(batch, height, width, channels)`, with
            `channels` divisible by 4.

    Returns:
        Tensor of the same shape.

    Example:

    >>> import numpy as np
    >>> tuple(spatial_shift(np.ones((2, 5, 5, 8), "float32")).shape)
    (2, 5, 5, 8)
    """
    if len(inputs.shape) != 4:
        raise ValueError(
            "spatial_shift expects inputs of rank 4 (batch, height, width, "
            f"channels). Received input with shape {tuple(inputs.shape)}."
        )
    _check_channels(inputs.shape[-1], "spatial_shift")
    down, up, right, left = ops.split(inputs, GROUPS, axis=-1)
    # Concatenating the kept edge row/column with the shifted rest gives the
    # result of the reference's in-place `x[:, 1:] = x[:, :-1]`, which
    # leaves the vacated border at its old value (edge replication).
    down = ops.concatenate([down[:, :1], down[:, :-1]], axis=1)
    up = ops.concatenate([up[:, 1:], up[:, -1:]], axis=1)
    right = ops.concatenate([right[:, :, :1], right[:, :, :-1]], axis=2)
    left = ops.concatenate([left[:, :, 1:], left[:, :, -1:]], axis=2)
    return ops.concatenate([down, up, right, left], axis=-1)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SpatialShift(keras.layers.Layer):
    """Shifts four channel groups by one pixel: +H, −H, +W, −W (S²-MLP).

    The channels are split into four equal groups; each group moves one
    pixel in its own direction, so a following channel-mixing (dense) map
    sees the four neighbours of every pixel at no parameter cost:

    ```
    q = C / 4
    y[b, i, j,   0q:1q] = x[b, max(i-1, 0),   j,               0q:1q]
    y[b, i, j,   1q:2q] = x[b, min(i+1, H-1), j,               1q:2q]
    y[b, i, j,   2q:3q] = x[b, i,             max(j-1, 0),     2q:3q]
    y[b, i, j,   3q:4q] = x[b, i,             min(j+1, W-1),   3q:4q]
    ```

    Border: the row (column) a group moves away from keeps its own value,
    i.e. the edge is replicated, not zero-padded. That is what the
    in-place PyTorch code of S²-MLP and MONet computes
    (`x[:, 1:] = x[:, :-1]` leaves row 0 untouched), so a MONet trained
    with the reference code sees the same features here.

    The layer has no weights.

    Args:
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`, with
            `channels` divisible by 4 (a `ValueError` otherwise).

    Returns:
        Tensor of the same shape as `inputs`.

    Example:

    >>> import numpy as np
    >>> layer = SpatialShift()
    >>> tuple(layer(np.ones((2, 7, 7, 16), "float32")).shape)
    (2, 7, 7, 16)

    Reference:
        Yu et al., "S²-MLP: Spatial-Shift MLP Architecture for Vision",
        WACV 2022; Cheng et al., "Multilinear Operator Networks", ICLR 2024.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4:
            raise ValueError(
                f"Layer '{self.name}' (SpatialShift) expects inputs of rank "
                "4 (batch, height, width, channels). Received input with "
                f"shape {shape}."
            )
        _check_channels(shape[-1], f"Layer '{self.name}' (SpatialShift)")
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: shape[-1]})

    def call(self, inputs):
        return spatial_shift(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
