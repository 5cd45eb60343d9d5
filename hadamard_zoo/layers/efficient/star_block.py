"""StarNet's block: the "star" (Hadamard) product of two 1x1 expansions."""

import keras
from keras import ops

from hadamard_zoo.layers.base import get_initializer
from hadamard_zoo.layers.efficient.poly_block import drop_path
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

# PyTorch's BatchNorm2d defaults, which the reference uses (Keras momentum
# 0.9 == PyTorch momentum 0.1).
EPSILON = 1e-5
MOMENTUM = 0.9


def _initializer(identifier, name, mode):
    """`identifier`, or PyTorch's default Conv2d init when it is `None`.

    PyTorch's default is U(±1/√fan_in) (kaiming_uniform with a=√5). The
    reference's `_init_weights` tests `isinstance(m, nn.Linear or
    nn.Conv2d)`, which only matches `nn.Linear`, so its convolutions keep
    that default.
    """
    if identifier is None:
        return keras.initializers.VarianceScaling(1.0 / 3.0, mode, "uniform")
    return get_initializer(identifier, name)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StarBlock(keras.layers.Layer):
    """StarNet block: depthwise conv, a star product of two expansions.

    The "star operation" multiplies two linear expansions of the same
    features element-wise, which maps them implicitly into a space of
    pairwise (degree-2) feature products at the cost of a plain MLP:

    ```
    y = BN_1(DWConv_k(x))
    y = ReLU6(f1(y)) * f2(y)                (f1, f2: 1x1, d -> r·d)
    y = DWConv'_k(BN_2(g(y)))               (g: 1x1, r·d -> d)
    out = x + DropPath(y)
    ```

    where `*` is the Hadamard product, `d` the input's channel count, `r =
    mlp_ratio`, `DWConv_k` depthwise `k x k` convolutions with `"same"`
    padding (PyTorch's padding `(k - 1) / 2` for odd `k`), and `BN`
    batch normalizations. Every convolution has a bias; `f1` and `f2` are
    not normalised.

    Args:
        mlp_ratio: int, the expansion `r` of `f1` and `f2`. Defaults to `3`
            (the reference block's default; the StarNet S1-S4 models use
            4).
        kernel_size: odd int, the size `k` of both depthwise convolutions.
            Defaults to `7`.
        drop_path: float in [0, 1), the stochastic-depth rate of the
            residual branch (the identity at inference). Defaults to `0.0`.
        seed: optional int >= 0, the seed of the stochastic-depth draws.
        kernel_initializer: initializer of the 1x1 kernels. Defaults to
            `None`: PyTorch's default `U(±1/√fan_in)`, which the reference's
            convolutions keep.
        depthwise_initializer: initializer of the depthwise kernels.
            Defaults to `None`: the same PyTorch default, with the fan-in of
            one channel's `k x k` window.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Batch normalizations use ε = 1e-5 and a momentum of 0.9 (PyTorch's
    defaults, which the reference uses).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, d)`.
        training: bool, whether the batch normalizations use batch
            statistics (and update their moving averages) and stochastic
            depth is active.

    Returns:
        Tensor of the same shape as `inputs`.

    Example:

    >>> import numpy as np
    >>> block = StarBlock(mlp_ratio=4)
    >>> tuple(block(np.ones((2, 14, 14, 24), "float32")).shape)
    (2, 14, 14, 24)

    Reference:
        Ma et al., "Rewrite the Stars", CVPR 2024.
    """

    def __init__(
        self,
        mlp_ratio=3,
        kernel_size=7,
        drop_path=0.0,
        seed=None,
        kernel_initializer=None,
        depthwise_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.mlp_ratio = check_int("mlp_ratio", mlp_ratio)
        self.kernel_size = check_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(
                "`kernel_size` must be odd (the reference pads (k - 1) / 2 "
                "on every side, which keeps the size only for odd k). "
                f"Received: kernel_size={kernel_size}."
            )
        self.drop_path = check_float("drop_path", drop_path, 0.0, 1.0)
        if self.drop_path == 1.0:
            raise ValueError(
                "`drop_path` must be in [0, 1): a rate of 1 drops every "
                "residual branch. Received: drop_path=1.0."
            )
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.seed_generator = None
        if self.drop_path > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.kernel_initializer = _initializer(
            kernel_initializer, "kernel_initializer", "fan_in"
        )
        # Keras counts a depthwise kernel's fan-in over all input channels
        # (k·k·d) while each output channel sees one (k·k): its "fan_out"
        # (k·k·depth_multiplier) is PyTorch's fan-in of the grouped conv.
        self.depthwise_initializer = _initializer(
            depthwise_initializer, "depthwise_initializer", "fan_out"
        )
        self.input_spec = keras.InputSpec(ndim=4)

    def _depthwise(self, name):
        return keras.layers.DepthwiseConv2D(
            self.kernel_size,
            padding="same",
            depthwise_initializer=self.depthwise_initializer.clone(),
            dtype=self.dtype_policy,
            name=name,
        )

    def _pointwise(self, filters, name):
        return keras.layers.Conv2D(
            filters,
            1,
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

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (StarBlock) expects inputs of rank 4 "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received input with shape {shape}."
            )
        dim = int(shape[-1])
        hidden_shape = shape[:-1] + (self.mlp_ratio * dim,)
        self.dwconv = self._depthwise("dwconv")
        self.dwconv.build(shape)
        self.dwconv_norm = self._batch_norm("dwconv_norm")
        self.dwconv_norm.build(shape)
        self.f1 = self._pointwise(self.mlp_ratio * dim, "f1")
        self.f1.build(shape)
        self.f2 = self._pointwise(self.mlp_ratio * dim, "f2")
        self.f2.build(shape)
        self.g = self._pointwise(dim, "g")
        self.g.build(hidden_shape)
        self.g_norm = self._batch_norm("g_norm")
        self.g_norm.build(shape)
        self.dwconv2 = self._depthwise("dwconv2")
        self.dwconv2.build(shape)
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: dim})

    def call(self, inputs, training=None):
        y = self.dwconv_norm(self.dwconv(inputs), training=training)
        y = ops.relu6(self.f1(y)) * self.f2(y)
        y = self.dwconv2(self.g_norm(self.g(y), training=training))
        if training and self.seed_generator is not None:
            y = drop_path(y, self.drop_path, self.seed_generator)
        return inputs + y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        serialize = keras.initializers.serialize
        config.update(
            {
                "mlp_ratio": self.mlp_ratio,
                "kernel_size": self.kernel_size,
                "drop_path": self.drop_path,
                "seed": self.seed,
                "kernel_initializer": serialize(self.kernel_initializer),
                "depthwise_initializer": serialize(self.depthwise_initializer),
            }
        )
        return config
