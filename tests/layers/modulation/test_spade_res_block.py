import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from numpy_conv import conv2d

from hadamard_zoo.layers.modulation.spade_res_block import SPADEResBlock

EPSILON = 1e-5
CONVS = ("conv_0", "conv_1", "conv_s")


def resize_nearest(seg, height, width):
    """Pixel (i, j) reads floor((i + 0.5) * in / out), by loops."""
    in_h, in_w = seg.shape[1:3]
    out = np.zeros((seg.shape[0], height, width, seg.shape[3]))
    for i in range(height):
        for j in range(width):
            r = min(int((2 * i + 1) * in_h / (2 * height)), in_h - 1)
            c = min(int((2 * j + 1) * in_w / (2 * width)), in_w - 1)
            out[:, i, j] = seg[:, r, c]
    return out


def param_free_norm(x, weights, prefix, norm, epsilon):
    if norm == "batch":
        mean = weights[f"{prefix}/param_free_norm/moving_mean"]
        var = weights[f"{prefix}/param_free_norm/moving_variance"]
    else:
        mean = x.mean(axis=(1, 2), keepdims=True)
        var = x.var(axis=(1, 2), keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon)


def spade(x, seg, weights, prefix, norm, epsilon):
    """Norm(x) * (1 + γ) + β, γ and β from a ReLU hidden map of seg."""

    def conv(inputs, name):
        out = conv2d(inputs, weights[f"{prefix}/{name}_kernel"], padding="same")
        return out + weights[f"{prefix}/{name}_bias"]

    seg = resize_nearest(seg, *x.shape[1:3])
    hidden = np.maximum(conv(seg, "shared"), 0.0)
    gamma, beta = conv(hidden, "gamma"), conv(hidden, "beta")
    return param_free_norm(x, weights, prefix, norm, epsilon) * (1 + gamma) + (
        beta
    )


def spectral_sigma(kernel, u):
    """sqrt(uᵀ G u / uᵀ u), G the Gram matrix of the kernel's output columns."""
    gram = np.einsum("hwio,hwip->op", kernel, kernel)
    return np.sqrt(u @ gram @ u / (u @ u))


def block_kernel(weights, name, spectral):
    kernel = weights[f"{name}_kernel"]
    if spectral:
        kernel = kernel / spectral_sigma(kernel, weights[f"{name}_u"])
    return kernel


def leaky_relu(x):
    return np.where(x > 0, x, 0.2 * x)


def block_reference(
    inputs, weights, norm="instance", spectral=False, epsilon=EPSILON
):
    """x_s + conv_1(lrelu(SPADE_1(conv_0(lrelu(SPADE_0(x)))))) in float64."""
    x, seg = (v.astype("float64") for v in inputs)
    w = {k: v.astype("float64") for k, v in weights.items()}

    def conv(inputs, name):
        out = conv2d(inputs, block_kernel(w, name, spectral), padding="same")
        return out + w.get(f"{name}_bias", 0.0)

    dx = conv(leaky_relu(spade(x, seg, w, "norm_0", norm, epsilon)), "conv_0")
    dx = conv(leaky_relu(spade(dx, seg, w, "norm_1", norm, epsilon)), "conv_1")
    shortcut = x
    if "conv_s_kernel" in w:
        shortcut = conv(spade(x, seg, w, "norm_s", norm, epsilon), "conv_s")
    return shortcut + dx


# Moving statistics near those of the U(-1, 1) inputs, as in test_spade.py:
# the training check evaluates in inference mode around three training steps.
MOVING_STATS = {
    "moving_mean": lambda rng, shape: rng.uniform(-0.1, 0.1, shape),
    "moving_variance": lambda rng, shape: rng.uniform(0.25, 0.45, shape),
}
# conv_0's bias is a per-channel constant that SPADE_1 normalises away
# (instance statistics, or batch statistics in training): it gets no
# gradient, as in NVlabs' block, and matters only to moving averages.
NORMALISED_AWAY = ("conv_0_bias",)
POWER_VECTORS = {"_u": lambda rng, shape: rng.normal(size=shape)}

