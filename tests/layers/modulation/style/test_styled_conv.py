import math

import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d
from test_equalized_dense import lrelu
from test_modulated_conv2d import STYLE_BIAS
from test_modulated_conv2d import modulated_conv_reference

from hadamard_zoo.layers.modulation.style.styled_conv import StyledConv


def styled_conv_reference(
    inputs, weights, mode="modulated", upsample=False, epsilon=1e-8
):
    """modulated: lrelu(modconv(x, w) + s_n n + b);
    adain: a = lrelu(conv(x) + s_n n + b), (1 + γ) IN(a) + β, [γ, β] = A(w).
    """
    x, w, noise = (v.astype("float64") for v in inputs)
    if mode == "modulated":
        h = modulated_conv_reference(
            [x, w], weights, upsample=upsample, epsilon=epsilon, prefix="conv/"
        )
    else:
        if upsample:
            x = x.repeat(2, axis=1).repeat(2, axis=2)
        kernel = weights["conv/kernel"].astype("float64")
        k, _, channels, _ = kernel.shape
        h = conv2d(x, kernel / math.sqrt(k * k * channels), padding="same")
    h = lrelu(h + noise * weights["noise/scale"] + weights["bias"])
    if mode == "modulated":
        return h
    filters = h.shape[-1]
    style = w @ weights["style/kernel"] / math.sqrt(w.shape[-1])
    style = style + weights["style/bias"]
    out = np.empty_like(h)
    for b in range(h.shape[0]):
        for c in range(filters):
            a = h[b, :, :, c]
            normalized = (a - a.mean()) / np.sqrt(a.var() + epsilon)
            gamma, beta = style[b, c], style[b, filters + c]
            out[b, :, :, c] = (1.0 + gamma) * normalized + beta
    return out


CASES = [
    LayerCase(
        name="styled_conv_modulated",
        layer_cls=StyledConv,
        init_kwargs=dict(filters=3),
        input_shapes=[(2, 4, 4, 2), (2, 5), (2, 4, 4, 1)],
        reference=styled_conv_reference,
        weight_overrides=STYLE_BIAS,
    ),
    LayerCase(
        name="styled_conv_modulated_upsample_k1",
        layer_cls=StyledConv,
        init_kwargs=dict(filters=2, kernel_size=1, upsample=True, seed=1),
        input_shapes=[(2, 2, 3, 3), (2, 4), (2, 4, 6, 1)],
        reference=lambda x, w: styled_conv_reference(x, w, upsample=True),
        weight_overrides=STYLE_BIAS,
    ),
    LayerCase(
        name="styled_conv_adain",
        layer_cls=StyledConv,
        init_kwargs=dict(filters=3, mode="adain", epsilon=1e-5),
        input_shapes=[(2, 4, 3, 2), (2, 5), (2, 4, 3, 1)],
        reference=lambda x, w: styled_conv_reference(
            x, w, mode="adain", epsilon=1e-5
        ),
        atol=1e-4,
        rtol=1e-4,
    ),
    LayerCase(
        name="styled_conv_adain_upsample",
        layer_cls=StyledConv,
        init_kwargs=dict(filters=2, mode="adain", upsample=True),
        input_shapes=[(2, 2, 2, 3), (2, 3), (2, 4, 4, 1)],
        reference=lambda x, w: styled_conv_reference(
            x, w, mode="adain", upsample=True
        ),
        atol=1e-4,
        rtol=1e-4,
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _inputs(seed, x_shape=(2, 4, 4, 3), w_dim=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=x_shape).astype("float32")
    w = rng.normal(size=(x_shape[0], w_dim)).astype("float32")
    return x, w


@pytest.mark.parametrize("mode", ["modulated", "adain"])
def test_noise_has_no_effect_at_initialisation(mode):
    x, w = _inputs(0)
    layer = StyledConv(4, mode=mode, seed=0)
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(2, 4, 4, 1)).astype("float32")
    expected = _numpy(layer([x, w, np.zeros_like(noise)]))
    np.testing.assert_array_equal(_numpy(layer([x, w, noise])), expected)
    np.testing.assert_array_equal(_numpy(layer([x, w])), expected)


def test_random_noise_once_the_strength_is_learned():
    x, w = _inputs(2)
    layer = StyledConv(4, upsample=True, seed=0)
    layer([x, w])
    layer.noise.scale.assign(np.ones(4, "float32"))
    first, second = _numpy(layer([x, w])), _numpy(layer([x, w]))
    assert first.shape == (2, 8, 8, 4)
    assert not np.allclose(first, second)


def test_adain_output_has_the_style_statistics():
    """Per sample and channel: mean β and standard deviation |1 + γ|."""
    x, w = _inputs(3, x_shape=(2, 6, 6, 3))
    layer = StyledConv(4, mode="adain", seed=0)
    y = _numpy(layer([x, w])).astype("float64")
    style = _numpy(layer.style(w)).astype("float64")
    gamma, beta = style[:, :4], style[:, 4:]
    np.testing.assert_allclose(y.mean(axis=(1, 2)), beta, atol=1e-5)
    np.testing.assert_allclose(
        y.std(axis=(1, 2)), np.abs(1.0 + gamma), rtol=1e-4
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(kernel_size=4), "kernel_size"),
        (dict(mode="stylegan"), "mode"),
        (dict(mode=None), "mode"),
        (dict(upsample="no"), "upsample"),
        (dict(demodulate=None), "demodulate"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(seed=-2), "seed"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs = {"filters": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        StyledConv(**kwargs)


def test_four_inputs_rejected():
    x, w = _inputs(4)
    with pytest.raises(ValueError, match=r"\[x, w, noise\]"):
        StyledConv(2)([x, w, x[..., :1], x[..., :1]])


def test_latent_of_wrong_rank_rejected():
    x, _ = _inputs(5)
    with pytest.raises(ValueError, match="latents w"):
        StyledConv(2, mode="adain")([x, x])


def test_mismatched_batch_rejected():
    x, w = _inputs(6)
    with pytest.raises(ValueError, match="same batch size"):
        StyledConv(2)([x, w[:1]])
