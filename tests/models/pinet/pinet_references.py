"""NumPy references and golden cases of the Π-Net classifiers.

A case's "layer" is a `PiNetImageClassifier` without preprocessor (backbone
plus keras-hub's pooling + Dense head), so the golden files of
`tests/golden/pinet_*.npz` hold inputs, every weight of backbone and head
keyed by variable path (`"ccp/u1_kernel"`, `"stage0_block0/conv1/kernel"`,
`"predictions/kernel"`, ...) and the logits computed by the NumPy forward
pass below. Every backend compares to the same files.
"""

import functools
import importlib
import pathlib
import sys

import numpy as np
from harness import LayerCase

from hadamard_zoo.models.pinet import PiNetBackbone
from hadamard_zoo.models.pinet import PiNetImageClassifier

# The block reference of tests/layers/high_order/test_prod_poly_block.py
# (conv2d, batch_norm, prod_poly_block_reference): one NumPy ResNet block.
_BLOCK_TESTS = pathlib.Path(__file__).parents[2] / "layers" / "high_order"
if str(_BLOCK_TESTS) not in sys.path:
    sys.path.insert(0, str(_BLOCK_TESTS))
block_ref = importlib.import_module("test_prod_poly_block")

NUM_CLASSES = 3


def make_classifier(num_classes=NUM_CLASSES, dtype=None, **backbone_kwargs):
    """A `PiNetImageClassifier` (logits, no preprocessor)."""
    backbone = PiNetBackbone(dtype=dtype, **backbone_kwargs)
    return PiNetImageClassifier(backbone=backbone, num_classes=num_classes)


# ------------------------------------------------------- NumPy forward


def _affine(x, weights, name):
    return x @ weights[f"{name}_kernel"] + weights[f"{name}_bias"]


def ccp_features(z, w, degree):
    """x_1 = U_1 z + u_1; x_n = (U_n z + u_n) * x_{n-1} + x_{n-1}."""
    out = _affine(z, w, "ccp/u1")
    for n in range(2, degree + 1):
        out = _affine(z, w, f"ccp/u{n}") * out + out
    return out


def ncp_features(z, w, degree, skip):
    """x_1 = A_1 z + a_1; x_n = (A_n z + a_n) * (S_n x_{n-1} + s_n),
    plus x_{n-1} with `skip`."""
    out = _affine(z, w, "ncp/a1")
    for n in range(2, degree + 1):
        new = _affine(z, w, f"ncp/a{n}") * _affine(out, w, f"ncp/s{n}")
        out = new + out if skip else new
    return out


def _sub_weights(weights, prefix):
    prefix = prefix + "/"
    return {
        k[len(prefix) :]: v for k, v in weights.items() if k.startswith(prefix)
    }


def prodpoly_features(x, w, kwargs):
    """Stem conv + BN (+ ReLU), then the ProdPolyBlock reference per block."""
    use_activation = kwargs.get("use_activation", False)
    x = block_ref.conv2d(x, w["stem_conv/kernel"], pad=1)  # 3x3 "same"
    x = block_ref.batch_norm(x, w, "stem_norm")
    if use_activation:
        x = np.maximum(x, 0.0)
    for stage, (filters, blocks) in enumerate(
        zip(kwargs["stage_filters"], kwargs["stage_blocks"], strict=True)
    ):
        for block in range(blocks):
            x = block_ref.prod_poly_block_reference(
                [x],
                _sub_weights(w, f"stage{stage}_block{block}"),
                filters,
                strides=2 if stage > 0 and block == 0 else 1,
                use_activation=use_activation,
                normalization=kwargs.get("normalization", "batch"),
                second_order=kwargs.get("second_order", True),
                second_order_projection=kwargs.get(
                    "second_order_projection", False
                ),
            )
    return x


def classifier_reference(inputs, weights, kwargs):
    """images -> backbone -> GlobalAveragePooling2D -> Dense (logits)."""
    (x,) = inputs
    w = {k: v.astype("float64") for k, v in weights.items()}
    x = x.astype("float64")
    architecture = kwargs["architecture"]
    if architecture == "prodpoly":
        features = prodpoly_features(x, w, kwargs)
    else:
        z = x.reshape(x.shape[0], -1)  # Flatten, channels last
        if architecture == "ccp":
            out = ccp_features(z, w, kwargs.get("degree", 4))
        else:
            out = ncp_features(
                z, w, kwargs.get("degree", 4), kwargs.get("skip", False)
            )
        features = out[:, None, None, :]  # the (1, 1, rank) feature map
    pooled = features.mean(axis=(1, 2))
    return pooled @ w["predictions/kernel"] + w["predictions/bias"]


# ------------------------------------------------------------- cases

OVERRIDES = {
    "moving_variance": lambda rng, shape: rng.uniform(0.5, 1.5, shape),
}


def case(name, image_shape, weight_scale=0.5, **kwargs):
    kwargs = dict(image_shape=image_shape, **kwargs)
    return LayerCase(
        name=f"pinet_{name}",
        layer_cls=functools.partial(make_classifier, **kwargs),
        init_kwargs={},
        input_shapes=(3,) + tuple(image_shape),
        reference=lambda x, w: classifier_reference(x, w, kwargs),
        input_range=(0.0, 1.0),
        weight_scale=weight_scale,
        weight_overrides=OVERRIDES,
    )


# The prodpoly cases share their kernel shapes (stem 4, stages (4, 8)), as
# do the classifier tests: JAX compiles its truncated-normal initializer
# once per shape, ~0.5 s each.
CASES = [
    case(
        "ccp_classifier",
        (6, 6, 2),
        weight_scale=0.2,
        architecture="ccp",
        rank=5,
        degree=4,
    ),
    case(
        "ncp_classifier",
        (5, 5, 1),
        weight_scale=0.3,
        architecture="ncp",
        rank=6,
        degree=3,
    ),
    case(
        "ncp_skip_classifier",
        (4, 4, 3),
        weight_scale=0.3,
        architecture="ncp",
        rank=4,
        degree=4,
        skip=True,
    ),
    case(
        "prodpoly_classifier",
        (8, 8, 1),
        architecture="prodpoly",
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(1, 1),
    ),
    case(
        "prodpoly_relu_baseline_classifier",
        (8, 8, 2),
        architecture="prodpoly",
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(2, 1),
        use_activation=True,
        second_order=False,
    ),
    case(
        "prodpoly_ibn_1x1_odd_classifier",
        (7, 7, 1),
        architecture="prodpoly",
        stem_filters=4,
        stage_filters=(4, 8),
        stage_blocks=(1, 1),
        normalization="instance_batch",
        second_order_projection=True,
    ),
]