CASES = [
    LayerCase(
        name="spade_res_block_learned_shortcut_instance",
        layer_cls=SPADEResBlock,
        init_kwargs=dict(
            filters=2, hidden_filters=3, param_free_norm="instance"
        ),
        input_shapes=[(2, 4, 4, 3), (2, 8, 8, 2)],
        reference=block_reference,
        weight_scale=0.3,
        frozen_weights=NORMALISED_AWAY,
    ),
    LayerCase(
        name="spade_res_block_identity_shortcut_batch",
        layer_cls=SPADEResBlock,
        init_kwargs=dict(filters=3, hidden_filters=2),
        input_shapes=[(2, 4, 4, 3), (2, 4, 4, 2)],
        reference=lambda x, w: block_reference(x, w, "batch"),
        weight_scale=0.3,
        weight_overrides=MOVING_STATS,
        frozen_weights=NORMALISED_AWAY,
    ),
    LayerCase(
        name="spade_res_block_spectral_learned_shortcut",
        layer_cls=SPADEResBlock,
        init_kwargs=dict(
            filters=3,
            hidden_filters=2,
            param_free_norm="instance",
            spectral_norm=True,
            epsilon=1e-3,
        ),
        input_shapes=[(2, 3, 5, 2), (2, 6, 4, 2)],
        reference=lambda x, w: block_reference(
            x, w, spectral=True, epsilon=1e-3
        ),
        weight_overrides=POWER_VECTORS,
        frozen_weights=NORMALISED_AWAY,
    ),
    LayerCase(
        name="spade_res_block_spectral_identity_k1_nobias",
        layer_cls=SPADEResBlock,
        init_kwargs=dict(
            filters=2,
            hidden_filters=2,
            kernel_size=1,
            spectral_norm=True,
            use_bias=False,
        ),
        input_shapes=[(2, 3, 3, 2), (2, 3, 3, 3)],
        reference=lambda x, w: block_reference(x, w, "batch", spectral=True),
        weight_overrides={**MOVING_STATS, **POWER_VECTORS},
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _weights(layer):
    prefix = layer.name + "/"
    return {
        v.path[len(prefix) :]: _numpy(v).astype("float64")
        for v in layer.weights
    }


def _variable(layer, name):
    return next(v for v in layer.weights if v.path == f"{layer.name}/{name}")


def _inputs(rng, x_shape, labels=3):
    x = rng.uniform(-1, 1, x_shape).astype("float32")
    seg = rng.uniform(0, 1, x_shape[:3] + (labels,)).astype("float32")
    return [x, seg]


def _top_singular(kernel):
    matrix = kernel.reshape(-1, kernel.shape[-1])
    return np.linalg.svd(matrix, compute_uv=False)[0]


def _effective_top_singular(weights, name):
    """Largest singular value of W / σ, σ estimated from the stored u."""
    kernel = weights[f"{name}_kernel"]
    sigma = spectral_sigma(kernel, weights[f"{name}_u"])
    return _top_singular(kernel / sigma)


@pytest.mark.parametrize(
    "channels, filters, shortcut",
    [(3, 2, True), (2, 5, True), (4, 4, False)],
)
def test_learned_shortcut_only_when_channels_change(
    channels, filters, shortcut
):
    layer = SPADEResBlock(filters, hidden_filters=2, spectral_norm=True)
    y = layer(_inputs(np.random.default_rng(0), (2, 4, 4, channels)))
    assert tuple(y.shape) == (2, 4, 4, filters)
    names = set(_weights(layer))
    shortcut_names = {n for n in names if n.startswith(("conv_s", "norm_s/"))}
    if shortcut:
        assert {"conv_s_kernel", "conv_s_u"} <= shortcut_names
        assert "conv_s_bias" not in names  # 1x1 without bias, as NVlabs
        assert _weights(layer)["conv_s_kernel"].shape == (
            1,
            1,
            channels,
            filters,
        )
    else:
        assert not shortcut_names
    middle = min(channels, filters)
    assert _weights(layer)["conv_0_kernel"].shape == (3, 3, channels, middle)
    assert _weights(layer)["conv_1_kernel"].shape == (3, 3, middle, filters)


def test_zero_residual_branch_is_the_identity():
    rng = np.random.default_rng(1)
    inputs = _inputs(rng, (2, 4, 4, 3))
    layer = SPADEResBlock(
        3,
        hidden_filters=2,
        param_free_norm="instance",
        kernel_initializer="zeros",
    )
    np.testing.assert_array_equal(_numpy(layer(inputs)), inputs[0])


def _spectral_layer():
    return SPADEResBlock(
        3,
        hidden_filters=2,
        param_free_norm="instance",
        spectral_norm=True,
    )


def test_spectral_norm_converges_in_training_calls():
    """From a poor start (u near the smallest singular vector), training
    calls drive σ to the largest singular value: the effective kernel then
    has spectral norm 1, and the output is the one with the exact σ."""
    rng = np.random.default_rng(2)
    inputs = _inputs(rng, (2, 4, 4, 2))
    layer = _spectral_layer()
    layer(inputs)
    for name in CONVS:
        kernel = _weights(layer)[f"{name}_kernel"]
        vt = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]))[2]
        _variable(layer, f"{name}_u").assign(vt[-1] + 0.05 * vt[0])
        assert _effective_top_singular(_weights(layer), name) > 1.05
    before = _weights(layer)
    layer(inputs)
    for name in CONVS:  # inference does not refine u
        np.testing.assert_array_equal(
            _weights(layer)[f"{name}_u"], before[f"{name}_u"]
        )

    for _ in range(40):
        layer(inputs, training=True)
    weights = _weights(layer)
    exact = dict(weights)
    for name in CONVS:
        np.testing.assert_allclose(
            _effective_top_singular(weights, name), 1.0, rtol=1e-4
        )
        kernel = weights[f"{name}_kernel"]
        exact[f"{name}_u"] = np.linalg.svd(
            kernel.reshape(-1, kernel.shape[-1])
        )[2][0]
    np.testing.assert_allclose(
        _numpy(layer(inputs)),
        block_reference(inputs, exact, spectral=True),
        atol=1e-4,
        rtol=1e-4,
    )


