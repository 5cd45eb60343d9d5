import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.style.pixel_normalization import (
    PixelNormalization,
)


def pixel_norm_reference(inputs, weights, epsilon=1e-8, axis=-1):
    """Each vector along `axis`, moved last, divided by its RMS (loops)."""
    x = inputs[0].astype("float64")
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % x.ndim for a in axes)
    rest = [a for a in range(x.ndim) if a not in axes]
    moved = np.transpose(x, rest + list(axes))
    flat = moved.reshape(-1, int(np.prod([x.shape[a] for a in axes])))
    out = np.empty_like(flat)
    for row in range(flat.shape[0]):
        vector = flat[row]
        out[row] = vector / np.sqrt(np.sum(vector**2) / vector.size + epsilon)
    out = out.reshape(moved.shape)
    return np.transpose(out, np.argsort(rest + list(axes)))


CASES = [
    LayerCase(
        name="pixel_norm_channels",
        layer_cls=PixelNormalization,
        init_kwargs=dict(),
        input_shapes=(2, 3, 3, 4),
        reference=pixel_norm_reference,
    ),
    LayerCase(
        name="pixel_norm_latent_rank2",
        layer_cls=PixelNormalization,
        init_kwargs=dict(epsilon=1e-3),
        input_shapes=(3, 6),
        reference=lambda x, w: pixel_norm_reference(x, w, epsilon=1e-3),
    ),
    LayerCase(
        name="pixel_norm_spatial_axes",
        layer_cls=PixelNormalization,
        init_kwargs=dict(axis=(1, 2)),
        input_shapes=(2, 3, 2, 3),
        reference=lambda x, w: pixel_norm_reference(x, w, axis=(1, 2)),
    ),
]

# No weights: the training check, which trains the layer alone, has
# nothing to update.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_output_has_unit_rms_per_pixel():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 5.0, (2, 4, 4, 6)).astype("float32")
    y = _numpy(PixelNormalization()(x)).astype("float64")
    np.testing.assert_allclose(np.mean(y**2, axis=-1), 1.0, rtol=1e-5)


def test_invariant_to_positive_scaling_of_each_pixel():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 3, 5)).astype("float32")
    scale = rng.uniform(0.5, 20.0, (2, 3, 3, 1)).astype("float32")
    layer = PixelNormalization()
    np.testing.assert_allclose(
        _numpy(layer(x * scale)), _numpy(layer(x)), atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epsilon=-1e-8), "epsilon"),
        (dict(epsilon="tiny"), "epsilon"),
        (dict(axis="last"), "axis"),
        (dict(axis=()), "axis"),
        (dict(axis=(1, 1)), "axis"),
        (dict(axis=True), "axis"),
        (dict(axis=1.0), "axis"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PixelNormalization(**kwargs)


def test_axis_outside_the_input_rejected():
    with pytest.raises(ValueError, match="axis=3"):
        PixelNormalization(axis=3)(np.zeros((2, 5), "float32"))
