"""The Π-Net backbone: CCP / NCP polynomials and product-of-polynomials."""

import keras
from keras_hub.models import Backbone

from hadamard_zoo.layers.high_order.ccp import CCP
from hadamard_zoo.layers.high_order.ncp import NCP
from hadamard_zoo.layers.high_order.prod_poly_block import EPSILON
from hadamard_zoo.layers.high_order.prod_poly_block import MOMENTUM
from hadamard_zoo.layers.high_order.prod_poly_block import NORMALIZATIONS
from hadamard_zoo.layers.high_order.prod_poly_block import ProdPolyBlock
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int

ARCHITECTURES = ("ccp", "ncp", "prodpoly")


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


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PiNetBackbone(PresetNameMixin, Backbone):
    """Π-Net backbone: a polynomial of the input image (Π-Nets).

    A functional keras-hub `Backbone` whose output is a polynomial of the
    input image built from Hadamard products, in one of three forms:

    - `"ccp"`: the coupled CP polynomial of the flattened image,
      `x_1 = U_1ᵀz, x_n = (U_nᵀz) * x_{n-1} + x_{n-1}` (see `CCP`);
    - `"ncp"`: the nested CP polynomial,
      `x_1 = A_1ᵀz, x_n = (A_nᵀz) * (S_nᵀx_{n-1} + s_n) [+ x_{n-1}]`
      (see `NCP`);
    - `"prodpoly"`: a product of polynomials, a ResNet whose blocks each
      add the second-order term `α · N(out * sc)` (see `ProdPolyBlock`),
      so `B` blocks give a polynomial of degree up to `2^B`.

    Structure (`*` is the Hadamard product):

    ```
    ccp / ncp:  images -> Flatten -> CCP / NCP(rank, degree) -> x_N
                -> Reshape to (1, 1, rank)
    prodpoly:   images -> Conv3x3(stem_filters) -> BN [-> ReLU]
                -> stage 1: stage_blocks[0] x ProdPolyBlock(stage_filters[0])
                -> stage i: first block strided 2, then stride 1
                -> feature map (H / 2^(S-1), W / 2^(S-1), stage_filters[-1])
    ```

    The CCP / NCP expansion `x_N` is returned as a `(1, 1, rank)` feature
    map so that keras-hub's `ImageClassifier` head applies unchanged: its
    global average pooling over a 1x1 map is the identity, and its `Dense`
    layer is then exactly the survey's output map `y = C x_N + β`
    (`fc_out`). The same `ImageClassifier` head therefore serves all three
    architectures, and `from_preset` needs no Π-Net specific code.

    The images are expected already scaled (e.g. to [0, 1]) by the
    preprocessor: a polynomial without normalisation is sensitive to the
    input scale.

    Args:
        architecture: `"ccp"`, `"ncp"` or `"prodpoly"`.
        image_shape: tuple of 3 ints, `(height, width, channels)` of the
            input images. Defaults to `(28, 28, 1)`.
        rank: int, the CP rank `k` (ccp / ncp only). Defaults to `16`.
        degree: int, the polynomial degree `N` (ccp / ncp only). Defaults
            to `4`.
        skip: bool, NCP-Skip's `+ x_{n-1}` (ncp only). Defaults to `False`.
        stem_filters: int, the channels of the stem convolution (prodpoly
            only). Defaults to `16`.
        stage_filters: tuple of ints, the channels of every stage
            (prodpoly only). Defaults to `(16, 32, 64)`.
        stage_blocks: tuple of ints, the number of blocks of every stage,
            as long as `stage_filters` (prodpoly only). Defaults to
            `(2, 2, 2)`.
        use_activation: bool, whether the stem and the blocks use ReLU
            (prodpoly only; `False` gives a pure polynomial). Defaults to
            `False`.
        normalization: the first normalization of every block, `"batch"`,
            `"instance"` or `"instance_batch"` (prodpoly only, see
            `ProdPolyBlock`). Defaults to `"batch"`.
        second_order: bool, whether the blocks have the second-order term
            (prodpoly only; `False` gives the plain ResNet baseline).
            Defaults to `True`.
        second_order_projection: bool, the Π-Net "1x1" variant of the
            blocks (prodpoly only). Defaults to `False`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    The arguments of the architectures not chosen are validated and kept
    in the config, but unused.

    Call arguments:
        images: float tensor of shape `(batch,) + image_shape`.

    Returns:
        ccp / ncp: tensor of shape `(batch, 1, 1, rank)`; prodpoly: tensor
        of shape `(batch, ceil(H / 2^(S-1)), ceil(W / 2^(S-1)),
        stage_filters[-1])` with `S = len(stage_filters)`.

    Example:

    >>> import numpy as np
    >>> backbone = PiNetBackbone("ccp", image_shape=(28, 28, 1), rank=16)
    >>> tuple(backbone(np.ones((2, 28, 28, 1), "float32")).shape)
    (2, 1, 1, 16)
    >>> backbone = PiNetBackbone(
    ...     "prodpoly",
    ...     image_shape=(8, 8, 3),
    ...     stem_filters=4,
    ...     stage_filters=(4, 8),
    ...     stage_blocks=(1, 1),
    ... )
    >>> tuple(backbone(np.ones((2, 8, 8, 3), "float32")).shape)
    (2, 4, 4, 8)

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        Chrysos et al., "Deep Polynomial Neural Networks", TPAMI 2021;
        Chrysos et al., "Hadamard product in deep learning", section on
        high-order interactions (S.2.2).
    """

    def __init__(
        self,
        architecture,
        image_shape=(28, 28, 1),
        rank=16,
        degree=4,
        skip=False,
        stem_filters=16,
        stage_filters=(16, 32, 64),
        stage_blocks=(2, 2, 2),
        use_activation=False,
        normalization="batch",
        second_order=True,
        second_order_projection=False,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        architecture = check_choice("architecture", architecture, ARCHITECTURES)
        image_shape = _check_image_shape(image_shape)
        rank = check_int("rank", rank)
        degree = check_int("degree", degree)
        skip = check_bool("skip", skip)
        stem_filters = check_int("stem_filters", stem_filters)
        stage_filters = _check_int_sequence("stage_filters", stage_filters)
        stage_blocks = _check_int_sequence("stage_blocks", stage_blocks)
        if len(stage_filters) != len(stage_blocks):
            raise ValueError(
                "`stage_filters` and `stage_blocks` must have the same "
                f"length (one entry per stage). Received: stage_filters="
                f"{stage_filters} and stage_blocks={stage_blocks}."
            )
        use_activation = check_bool("use_activation", use_activation)
        normalization = check_choice(
            "normalization", normalization, NORMALIZATIONS
        )
        second_order = check_bool("second_order", second_order)
        second_order_projection = check_bool(
            "second_order_projection", second_order_projection
        )
        if second_order_projection and not second_order:
            raise ValueError(
                "`second_order_projection=True` needs `second_order=True`. "
                "Received: second_order=False, second_order_projection=True."
            )

        # === Functional model ===
        images = keras.Input(shape=image_shape, name="images")
        if architecture == "prodpoly":
            x = keras.layers.Conv2D(
                stem_filters,
                3,
                padding="same",
                use_bias=False,
                kernel_initializer="he_normal",
                dtype=dtype,
                name="stem_conv",
            )(images)
            x = keras.layers.BatchNormalization(
                momentum=MOMENTUM,
                epsilon=EPSILON,
                dtype=dtype,
                name="stem_norm",
            )(x)
            if use_activation:
                x = keras.layers.ReLU(dtype=dtype, name="stem_relu")(x)
            for stage, (filters, blocks) in enumerate(
                zip(stage_filters, stage_blocks, strict=True)
            ):
                for block in range(blocks):
                    x = ProdPolyBlock(
                        filters,
                        strides=2 if stage > 0 and block == 0 else 1,
                        use_activation=use_activation,
                        normalization=normalization,
                        second_order=second_order,
                        second_order_projection=second_order_projection,
                        dtype=dtype,
                        name=f"stage{stage}_block{block}",
                    )(x)
        else:
            x = keras.layers.Flatten(dtype=dtype, name="flatten")(images)
            if architecture == "ccp":
                polynomial = CCP(rank, degree, dtype=dtype, name="ccp")
            else:
                polynomial = NCP(
                    rank, degree, skip=skip, dtype=dtype, name="ncp"
                )
            x = polynomial(x)
            # A 1x1 feature map: the ImageClassifier head's pooling is then
            # the identity and its Dense layer the survey's `C` (fc_out).
            x = keras.layers.Reshape(
                (1, 1, rank), dtype=dtype, name="to_feature_map"
            )(x)
        super().__init__(inputs=images, outputs=x, dtype=dtype, **kwargs)

        # === Config ===
        self.architecture = architecture
        self.image_shape = image_shape
        self.rank = rank
        self.degree = degree
        self.skip = skip
        self.stem_filters = stem_filters
        self.stage_filters = stage_filters
        self.stage_blocks = stage_blocks
        self.use_activation = use_activation
        self.normalization = normalization
        self.second_order = second_order
        self.second_order_projection = second_order_projection
        # Read by keras-hub's ImageClassifier for its pooling layer, so the
        # head stays channels-last whatever the global image data format.
        self.data_format = "channels_last"

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "architecture": self.architecture,
                "image_shape": self.image_shape,
                "rank": self.rank,
                "degree": self.degree,
                "skip": self.skip,
                "stem_filters": self.stem_filters,
                "stage_filters": self.stage_filters,
                "stage_blocks": self.stage_blocks,
                "use_activation": self.use_activation,
                "normalization": self.normalization,
                "second_order": self.second_order,
                "second_order_projection": self.second_order_projection,
            }
        )
        return config