def test_spectral_norm_holds_after_fit():
    """`fit()` keeps the refined u (JAX's stateless step returns it), so
    the kernels it trains stay normalised in inference."""
    rng = np.random.default_rng(3)
    inputs = _inputs(rng, (4, 4, 4, 2))
    target = rng.normal(size=(4, 4, 4, 3)).astype("float32")
    layer = _spectral_layer()
    x_in, seg_in = keras.Input((4, 4, 2)), keras.Input((4, 4, 3))
    model = keras.Model([x_in, seg_in], layer([x_in, seg_in]))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    before = _weights(layer)
    model.fit(inputs, target, batch_size=4, epochs=30, verbose=0)
    weights = _weights(layer)
    for name in CONVS:
        assert not np.allclose(
            weights[f"{name}_kernel"], before[f"{name}_kernel"]
        )
        np.testing.assert_allclose(
            _effective_top_singular(weights, name), 1.0, rtol=1e-2
        )


@pytest.mark.parametrize("spectral_norm", [True, False])
def test_spectral_norm_ignores_the_kernel_scale(spectral_norm):
    """W / σ(W) is invariant to scaling W; a plain kernel is not."""
    rng = np.random.default_rng(4)
    inputs = _inputs(rng, (2, 4, 4, 2))
    layer = SPADEResBlock(
        3,
        hidden_filters=2,
        param_free_norm="instance",
        spectral_norm=spectral_norm,
    )
    expected = _numpy(layer(inputs))
    for name in CONVS:
        variable = _variable(layer, f"{name}_kernel")
        variable.assign(variable * 7.0)
    actual = _numpy(layer(inputs))
    close = np.allclose(actual, expected, atol=1e-5, rtol=1e-5)
    assert close == spectral_norm


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(filters=0), "filters"),
        (dict(filters=2.0), "filters"),
        (dict(filters=2, hidden_filters=0), "hidden_filters"),
        (dict(filters=2, kernel_size=2), "kernel_size"),
        (dict(filters=2, kernel_size=0), "kernel_size"),
        (dict(filters=2, param_free_norm="layer"), "param_free_norm"),
        (dict(filters=2, spectral_norm=1), "spectral_norm"),
        (dict(filters=2, power_iterations=0), "power_iterations"),
        (dict(filters=2, epsilon=-1.0), "epsilon"),
        (dict(filters=2, momentum=2.0), "momentum"),
        (dict(filters=2, use_bias="yes"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SPADEResBlock(**kwargs)


def test_mismatched_batch_rejected():
    with pytest.raises(ValueError, match="SPADEResBlock.*same batch size"):
        SPADEResBlock(2, hidden_filters=2)(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((3, 4, 4, 2), "f4")]
        )


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"list of 2 inputs \[x, segmap\]"):
        SPADEResBlock(2)(np.zeros((2, 4, 4, 3), "float32"))


@pytest.mark.parametrize(
    "x_shape, seg_shape, match",
    [
        ((2, 4, 3), (2, 4, 4, 2), "features x"),
        ((2, 4, 4, 3), (2, 4, 4), "segmentation map"),
    ],
)
def test_wrong_rank_rejected(x_shape, seg_shape, match):
    with pytest.raises(ValueError, match=match):
        SPADEResBlock(2, hidden_filters=2)(
            [np.zeros(x_shape, "float32"), np.zeros(seg_shape, "float32")]
        )
