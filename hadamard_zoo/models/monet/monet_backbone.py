"""The MONet backbone: a patch-embedding stem and stages of PolyBlocks."""

import keras
import numpy as np
from keras_hub.models import Backbone

from hadamard_zoo.layers.efficient.poly_block import PolyBlock
from hadamard_zoo.layers.efficient.spatial_shift import GROUPS
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

# Architecture arguments of the named MONet variants. They hold no
# `image_shape`, so `MONetBackbone(image_shape=..., **MONET_VARIANTS[name])`
# builds a variant for any image size (the stem's stride must divide it).
MONET_VARIANTS = {
    # The ImageNet models of the paper's public model file.
    "monet_t": dict(
        patch_size=2,
        pyramid_stem=True,
        stage_dims=(64, 128, 192, 192),
        stage_blocks=(4, 8, 12, 10),
        expansion=3,
        low_rank_ratio=8,
    ),
    "monet_s": dict(
        patch_size=2,
        pyramid_stem=True,
        stage_dims=(128, 192, 256, 384),
        stage_blocks=(4, 6, 12, 14),
        expansion=3,
        low_rank_ratio=8,
    ),
    # Not from the paper: a CPU-sized MONet for 28x28 grayscale images,
    # two blocks on 14x14 tokens of width 32, two on 7x7 tokens of width
    # 64 (a training step on 128 images takes ~0.5 s on 2 CPU cores with
    # JAX, an epoch of 60k images ~4 minutes).
    "monet_tiny": dict(
        patch_size=2,
        pyramid_stem=False,
        stage_dims=(32, 64),
        stage_blocks=(2, 2),
        expansion=3,
        low_rank_ratio=8,
    ),
}


def _check_int_sequence(name, value):
    """A non-empty list or tuple of ints >= 1, returned as a tuple."""
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(
            f"`{name}` must be a non-empty tuple of integers >= 1. "
            f"Received: {name}={value!r}."
        )
    return tuple(check_int(name, v) for v in value)


def _check_image_shape(image_shape):
    if not isinstance(image_shape, (list, tuple)) or len(image_shape) != 3:
        raise ValueError(
            "`image_shape` must be a tuple of 3 integers >= 1 "
            "(height, width, channels). "
            f"Received: image_shape={image_shape!r}."
        )
    return tuple(check_int("image_shape", v) for v in image_shape)


