import math

import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d

from hadamard_zoo.layers.modulation.style.modulated_conv2d import (
    ModulatedConv2D,
)


def modulated_conv_reference(
    inputs,
    weights,
    demodulate=True,
    upsample=False,
    epsilon=1e-8,
    prefix="",
):
    """StyleGAN2's fused form: one modulated kernel per sample, by loops.

    s = A(w); W'_b = s_b * W; W''_b = W'_b / ||W'_b[..., o]||; y_b = W''_b ⊛
    x_b, with the equalized constants 1 / sqrt(fan_in) on W and A.
    """
    x, w = (v.astype("float64") for v in inputs[:2])
    affine_kernel = weights[prefix + "affine/kernel"].astype("float64")
    affine_bias = weights[prefix + "affine/bias"].astype("float64")
    styles = w @ affine_kernel / math.sqrt(w.shape[-1]) + affine_bias
    kernel = weights[prefix + "kernel"].astype("float64")
    k, _, channels, _ = kernel.shape
    kernel = kernel / math.sqrt(k * k * channels)
    outputs = []
    for b in range(x.shape[0]):
        sample_kernel = kernel * styles[b][None, None, :, None]
        if demodulate:
            norms = np.sqrt((sample_kernel**2).sum(axis=(0, 1, 2)) + epsilon)
            sample_kernel = sample_kernel / norms
        sample = x[b : b + 1]
        if upsample:
            sample = sample.repeat(2, axis=1).repeat(2, axis=2)
        outputs.append(conv2d(sample, sample_kernel, padding="same")[0])
    return np.stack(outputs)


# The affine bias starts at 1 in practice; styles near 0 would make the
# demodulation divide by almost nothing.
STYLE_BIAS = {"affine/bias": lambda rng, shape: rng.uniform(0.5, 1.5, shape)}

