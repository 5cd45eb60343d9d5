"""NumPy references and golden cases of the MONet classifiers.

A case's "layer" is a `MONetImageClassifier` without preprocessor (backbone
plus keras-hub's pooling + Dense head), so the golden files of
`tests/golden/monet_*.npz` hold inputs, every weight of backbone and head
keyed by variable path (`"stem_conv/kernel"`, `"stage1_downsample/bias"`,
`"stage0_block0/mlp1/u1_kernel"`, `"predictions/kernel"`, ...) and the
logits computed by the NumPy forward pass below. Every backend compares to
the same files.
"""

import functools
import importlib
import pathlib
import sys

from harness import LayerCase

from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.monet.monet_image_classifier import (
    MONetImageClassifier,
)

_TESTS = pathlib.Path(__file__).parents[2]
for _folder in ("layers/efficient", "layers/high_order"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))
# PolyBlock's reference (tests/layers/efficient/test_poly_block.py), built on
# those of PolyMlp and the spatial shift, and the NHWC cross-correlation of
# tests/layers/high_order/test_prod_poly_block.py.
poly_block_reference = importlib.import_module(
    "test_poly_block"
).poly_block_reference
conv2d = importlib.import_module("test_prod_poly_block").conv2d

NUM_CLASSES = 3


def make_classifier(num_classes=NUM_CLASSES, dtype=None, **backbone_kwargs):
    """A `MONetImageClassifier` (logits, no preprocessor)."""
    backbone = MONetBackbone(dtype=dtype, **backbone_kwargs)
    return MONetImageClassifier(backbone=backbone, num_classes=num_classes)


# ------------------------------------------------------- NumPy forward


def _sub_weights(weights, prefix):
    prefix = prefix + "/"
    return {
        k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)
    }


def _conv(x, w, name, stride, pad=0):
    """Conv2d with bias, PyTorch padding semantics (`pad` on every side)."""
    return conv2d(x, w[f"{name}/kernel"], stride, pad) + w[f"{name}/bias"]


def backbone_reference(x, w, kwargs):
    """Stem (patch conv [+ 2x2 pyramid conv]), then per stage: Downsample
    (3x3, stride 2, pad 1; not before stage 0) and the PolyBlocks."""
    patch = kwargs.get("patch_size", 2)
    epsilon = kwargs.get("epsilon", 1e-6)
    x = _conv(x, w, "stem_conv", patch)
    if kwargs.get("pyramid_stem", True):
        x = _conv(x, w, "stem_pyramid_conv", 2)
    for stage, blocks in enumerate(kwargs["stage_blocks"]):
        if stage > 0:
            x = _conv(x, w, f"stage{stage}_downsample", 2, pad=1)
        for block in range(blocks):
            x = poly_block_reference(
                [x], _sub_weights(w, f"stage{stage}_block{block}"), epsilon
            )
    return x


def classifier_reference(inputs, weights, kwargs):
    """images -> backbone -> global mean -> Dense (logits)."""
    (x,) = inputs
    w = {k: v.astype("float64") for k, v in weights.items()}
    features = backbone_reference(x.astype("float64"), w, kwargs)
    pooled = features.mean(axis=(1, 2))
    return pooled @ w["predictions/kernel"] + w["predictions/bias"]


def parameter_count(
    channels,
    patch_size,
    pyramid_stem,
    stage_dims,
    stage_blocks,
    expansion,
    low_rank_ratio,
):
    """Weights of a MONet backbone, counted from the paper's layer shapes.

    Conv(k x k, c -> d) has k²cd + d; a Mu-layer of input d, hidden k and
    rank k // ratio has U1 (dk + k), U2 (d r + r), U3 (r k + k), two
    LayerNorms over k (4k), α (1) and C (kd + d); a PolyBlock has one
    shared LayerNorm (2d), a spatial Mu-layer (k = d) and a channel one
    (k = expansion · d).
    """

    def mu_layer(d, k):
        r = k // low_rank_ratio
        return (d * k + k) + (d * r + r) + (r * k + k) + 4 * k + 1 + (k * d + d)

    def conv(k, c, d):
        return k * k * c * d + d

    d0 = stage_dims[0]
    total = conv(patch_size, channels, d0)
    if pyramid_stem:
        total += conv(2, d0, d0)
    for stage, (d, blocks) in enumerate(
        zip(stage_dims, stage_blocks, strict=True)
    ):
        if stage > 0:
            total += conv(3, stage_dims[stage - 1], d)
        block = 2 * d + mu_layer(d, d) + mu_layer(d, expansion * d)
        total += blocks * block
    return total


# ------------------------------------------------------------- cases


def case(name, image_shape, weight_scale=0.5, **kwargs):
    kwargs = dict(image_shape=image_shape, **kwargs)
    return LayerCase(
        name=f"monet_{name}",
        layer_cls=functools.partial(make_classifier, **kwargs),
        init_kwargs={},
        input_shapes=(3,) + tuple(image_shape),
        reference=lambda x, w: classifier_reference(x, w, kwargs),
        input_range=(0.0, 1.0),
        weight_scale=weight_scale,
    )


CASES = [
    # Pyramid stem: 12x12 -> 6x6 -> 3x3 tokens, then an odd-sized
    # downsample 3x3 -> 2x2 (PyTorch's pad 1 on every side).
    case(
        "pyramid_classifier",
        (12, 12, 2),
        patch_size=2,
        stage_dims=(8, 16),
        stage_blocks=(1, 1),
        low_rank_ratio=2,
    ),
    # No pyramid, non-square 10x6 -> 5x3 -> 3x2 -> 2x1, three stages with
    # equal widths at the last transition (as MONet-T's), two blocks in
    # stage 0, expansion 2 and another epsilon.
    case(
        "flat_three_stage_classifier",
        (10, 6, 3),
        weight_scale=0.4,
        patch_size=2,
        pyramid_stem=False,
        stage_dims=(4, 8, 8),
        stage_blocks=(2, 1, 1),
        expansion=2,
        low_rank_ratio=1,
        epsilon=1e-5,
    ),
]
