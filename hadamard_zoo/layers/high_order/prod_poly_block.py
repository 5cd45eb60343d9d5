"""Product-of-polynomials residual block (Π-Nets / R-PolyNets)."""

import keras
from keras import ops

from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.layers.high_order.instance_batch_normalization import (
    InstanceBatchNormalization,
)
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple

NORMALIZATIONS = ("batch", "instance", "instance_batch")
# PyTorch's BatchNorm2d / InstanceNorm2d defaults, which the reference code
# uses (Keras momentum 0.9 == PyTorch momentum 0.1).
EPSILON = 1e-5
MOMENTUM = 0.9
IBN_RATIO = 0.8


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class ProdPolyBlock(keras.layers.Layer):
    """Residual block with a learnable second-order (Hadamard) term.

    The block of the Π-Nets and R-PolyNets product-of-polynomials ResNets:
    a ResNet basic block whose output also carries the Hadamard product of
    its residual branch with its shortcut, a degree-2 term, so a stack of
    `B` blocks is a polynomial of degree up to `2^B` of the input even
    without activation functions:

    ```
    out = N_2(conv3x3(σ(N_1(conv3x3_s(x)))))
    sc  = x                                 if s == 1 and C_in == filters
        = BN_sc(conv1x1_s(x))               otherwise
    so  = N_3(out * sc)                     (Π-Net "1x1" variant:
                                             N_3(conv1x1(out * sc)))
    y   = σ(out + sc + α · so)
    y   = σ(out + sc)                       (second_order=False)
    ```

    where `*` is the Hadamard product, `s` the stride, `σ` the activation
    (the identity when `use_activation=False`), α a learnable scalar that
    starts at 0 (so the block starts as a plain residual block), `N_2`,
    `N_3` and `BN_sc` batch normalizations and `N_1` the normalization
    chosen by `normalization`. The convolutions have no bias. The strided
    3x3 convolution pads one pixel on every side, as the reference PyTorch
    code does, so it and the strided 1x1 shortcut sample the same pixels
    and `out * sc` multiplies aligned features (Keras' `"same"` padding
    would shift the 3x3 window by half a stride on even inputs).

    With `second_order=False` the block has no second-order term (no `α`,
    no `N_3`, no projection): it is the plain ResNet basic block, so a
    network built from these blocks is the baseline of the same network
    with the Hadamard term, one flag apart.

    Args:
        filters: int, the number of output channels.
        strides: int or tuple of 2 ints, the stride `s` of the first 3x3
            convolution and of the shortcut projection. Defaults to `1`.
        use_activation: bool, whether `σ` is `activation` (Π-Net with
            ReLU) or the identity (a pure polynomial block). Defaults to
            `False`.
        activation: the activation used when `use_activation=True`.
            Defaults to `"relu"`.
        normalization: `N_1`: `"batch"` (batch normalization), `"instance"`
            (instance normalization with affine scale and offset) or
            `"instance_batch"` (R-PolyNets' IBN: the first 80% of the
            channels instance-normalised, the others batch-normalised, see
            `InstanceBatchNormalization`). Defaults to `"batch"`.
        second_order: bool, whether the block has the second-order term
            `α · so` (a Π-Net block) or not (a plain ResNet basic block,
            `y = σ(out + sc)`). Defaults to `True`.
        second_order_projection: bool, whether a bias-free 1x1 convolution
            mixes the channels of `out * sc` before `N_3` (the Π-Net "1x1"
            variant, and R-PolyNets). Must be `False` when
            `second_order=False`. Defaults to `False`.
        kernel_initializer: initializer of the convolution kernels.
            Defaults to `"he_normal"`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    All normalizations use ε = 1e-5 and batch normalizations a momentum of
    0.9 (PyTorch's defaults, which the reference code uses).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, channels)`.
        training: bool, whether the batch normalizations use batch
            statistics (and update their moving averages).

    Returns:
        Tensor of shape `(batch, ceil(height / s), ceil(width / s),
        filters)`.

    Example:

    >>> import numpy as np
    >>> block = ProdPolyBlock(filters=16, strides=2)
    >>> tuple(block(np.ones((2, 32, 32, 8), "float32")).shape)
    (2, 16, 16, 16)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Regularization of polynomial networks for image
        recognition", CVPR 2023 (R-PolyNets);
        Chrysos et al., "Hadamard product in deep learning", section on
        high-order interactions (product of polynomials).
    """

    def __init__(
        self,
        filters,
        strides=1,
        use_activation=False,
        activation="relu",
        normalization="batch",
        second_order=True,
        second_order_projection=False,
        kernel_initializer="he_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.strides = check_int_tuple("strides", strides, 2)
        self.use_activation = check_bool("use_activation", use_activation)
        self.activation = get_activation(activation)
        if self.use_activation and self.activation is None:
            raise ValueError(
                "`activation` must be set when `use_activation=True`. "
                f"Received: activation={activation!r}."
            )
        self.normalization = check_choice(
            "normalization", normalization, NORMALIZATIONS
        )
        self.second_order = check_bool("second_order", second_order)
        self.second_order_projection = check_bool(
            "second_order_projection", second_order_projection
        )
        if self.second_order_projection and not self.second_order:
            raise ValueError(
                "`second_order_projection=True` needs `second_order=True` "
                "(without the second-order term there is nothing to "
                "project). Received: second_order=False, "
                "second_order_projection=True."
            )
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.input_spec = keras.InputSpec(ndim=4)

    def _conv(self, kernel_size, name, strides=1, padding="same"):
        return keras.layers.Conv2D(
            self.filters,
            kernel_size,
            strides=strides,
            padding=padding,
            use_bias=False,
            # An unseeded Keras initializer draws the same values at every
            # call: one clone per convolution keeps them distinct.
            kernel_initializer=self.kernel_initializer.clone(),
            dtype=self.dtype_policy,
            name=name,
        )

    def _batch_norm(self, name):
        return keras.layers.BatchNormalization(
            momentum=MOMENTUM,
            epsilon=EPSILON,
            dtype=self.dtype_policy,
            name=name,
        )

    def _first_norm(self):
        if self.normalization == "instance":
            return keras.layers.GroupNormalization(
                groups=-1,
                epsilon=EPSILON,
                dtype=self.dtype_policy,
                name="norm1",
            )
        if self.normalization == "instance_batch":
            return InstanceBatchNormalization(
                ratio=IBN_RATIO,
                epsilon=EPSILON,
                momentum=MOMENTUM,
                dtype=self.dtype_policy,
                name="norm1",
            )
        return self._batch_norm("norm1")

    @property
    def _strided(self):
        return self.strides != (1, 1)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (ProdPolyBlock) expects inputs of rank "
                "4 (batch, height, width, channels) with a defined channel "
                f"axis. Received input with shape {shape}."
            )
        channels = int(shape[-1])
        # Strided: explicit symmetric padding of 1 in call, then "valid".
        self.conv1 = self._conv(
            3,
            "conv1",
            strides=self.strides,
            padding="valid" if self._strided else "same",
        )
        conv1_input = shape
        if self._strided:
            conv1_input = (
                shape[0],
                None if shape[1] is None else shape[1] + 2,
                None if shape[2] is None else shape[2] + 2,
                channels,
            )
        self.conv1.build(conv1_input)
        out_shape = self.conv1.compute_output_shape(conv1_input)
        self.norm1 = self._first_norm()
        self.norm1.build(out_shape)
        self.conv2 = self._conv(3, "conv2")
        self.conv2.build(out_shape)
        self.norm2 = self._batch_norm("norm2")
        self.norm2.build(out_shape)

        self.shortcut_conv = self.shortcut_norm = None
        if self._strided or channels != self.filters:
            self.shortcut_conv = self._conv(
                1, "shortcut_conv", strides=self.strides, padding="valid"
            )
            self.shortcut_conv.build(shape)
            self.shortcut_norm = self._batch_norm("shortcut_norm")
            self.shortcut_norm.build(out_shape)

        self.second_order_conv = None
        self.second_order_norm = self.alpha = None
        if self.second_order_projection:
            self.second_order_conv = self._conv(1, "second_order_conv")
            self.second_order_conv.build(out_shape)
        if self.second_order:
            self.second_order_norm = self._batch_norm("second_order_norm")
            self.second_order_norm.build(out_shape)
            self.alpha = self.add_weight(
                name="alpha", shape=(), initializer="zeros"
            )
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: channels})

    def _act(self, x):
        return self.activation(x) if self.use_activation else x

    def call(self, inputs, training=None):
        x = inputs
        if self._strided:
            x = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
        out = self.conv1(x)
        if self.normalization == "instance":
            out = self.norm1(out)
        else:
            out = self.norm1(out, training=training)
        out = self.norm2(self.conv2(self._act(out)), training=training)

        shortcut = inputs
        if self.shortcut_conv is not None:
            shortcut = self.shortcut_norm(
                self.shortcut_conv(inputs), training=training
            )

        if not self.second_order:
            return self._act(out + shortcut)
        second_order = out * shortcut
        if self.second_order_conv is not None:
            second_order = self.second_order_conv(second_order)
        second_order = self.second_order_norm(second_order, training=training)
        return self._act(out + shortcut + self.alpha * second_order)

    def compute_output_shape(self, input_shape):
        batch, height, width = tuple(input_shape)[:3]
        height = None if height is None else -(-height // self.strides[0])
        width = None if width is None else -(-width // self.strides[1])
        return (batch, height, width, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "strides": self.strides,
                "use_activation": self.use_activation,
                "activation": serialize_activation(self.activation),
                "normalization": self.normalization,
                "second_order": self.second_order,
                "second_order_projection": self.second_order_projection,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config