def _conv(filters, kernel_size, strides, dtype, name):
    # The reference initialises every Conv2d with lecun_normal, bias 0.
    return keras.layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="valid",
        data_format="channels_last",
        kernel_initializer="lecun_normal",
        bias_initializer="zeros",
        dtype=dtype,
        name=name,
    )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MONetBackbone(PresetNameMixin, Backbone):
    """MONet backbone: a polynomial network of Mu-layers (no activations).

    A functional keras-hub `Backbone`: a patch-embedding stem, then stages
    of `PolyBlock`s separated by strided convolutions. Every block is a
    residual pair of Mu-layers (`PolyMlp`), each of degree 2 in its input
    through a Hadamard product, so the whole network is a polynomial of
    the image with no activation function anywhere:

    ```
    stem:       x = Conv(k=p, s=p)(images)             (patch embedding)
                x = Conv(k=2, s=2)(x)                  (pyramid_stem only)
    stage 0:    x = PolyBlock(x), stage_blocks[0] times, width stage_dims[0]
    stage i>0:  x = Conv3x3(stage_dims[i], s=2, pad=1)(x)     (Downsample)
                x = PolyBlock(x), stage_blocks[i] times
    PolyBlock:  x = x + MuLayer_1(LN(x)); x = x + MuLayer_2(LN(x))
    MuLayer:    o1 = LN(U1 z); o2 = LN(U3 U2 z); C(o1 + α o1 * o2)
    ```

    (the spatial Mu-layer shifts `U1 z` and `U2 z` before `U3`; see
    `PolyBlock` and `PolyMlp`). The output is the last stage's feature
    map; the paper's head (global mean, then a linear layer, no final
    normalisation) is `MONetImageClassifier`.

    The named variants `"monet_t"` and `"monet_s"` (the paper's ImageNet
    models) and `"monet_tiny"` (a CPU-sized model for 28x28 digits, not
    from the paper) are in `MONET_VARIANTS`; build them with
    `MONetBackbone.from_variant(name, image_shape=...)`.

    Differences from the public reference code, all on purpose:

    - the optional multi-level stem branch `x += α_1 · fs3(images)` is not
      implemented: `fs3` is never defined in the public code, and it is
      off in the MONet-T and MONet-S configurations;
    - every stage transition downsamples: the reference's per-stage
      `transitions` flags are all true in MONet-T and MONet-S;
    - the stochastic-depth rate grows linearly over the blocks from 0 to
      `drop_path` (the timm convention), where the public model file gives
      every block the same rate `drop_path`;
    - the image size must be divisible by the stem's stride (PyTorch's
      strided convolution would silently drop the remainder).

    Convolutions are initialised as in the reference (LeCun normal, bias
    0); the Mu-layers initialise themselves (see `PolyMlp`).

    Args:
        image_shape: tuple of 3 ints, `(height, width, channels)` of the
            input images; height and width must be divisible by the stem's
            stride, `patch_size` (times 2 with `pyramid_stem`). Defaults
            to `(224, 224, 3)`.
        patch_size: int, kernel size and stride of the first stem
            convolution. Defaults to `2`.
        pyramid_stem: bool, whether a second `2x2`, stride-2 convolution
            follows (the paper's "pyramid patch embedding", overall stride
            `2 · patch_size`). Defaults to `True`.
        stage_dims: tuple of ints, the width of every stage. Each width
            `d` and `d // low_rank_ratio` must be multiples of 4 (the
            spatial shift's four channel groups). Defaults to
            `(64, 128, 192, 192)` (MONet-T).
        stage_blocks: tuple of ints, the number of `PolyBlock`s of every
            stage, as long as `stage_dims`. Defaults to `(4, 8, 12, 10)`
            (MONet-T).
        expansion: int, the hidden width of the channel Mu-layers in
            multiples of the stage width. Defaults to `3`.
        low_rank_ratio: int, the low-rank ratio of the Mu-layers' second
            branch. Defaults to `8`.
        drop_path: float in [0, 1), the largest stochastic-depth rate: the
            rate of block `j` of `n` is `drop_path · j / (n - 1)`. Defaults
            to `0.0`.
        epsilon: float, ε of every layer normalization. Defaults to `1e-6`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        images: float tensor of shape `(batch,) + image_shape`.

    Returns:
        Tensor of shape `(batch, h, w, stage_dims[-1])`, where `h` is the
        height divided by the stem's stride, then halved (rounding up) by
        each of the `len(stage_dims) - 1` downsampling convolutions; the
        same for `w`.

    Example:

    >>> import numpy as np
    >>> backbone = MONetBackbone(
    ...     image_shape=(16, 16, 3),
    ...     stage_dims=(32, 64),
    ...     stage_blocks=(1, 1),
    ... )
    >>> tuple(backbone(np.ones((2, 16, 16, 3), "float32")).shape)
    (2, 2, 2, 64)
    >>> tiny = MONetBackbone.from_variant("monet_tiny", image_shape=(28, 28, 1))
    >>> tuple(tiny.output.shape)
    (None, 7, 7, 64)

    Reference:
        Cheng, Chrysos, Georgopoulos, Cevher, "Multilinear Operator
        Networks", ICLR 2024;
        Chrysos et al., "Hadamard product in deep learning", section S.2.2.
    """

    def __init__(
        self,
        image_shape=(224, 224, 3),
        patch_size=2,
        pyramid_stem=True,
        stage_dims=(64, 128, 192, 192),
        stage_blocks=(4, 8, 12, 10),
        expansion=3,
        low_rank_ratio=8,
        drop_path=0.0,
        epsilon=1e-6,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        image_shape = _check_image_shape(image_shape)
        patch_size = check_int("patch_size", patch_size)
        pyramid_stem = check_bool("pyramid_stem", pyramid_stem)
        stage_dims = _check_int_sequence("stage_dims", stage_dims)
        stage_blocks = _check_int_sequence("stage_blocks", stage_blocks)
        if len(stage_dims) != len(stage_blocks):
            raise ValueError(
                "`stage_dims` and `stage_blocks` must have the same length "
                f"(one entry per stage). Received: stage_dims={stage_dims} "
                f"and stage_blocks={stage_blocks}."
            )
        expansion = check_int("expansion", expansion)
        low_rank_ratio = check_int("low_rank_ratio", low_rank_ratio)
        for dim in stage_dims:
            low_rank = dim // low_rank_ratio
            if dim % GROUPS or low_rank < 1 or low_rank % GROUPS:
                raise ValueError(
                    f"Every entry `d` of `stage_dims` and `d // "
                    f"low_rank_ratio` must be positive multiples of {GROUPS}"
                    f" (the spatial shift splits both branches into {GROUPS}"
                    f" channel groups). Received: stage_dims={stage_dims} "
                    f"with low_rank_ratio={low_rank_ratio} ({dim} // "
                    f"{low_rank_ratio} = {low_rank})."
                )
        drop_path = check_float("drop_path", drop_path, 0.0, 1.0)
        if drop_path == 1.0:
            raise ValueError(
                "`drop_path` must be in [0, 1): a rate of 1 drops every "
                "residual branch. Received: drop_path=1.0."
            )
        epsilon = check_float("epsilon", epsilon, minimum=0.0)
        stride = patch_size * (2 if pyramid_stem else 1)
        if image_shape[0] % stride or image_shape[1] % stride:
            raise ValueError(
                "The height and width of `image_shape` must be divisible by "
                f"the stem's stride {stride} (`patch_size`, times 2 with "
                f"`pyramid_stem`). Received: image_shape={image_shape}, "
                f"patch_size={patch_size}, pyramid_stem={pyramid_stem}."
            )

        # === Functional model ===
        images = keras.Input(shape=image_shape, name="images")
        x = _conv(stage_dims[0], patch_size, patch_size, dtype, "stem_conv")(
            images
        )
        if pyramid_stem:
            x = _conv(stage_dims[0], 2, 2, dtype, "stem_pyramid_conv")(x)
        rates = np.linspace(0.0, drop_path, sum(stage_blocks))
        index = 0
        for stage, (dim, blocks) in enumerate(
            zip(stage_dims, stage_blocks, strict=True)
        ):
            if stage > 0:
                # PyTorch's Conv2d(3, stride 2, padding=1): a symmetric pad
                # of 1, then "valid". Keras' "same" would pad (0, 1) on even
                # sizes and read other pixels.
                x = keras.layers.ZeroPadding2D(
                    1,
                    data_format="channels_last",
                    dtype=dtype,
                    name=f"stage{stage}_downsample_pad",
                )(x)
                x = _conv(dim, 3, 2, dtype, f"stage{stage}_downsample")(x)
            for block in range(blocks):
                x = PolyBlock(
                    expansion=expansion,
                    low_rank_ratio=low_rank_ratio,
                    drop_path=float(rates[index]),
                    epsilon=epsilon,
                    dtype=dtype,
                    name=f"stage{stage}_block{block}",
                )(x)
                index += 1
        super().__init__(inputs=images, outputs=x, dtype=dtype, **kwargs)

        # === Config ===
        self.image_shape = image_shape
        self.patch_size = patch_size
        self.pyramid_stem = pyramid_stem
        self.stage_dims = stage_dims
        self.stage_blocks = stage_blocks
        self.expansion = expansion
        self.low_rank_ratio = low_rank_ratio
        self.drop_path = drop_path
        self.epsilon = epsilon
        # Read by keras-hub's ImageClassifier for its pooling layer, so the
        # head stays channels-last whatever the global image data format.
        self.data_format = "channels_last"

    @classmethod
    def from_variant(cls, name, **overrides):
        """A backbone of a named variant of `MONET_VARIANTS`.

        Args:
            name: `"monet_t"`, `"monet_s"` or `"monet_tiny"`.
            **overrides: arguments of `MONetBackbone` that replace or add
                to the variant's, e.g. `image_shape` (the variants hold
                none, so the default `(224, 224, 3)` applies unless given).

        Returns:
            A `MONetBackbone`.

        Example:

        >>> backbone = MONetBackbone.from_variant(
        ...     "monet_tiny", image_shape=(28, 28, 1), drop_path=0.1
        ... )
        >>> backbone.stage_dims, backbone.stage_blocks, backbone.drop_path
        ((32, 64), (2, 2), 0.1)
        """
        if name not in MONET_VARIANTS:
            raise ValueError(
                f"Unknown MONet variant {name!r}. Available variants: "
                f"{', '.join(sorted(MONET_VARIANTS))}."
            )
        return cls(**{**MONET_VARIANTS[name], **overrides})

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_shape": self.image_shape,
                "patch_size": self.patch_size,
                "pyramid_stem": self.pyramid_stem,
                "stage_dims": self.stage_dims,
                "stage_blocks": self.stage_blocks,
                "expansion": self.expansion,
                "low_rank_ratio": self.low_rank_ratio,
                "drop_path": self.drop_path,
                "epsilon": self.epsilon,
            }
        )
        return config
