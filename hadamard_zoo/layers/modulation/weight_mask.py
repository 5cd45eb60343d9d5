"""WeightMask: a fixed 0/1 mask on the kernel of a wrapped layer."""

import copy

import keras
import numpy as np
from keras import ops

SUPPORTED_LAYERS = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv1D,
    keras.layers.Conv2D,
)


def _supported_names():
    return ", ".join(cls.__name__ for cls in SUPPORTED_LAYERS)


def check_maskable(layer, name="layer"):
    """Raises a `TypeError` unless `layer` is exactly a supported type.

    Subclasses are rejected: `WeightMask` re-implements the forward pass of
    the supported classes, which a subclass may have changed.
    """
    if type(layer) not in SUPPORTED_LAYERS:
        raise TypeError(
            f"`{name}` must be a Keras layer of type {_supported_names()} "
            f"(exactly, not a subclass). Received: {name}={layer!r} "
            f"(type {type(layer).__name__})."
        )
    if getattr(layer, "lora_enabled", False) or getattr(
        layer, "quantization_mode", None
    ):
        raise TypeError(
            f"`{name}` must be a plain float layer: LoRA and quantized "
            f"layers are not supported. Received: {name}={layer.name!r}."
        )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class WeightMask(keras.layers.Wrapper):
    """Wraps a Dense/EinsumDense/Conv1D/Conv2D layer; masks its kernel.

    The wrapped layer's forward pass runs with its kernel multiplied by a
    non-trainable 0/1 mask of the same shape:

    ```
    y = act(x ⊗ (W * M) + b)
    ```

    where `*` is the Hadamard product, `⊗` the wrapped layer's product
    (matmul, einsum or convolution) and `M` the variable `mask` (all ones
    at first). The gradient of `W` is the mask times the gradient of
    `W * M`, so masked weights get exactly zero gradient: once pruned
    (`set_mask` also zeroes them in `W`), they stay zero while the rest of
    the model is fine-tuned with any gradient-based optimizer (weight decay
    keeps a zero at zero as well). This is how `prune_by_magnitude` keeps a
    pruned model sparse.

    The wrapper computes the forward pass itself from the wrapped layer's
    variables and configuration (activation, bias, strides, padding,
    dilation, data format, einsum equation), so calling the wrapped layer
    directly bypasses the mask. Only these exact classes are supported
    (a subclass may have changed the forward pass), without LoRA or
    quantization; anything else raises a `TypeError`.

    Args:
        layer: the layer to wrap: a `keras.layers.Dense`, `EinsumDense`,
            `Conv1D` or `Conv2D` instance, or its serialized form
            (`keras.layers.serialize(layer)`).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: the wrapped layer's input.

    Returns:
        The wrapped layer's output, computed with the masked kernel.

    Weights:
        `mask` (non-trainable, the kernel's shape and the variable dtype,
        initialised to ones) and the wrapped layer's weights, under its
        name (e.g. `dense/kernel`, `dense/bias`).

    Example:

    >>> import numpy as np
    >>> layer = WeightMask(keras.layers.Dense(3, use_bias=False))
    >>> x = np.ones((2, 4), "float32")
    >>> tuple(layer(x).shape)
    (2, 3)
    >>> mask = np.ones((4, 3), "float32")
    >>> mask[:, 0] = 0.0  # prune every input weight of unit 0
    >>> layer.set_mask(mask)
    >>> keras.ops.convert_to_numpy(layer(x))[:, 0].tolist()
    [0.0, 0.0]

    Reference:
        Han et al., "Learning both Weights and Connections for Efficient
        Neural Networks", NeurIPS 2015 (prune, then retrain with the pruned
        weights held at zero);
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation: masks).
    """

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = keras.layers.deserialize(copy.deepcopy(layer))
        check_maskable(layer)
        super().__init__(layer, **kwargs)
        # Dense passes a Keras mask (e.g. of padded sequences) through.
        self.supports_masking = layer.supports_masking

    def build(self, input_shape):
        check_maskable(self.layer)
        super().build(input_shape)
        self.mask = self.add_weight(
            name="mask",
            shape=tuple(self.layer.kernel.shape),
            initializer="ones",
            trainable=False,
        )
        self.input_spec = self.layer.input_spec

    @property
    def masked_kernel(self):
        """The kernel the forward pass uses, `W * M`."""
        return ops.multiply(self.layer.kernel, self.mask)

    def set_mask(self, mask):
        """Sets `M` to `mask` (0/1, the kernel's shape) and zeroes `W * (1-M)`.

        Raises a `ValueError` if the wrapper is not built yet, or if `mask`
        has another shape or values other than 0 and 1.
        """
        if not self.built:
            raise ValueError(
                f"Layer '{self.name}' (WeightMask) must be built (called "
                "once) before `set_mask`."
            )
        mask = np.asarray(keras.ops.convert_to_numpy(mask))
        shape = tuple(self.mask.shape)
        if mask.shape != shape:
            raise ValueError(
                f"`mask` must have the kernel's shape {shape}. Received "
                f"mask with shape {mask.shape}."
            )
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError("`mask` must hold only 0 and 1 values.")
        kernel = keras.ops.convert_to_numpy(self.layer.kernel)
        self.mask.assign(mask.astype(self.mask.dtype))
        self.layer.kernel.assign((kernel * mask).astype(kernel.dtype))

    def call(self, inputs):
        layer = self.layer
        kernel = ops.multiply(layer.kernel, self.mask)
        if isinstance(layer, keras.layers.EinsumDense):
            outputs = ops.einsum(layer.equation, inputs, kernel)
        elif isinstance(layer, keras.layers.Dense):
            outputs = ops.matmul(inputs, kernel)
        else:
            outputs = self._conv(inputs, kernel)
        if layer.bias is not None:
            bias = layer.bias
            if isinstance(layer, keras.layers.Conv1D | keras.layers.Conv2D):
                bias = self._conv_bias(bias)
            outputs = ops.add(outputs, bias)
        if layer.activation is not None:
            outputs = layer.activation(outputs)
        return outputs

    def _conv(self, inputs, kernel):
        layer = self.layer
        padding = layer.padding
        if padding == "causal":  # Conv1D: pad the past only.
            left = layer.dilation_rate[0] * (layer.kernel_size[0] - 1)
            pads = [[0, 0], [left, 0], [0, 0]]
            if layer.data_format == "channels_first":
                pads = [[0, 0], [0, 0], [left, 0]]
            inputs = ops.pad(inputs, pads)
            padding = "valid"
        return ops.conv(
            inputs,
            kernel,
            strides=list(layer.strides),
            padding=padding,
            dilation_rate=layer.dilation_rate,
            data_format=layer.data_format,
        )

    def _conv_bias(self, bias):
        layer = self.layer
        if layer.data_format == "channels_last":
            shape = (1,) * (layer.rank + 1) + (layer.filters,)
        else:
            shape = (1, layer.filters) + (1,) * layer.rank
        return ops.reshape(bias, shape)

    def compute_output_shape(self, input_shape):
        layer = self.layer
        if isinstance(layer, keras.layers.EinsumDense) and layer.built:
            # EinsumDense reports None for the axes its `output_shape`
            # leaves free; the einsum of symbolic tensors knows them.
            outputs = ops.einsum(
                layer.equation,
                keras.KerasTensor(tuple(input_shape)),
                keras.KerasTensor(tuple(layer.kernel.shape)),
            )
            return tuple(outputs.shape)
        return layer.compute_output_shape(input_shape)