CASES = [
    LayerCase(
        name="modulated_conv2d_k3",
        layer_cls=ModulatedConv2D,
        init_kwargs=dict(filters=4),
        input_shapes=[(2, 4, 5, 3), (2, 5)],
        reference=modulated_conv_reference,
        weight_overrides=STYLE_BIAS,
    ),
    LayerCase(
        name="modulated_conv2d_k3_upsample",
        layer_cls=ModulatedConv2D,
        init_kwargs=dict(filters=3, upsample=True),
        input_shapes=[(2, 3, 2, 2), (2, 4)],
        reference=lambda x, w: modulated_conv_reference(x, w, upsample=True),
        weight_overrides=STYLE_BIAS,
    ),
    LayerCase(
        name="modulated_conv2d_k1_no_demodulation",
        layer_cls=ModulatedConv2D,
        init_kwargs=dict(filters=3, kernel_size=1, demodulate=False),
        input_shapes=[(3, 3, 3, 4), (3, 2)],
        reference=lambda x, w: modulated_conv_reference(x, w, demodulate=False),
    ),
    LayerCase(
        name="modulated_conv2d_k5_eps1e-2",
        layer_cls=ModulatedConv2D,
        init_kwargs=dict(filters=2, kernel_size=5, epsilon=1e-2),
        input_shapes=[(2, 4, 4, 2), (2, 3)],
        reference=lambda x, w: modulated_conv_reference(x, w, epsilon=1e-2),
        weight_overrides=STYLE_BIAS,
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _random_inputs(seed, shape=(2, 6, 6, 4), w_dim=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype("float32")
    w = rng.normal(size=(shape[0], w_dim)).astype("float32")
    return x, w


def _scale_styles(layer, factor):
    """Multiplies the affine map (so every style s) by `factor`."""
    for variable in layer.affine.weights:
        variable.assign(_numpy(variable) * factor)


def test_affine_bias_starts_at_one():
    layer = ModulatedConv2D(3)
    layer.build([(None, 4, 4, 6), (None, 5)])
    np.testing.assert_array_equal(_numpy(layer.affine.bias), np.ones(6))


@pytest.mark.parametrize("scale", [1.0, 5.0])
def test_demodulation_gives_unit_variance_outputs(scale):
    """For i.i.d. unit-variance inputs each output channel has variance
    sum_{k,i} w''² = 1, whatever the style's scale; without demodulation
    it has variance sum_{k,i} w'², which grows with the style."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 20, 20, 8)).astype("float32")
    w = rng.normal(size=(8, 6)).astype("float32")
    demodulated = ModulatedConv2D(5)
    plain = ModulatedConv2D(5, demodulate=False)
    demodulated([x, w])
    # Weights from NumPy's generator: the test does not depend on the
    # backend's random initialisation.
    for variable in demodulated.weights:
        shape = tuple(variable.shape)
        variable.assign(rng.normal(size=shape).astype("float32"))
    _scale_styles(demodulated, scale)
    plain([x, w])
    plain.set_weights(demodulated.get_weights())
    interior = (slice(None), slice(1, -1), slice(1, -1))
    y = _numpy(demodulated([x, w]))[interior]
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1.0, rtol=0.12)
    if scale == 5.0:
        assert np.all(_numpy(plain([x, w]))[interior].var((0, 1, 2)) > 4.0)


def test_demodulation_cancels_the_scale_of_the_style():
    """Exactly: w'' is invariant to s -> c s; without it, y scales by c."""
    x, w = _random_inputs(1)
    for demodulate, expected_factor in ((True, 1.0), (False, 3.0)):
        layer = ModulatedConv2D(3, demodulate=demodulate)
        before = _numpy(layer([x, w]))
        _scale_styles(layer, 3.0)
        after = _numpy(layer([x, w]))
        np.testing.assert_allclose(
            after, expected_factor * before, rtol=1e-4, atol=1e-5
        )


def test_each_sample_uses_its_own_style():
    """Permuting the batch permutes the outputs; styles differ per sample."""
    x, w = _random_inputs(2, shape=(3, 4, 4, 2))
    layer = ModulatedConv2D(2)
    y = _numpy(layer([x, w]))
    order = [2, 0, 1]
    np.testing.assert_allclose(
        _numpy(layer([x[order], w[order]])), y[order], atol=1e-6
    )
    same_x = np.repeat(x[:1], 3, axis=0)
    outputs = _numpy(layer([same_x, w]))
    assert not np.allclose(outputs[0], outputs[1], atol=1e-3)


def test_upsample_is_the_convolution_of_the_doubled_input():
    x, w = _random_inputs(3, shape=(2, 3, 4, 2))
    up = ModulatedConv2D(3, upsample=True)
    up([x, w])
    plain = ModulatedConv2D(3)
    doubled = x.repeat(2, axis=1).repeat(2, axis=2)
    plain([doubled, w])
    plain.set_weights(up.get_weights())
    np.testing.assert_allclose(
        _numpy(up([x, w])), _numpy(plain([doubled, w])), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(kernel_size=2), "kernel_size"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=(3, 3)), "kernel_size"),
        (dict(demodulate="yes"), "demodulate"),
        (dict(upsample=1), "upsample"),
        (dict(epsilon=-1e-8), "epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs = {"filters": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        ModulatedConv2D(**kwargs)


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"list of 2 inputs \[x, w\]"):
        ModulatedConv2D(2)(np.zeros((2, 4, 4, 3), "float32"))


def test_latent_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="latents w"):
        ModulatedConv2D(2)(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 1, 5), "f4")]
        )


def test_features_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="features x"):
        ModulatedConv2D(2)(
            [np.zeros((2, 4, 3), "float32"), np.zeros((2, 5), "float32")]
        )


def test_mismatched_batch_rejected():
    with pytest.raises(ValueError, match="same batch size"):
        ModulatedConv2D(2)(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((3, 5), "float32")]
        )
