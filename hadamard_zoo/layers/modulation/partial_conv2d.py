"""Partial convolution: a convolution of the valid pixels only."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple

PADDINGS = ("same", "valid")
# Added to the mask count before dividing by it, as NVIDIA's implementation.
EPSILON = 1e-8


def conv_output_length(length, kernel_size, stride, padding, dilation=1):
    """Output length of a convolution along one axis (Keras semantics)."""
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    effective = (kernel_size - 1) * dilation + 1
    return (length - effective) // stride + 1


def check_conv_arguments(kernel_size, strides, padding, dilation_rate):
    """Validated `(kernel_size, strides, padding, dilation_rate)` of a 2D conv.

    Strides and dilation above 1 together are rejected: several backends
    do not implement that combination.
    """
    kernel_size = check_int_tuple("kernel_size", kernel_size, 2)
    strides = check_int_tuple("strides", strides, 2)
    padding = check_choice("padding", padding, PADDINGS)
    dilation_rate = check_int_tuple("dilation_rate", dilation_rate, 2)
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides` > 1 and `dilation_rate` > 1 cannot be combined. "
            f"Received: strides={strides}, dilation_rate={dilation_rate}."
        )
    return kernel_size, strides, padding, dilation_rate


def conv_output_shape(layer, input_shape, filters):
    """`(batch, new_height, new_width, filters)` of a 2D conv `layer`."""
    batch, height, width = tuple(input_shape)[:3]
    height, width = (
        conv_output_length(
            length,
            layer.kernel_size[axis],
            layer.strides[axis],
            layer.padding,
            layer.dilation_rate[axis],
        )
        for axis, length in enumerate((height, width))
    )
    return (batch, height, width, filters)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PartialConv2D(DenseWeightsLayer):
    """Partial convolution: convolves the valid pixels, renormalised.

    A convolution that sees the input only through a binary mask `M`
    (1 = valid, 0 = hole), rescales each window by how much of it was
    valid, and returns an updated mask in which every output position that
    saw at least one valid input becomes valid:

    ```
    sum(M)  = 1 ⊛ M                       valid entries in each window
    M'      = 1[sum(M) > 0]
    ratio   = sum(1) / (sum(M) + ε) * M'  sum(1) = kh · kw · C_in
    output  = ((W ⊛ (X * M)) * ratio + b) * M'
    ```

    where `*` is the Hadamard product, `⊛` the convolution and `1` a
    kernel of ones. A window with no valid entry gives `0` (no bias), and
    `M'` is broadcast to the `filters` output channels. Stacking such layers
    shrinks the holes step by step, as in the U-Net of Liu et al. The mask
    is multi-channel (one value per input channel, as NVIDIA's
    `multi_channel=True` inpainting layers); a mask with a single channel
    is broadcast over the `C_in` channels first. With 0/1 masks this
    equals NVIDIA's implementation (which clips `sum(M)` to [0, 1] for
    `M'`); the formula applies as written to soft masks in [0, 1]. With
    `padding="same"` the zero padding counts as holes, so even a full mask
    renormalises the borders ("partial convolution based padding").

    Args:
        filters: int >= 1, the number of output channels.
        kernel_size: int or tuple of 2 ints. Defaults to `3`.
        strides: int or tuple of 2 ints. Defaults to `1`.
        padding: `"same"` or `"valid"` (Keras semantics). Defaults to
            `"same"`.
        dilation_rate: int or tuple of 2 ints; cannot exceed 1 together
            with `strides`. Defaults to `1`.
        use_bias: bool, whether the convolution has a bias `b`. Defaults
            to `True`.
        kernel_initializer: initializer of `W`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`.
        bias_regularizer: optional regularizer of `b`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list `[x, mask]`: `x` of shape
            `(batch, height, width, C_in)` and `mask` of the same shape (or
            with 1 channel) holding 0/1 values. A bool or integer mask is
            cast to float; any other dtype raises a `TypeError`, and a mask
            of another shape a `ValueError`.

    Returns:
        A tuple `(output, new_mask)`, both of shape
        `(batch, new_height, new_width, filters)`.

    Weights:
        `kernel` `W` of shape `(kh, kw, C_in, filters)`; `bias` `b` of shape
        `(filters,)`.

    Example:

    >>> import numpy as np
    >>> layer = PartialConv2D(filters=8, kernel_size=3)
    >>> x = np.ones((2, 16, 16, 3), "float32")
    >>> mask = np.ones((2, 16, 16, 3), "float32")
    >>> mask[:, 4:12, 4:12, :] = 0.0  # an 8x8 hole
    >>> output, new_mask = layer([x, mask])
    >>> tuple(output.shape), tuple(new_mask.shape)
    ((2, 16, 16, 8), (2, 16, 16, 8))
    >>> float(keras.ops.sum(1.0 - new_mask[0, :, :, 0]))  # now a 6x6 hole
    36.0

    Reference:
        Liu et al., "Image Inpainting for Irregular Holes Using Partial
        Convolutions", ECCV 2018 (implementation: NVIDIA/partialconv,
        `models/partialconv2d.py`);
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation: masks).
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        padding="same",
        dilation_rate=1,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        (
            self.kernel_size,
            self.strides,
            self.padding,
            self.dilation_rate,
        ) = check_conv_arguments(kernel_size, strides, padding, dilation_rate)

    def _input_shapes(self, input_shape):
        shapes = input_shape
        if (
            not isinstance(shapes, (list, tuple))
            or len(shapes) != 2
            or not all(isinstance(s, (list, tuple)) for s in shapes)
        ):
            raise ValueError(
                f"Layer '{self.name}' (PartialConv2D) expects a list of two "
                "inputs [x, mask]. Received input with shape "
                f"{input_shape}."
            )
        return tuple(shapes[0]), tuple(shapes[1])

    def _check_shapes(self, x_shape, mask_shape):
        if len(x_shape) != 4 or x_shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (PartialConv2D) expects x of rank 4 "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received x with shape {x_shape}."
            )
        mismatch = len(mask_shape) != 4 or any(
            m is not None and s is not None and m != s
            for m, s in zip(mask_shape[:3], x_shape[:3], strict=False)
        )
        if not mismatch and mask_shape[-1] not in (None, 1, x_shape[-1]):
            mismatch = True
        if mismatch:
            raise ValueError(
                f"Layer '{self.name}' (PartialConv2D) expects a mask of the "
                f"shape of x, {x_shape}, or with 1 channel. Received mask "
                f"with shape {mask_shape}."
            )

    def _check_mask_dtype(self, mask):
        dtype = keras.backend.standardize_dtype(mask.dtype)
        if dtype != "bool" and not any(
            kind in dtype for kind in ("float", "int")
        ):
            raise TypeError(
                f"Layer '{self.name}' (PartialConv2D) expects a float, int "
                f"or bool mask of 0/1 values. Received mask of dtype {dtype}."
            )

    def build(self, input_shape):
        x_shape, mask_shape = self._input_shapes(input_shape)
        self._check_shapes(x_shape, mask_shape)
        channels = int(x_shape[-1])
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.filters,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        # The mask is checked in `call`, with a message naming it.
        self.input_spec = [keras.InputSpec(ndim=4, axes={-1: channels}), None]

    def _conv(self, inputs, kernel):
        return ops.conv(
            inputs,
            kernel,
            strides=self.strides,
            padding=self.padding,
            dilation_rate=self.dilation_rate,
            data_format="channels_last",
        )

    def call(self, inputs):
        x, mask = self._unpack(inputs)
        channels = x.shape[-1]
        # The mask arithmetic runs in float32: window counts stay exact
        # under mixed precision.
        mask = ops.cast(mask, "float32") * ops.ones((channels,), "float32")
        count = self._conv(
            mask, ops.ones(self.kernel_size + (channels, 1), "float32")
        )
        updated = ops.cast(ops.greater(count, 0.0), "float32")
        window = self.kernel_size[0] * self.kernel_size[1] * channels
        ratio = window / (count + EPSILON) * updated
        dtype = x.dtype
        output = self._conv(x * ops.cast(mask, dtype), self.kernel)
        output = output * ops.cast(ratio, dtype)
        updated = ops.cast(updated, dtype)
        if self.use_bias:
            output = (output + self.bias) * updated
        new_mask = updated * ops.ones((self.filters,), dtype)
        return output, new_mask

    def _unpack(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"Layer '{self.name}' (PartialConv2D) expects a list of two "
                f"inputs [x, mask]. Received: {inputs!r}."
            )
        x, mask = inputs
        self._check_shapes(tuple(x.shape), tuple(mask.shape))
        self._check_mask_dtype(mask)
        return x, mask

    def compute_output_shape(self, input_shape):
        x_shape, _ = self._input_shapes(input_shape)
        shape = conv_output_shape(self, x_shape, self.filters)
        return [shape, shape]

    def compute_output_spec(self, inputs):
        x, mask = self._unpack(inputs)
        shapes = self.compute_output_shape([x.shape, mask.shape])
        return tuple(
            keras.KerasTensor(shape, dtype=self.compute_dtype)
            for shape in shapes
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "dilation_rate": self.dilation_rate,
            }
        )
        return config
