"""MONet's block: a spatial Mu-layer and a channel Mu-layer, residual."""

import keras

from hadamard_zoo.layers.efficient.poly_mlp import PolyMlp
from hadamard_zoo.layers.efficient.spatial_shift import GROUPS
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


def drop_path(inputs, rate, seed):
    """Stochastic depth: drops whole samples of a residual branch.

    Each sample's branch is kept with probability `1 - rate` and then
    scaled by `1 / (1 - rate)` (so its expectation is unchanged), or set to
    zero. Call it only in training.

    Args:
        inputs: tensor `(batch, ...)`, the residual branch.
        rate: float in [0, 1), the drop probability.
        seed: a `keras.random.SeedGenerator` (or int seed).

    Returns:
        Tensor of the same shape as `inputs`.
    """
    noise_shape = (None,) + (1,) * (len(inputs.shape) - 1)
    return keras.random.dropout(
        inputs, rate, noise_shape=noise_shape, seed=seed
    )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolyBlock(keras.layers.Layer):
    """MONet block: token mixing and channel mixing by Mu-layers, residual.

    Two pre-normalised residual sub-blocks, both polynomial (no activation
    function), each of degree 2 in its input:

    ```
    x = x + DropPath(MuLayer_1(LN(x)))      (spatial: k = d, shifted)
    x = x + DropPath(MuLayer_2(LN(x)))      (channel: k = expansion · d)
    ```

    where `MuLayer_1 = PolyMlp(hidden_units=d, use_spatial=True)` mixes each
    pixel with its four neighbours through the spatial shift,
    `MuLayer_2 = PolyMlp(hidden_units=expansion · d)` mixes channels only,
    and `d` is the input's channel count. Both sub-blocks use the same
    layer normalization `LN` (one set of γ, β), as the reference code
    does: it holds a single `self.norm` that it applies before each
    sub-block, and sharing it keeps trained MONet weights loadable.

    Args:
        expansion: int, the hidden width of the channel Mu-layer in
            multiples of `d`. Defaults to `3`, as every MONet stage.
        low_rank_ratio: int, the low-rank ratio of both Mu-layers (see
            `PolyMlp`). With the spatial shift `d` and `d // low_rank_ratio`
            must be divisible by 4. Defaults to `8`, as in MONet.
        drop_path: float in [0, 1), the stochastic-depth rate: in training
            each sample's residual branch is dropped with this probability
            (and the kept ones scaled by `1 / (1 - drop_path)`); the
            identity at inference. Defaults to `0.0`.
        epsilon: float, ε of every layer normalization. Defaults to `1e-6`.
        seed: optional int >= 0, the seed of the stochastic-depth draws.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, height, width, d)`.
        training: bool, whether stochastic depth is active.

    Returns:
        Tensor of the same shape as `inputs`.

    Example:

    >>> import numpy as np
    >>> block = PolyBlock()
    >>> tuple(block(np.ones((2, 8, 8, 64), "float32")).shape)
    (2, 8, 8, 64)

    Reference:
        Cheng et al., "Multilinear Operator Networks", ICLR 2024.
    """

    def __init__(
        self,
        expansion=3,
        low_rank_ratio=8,
        drop_path=0.0,
        epsilon=1e-6,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.expansion = check_int("expansion", expansion)
        self.low_rank_ratio = check_int("low_rank_ratio", low_rank_ratio)
        self.drop_path = check_float("drop_path", drop_path, 0.0, 1.0)
        if self.drop_path == 1.0:
            raise ValueError(
                "`drop_path` must be in [0, 1): a rate of 1 drops every "
                "residual branch. Received: drop_path=1.0."
            )
        self.epsilon = check_float("epsilon", epsilon, minimum=0.0)
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.seed_generator = None
        if self.drop_path > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        self.input_spec = keras.InputSpec(ndim=4)

    def build(self, input_shape):
        shape = tuple(input_shape)
        if len(shape) != 4 or shape[-1] is None:
            raise ValueError(
                f"Layer '{self.name}' (PolyBlock) expects inputs of rank 4 "
                "(batch, height, width, channels) with a defined channel "
                f"axis. Received input with shape {shape}."
            )
        dim = int(shape[-1])
        low_rank = dim // self.low_rank_ratio
        if dim % GROUPS or low_rank < 1 or low_rank % GROUPS:
            raise ValueError(
                f"Layer '{self.name}' (PolyBlock): the spatial Mu-layer "
                f"shifts {GROUPS} equal channel groups of its {dim}-wide "
                f"and {dim} // low_rank_ratio = {low_rank}-wide branches, "
                f"so both must be positive multiples of {GROUPS}. Received "
                f"{dim} channels with low_rank_ratio={self.low_rank_ratio}."
            )
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=self.dtype_policy, name="norm"
        )
        self.norm.build(shape)
        self.mlp1 = PolyMlp(
            hidden_units=dim,
            use_spatial=True,
            low_rank_ratio=self.low_rank_ratio,
            epsilon=self.epsilon,
            dtype=self.dtype_policy,
            name="mlp1",
        )
        self.mlp1.build(shape)
        self.mlp2 = PolyMlp(
            hidden_units=self.expansion * dim,
            low_rank_ratio=self.low_rank_ratio,
            epsilon=self.epsilon,
            dtype=self.dtype_policy,
            name="mlp2",
        )
        self.mlp2.build(shape)
        self.input_spec = keras.InputSpec(ndim=4, axes={-1: dim})

    def _branch(self, outputs, training):
        if training and self.seed_generator is not None:
            return drop_path(outputs, self.drop_path, self.seed_generator)
        return outputs

    def call(self, inputs, training=None):
        x = inputs + self._branch(self.mlp1(self.norm(inputs)), training)
        return x + self._branch(self.mlp2(self.norm(x)), training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "expansion": self.expansion,
                "low_rank_ratio": self.low_rank_ratio,
                "drop_path": self.drop_path,
                "epsilon": self.epsilon,
                "seed": self.seed,
            }
        )
        return config
