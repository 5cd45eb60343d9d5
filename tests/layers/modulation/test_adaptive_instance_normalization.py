import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.adaptive_instance_normalization import (
    AdaptiveInstanceNormalization,
)

EPSILON = 1e-5


def spatial_stats(x, epsilon):
    """Per sample and channel over the spatial axes: mean, sqrt(var + ε)."""
    axes = tuple(range(1, x.ndim - 1))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)  # biased
    return mean, np.sqrt(var + epsilon)


def to_broadcast(v, ndim):
    """(batch, channels) -> (batch, 1, ..., 1, channels)."""
    return v.reshape((v.shape[0],) + (1,) * (ndim - 2) + (v.shape[-1],))


def adain_vector_reference(inputs, weights, epsilon=EPSILON):
    """[γ, β] = A(w); y = γ * (x - μ(x)) / σ(x) + β."""
    x, w = (v.astype("float64") for v in inputs)
    gamma = w @ weights["gamma_kernel"] + weights.get("gamma_bias", 0.0)
    beta = w @ weights["beta_kernel"] + weights.get("beta_bias", 0.0)
    mean, std = spatial_stats(x, epsilon)
    return to_broadcast(gamma, x.ndim) * (x - mean) / std + to_broadcast(
        beta, x.ndim
    )


def adain_features_reference(inputs, weights, epsilon=EPSILON):
    """y = σ(s) * (x - μ(x)) / σ(x) + μ(s)."""
    x, style = (v.astype("float64") for v in inputs)
    mean, std = spatial_stats(x, epsilon)
    style_mean, style_std = spatial_stats(style, epsilon)
    return style_std * (x - mean) / std + style_mean


VECTOR_CASES = [
    LayerCase(
        name="adain_vector",
        layer_cls=AdaptiveInstanceNormalization,
        init_kwargs=dict(),
        input_shapes=[(2, 4, 3, 5), (2, 6)],
        reference=adain_vector_reference,
    ),
    LayerCase(
        name="adain_vector_eps1e-3_nobias_rank3",
        layer_cls=AdaptiveInstanceNormalization,
        init_kwargs=dict(epsilon=1e-3, use_bias=False),
        input_shapes=[(3, 5, 4), (3, 2)],
        reference=lambda x, w: adain_vector_reference(x, w, epsilon=1e-3),
    ),
]

FEATURE_CASES = [
    LayerCase(
        name="adain_features_other_size",
        layer_cls=AdaptiveInstanceNormalization,
        init_kwargs=dict(style_source="features"),
        input_shapes=[(2, 4, 3, 5), (2, 3, 6, 5)],
        input_range=(-1.0, 2.0),
        reference=adain_features_reference,
    ),
    LayerCase(
        name="adain_features_eps0_rank3",
        layer_cls=AdaptiveInstanceNormalization,
        init_kwargs=dict(style_source="features", epsilon=0.0),
        input_shapes=[(2, 6, 3), (2, 6, 3)],
        reference=lambda x, w: adain_features_reference(x, w, epsilon=0.0),
    ),
]

test_harness = layer_tests(VECTOR_CASES)
# With style_source="features" the layer has no weights: the training
# check, which trains the layer alone, has nothing to update (see
# test_gradients_reach_the_style_features instead).
test_harness_features = layer_tests(FEATURE_CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_gamma_bias_starts_at_one():
    """StyleGAN's affine map A starts with a scale of 1 and a shift of 0."""
    layer = AdaptiveInstanceNormalization()
    layer.build([(None, 4, 4, 3), (None, 5)])
    np.testing.assert_array_equal(_numpy(layer.gamma_bias), np.ones(3))
    np.testing.assert_array_equal(_numpy(layer.beta_bias), np.zeros(3))
    # so with zero kernels the layer is a plain instance normalization
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 3.0, (2, 4, 4, 3)).astype("float32")
    w = rng.normal(size=(2, 5)).astype("float32")
    layer = AdaptiveInstanceNormalization(kernel_initializer="zeros")
    y = _numpy(layer([x, w]))
    mean, std = spatial_stats(x.astype("float64"), EPSILON)
    np.testing.assert_allclose(y, (x - mean) / std, atol=1e-5)


def test_gamma_bias_initializer_argument_round_trip():
    layer = AdaptiveInstanceNormalization(gamma_bias_initializer=2)
    clone = AdaptiveInstanceNormalization.from_config(layer.get_config())
    clone.build([(None, 4, 4, 3), (None, 5)])
    np.testing.assert_array_equal(_numpy(clone.gamma_bias), np.full(3, 2.0))


def test_features_transfers_the_style_statistics():
    """The output has the style's per-channel mean and standard deviation."""
    rng = np.random.default_rng(1)
    x = rng.normal(0.0, 1.0, (2, 6, 6, 3)).astype("float32")
    style = rng.normal(3.0, 0.5, (2, 5, 4, 3)).astype("float32")
    layer = AdaptiveInstanceNormalization(style_source="features", epsilon=0)
    y = _numpy(layer([x, style])).astype("float64")
    np.testing.assert_allclose(y.mean((1, 2)), style.mean((1, 2)), atol=1e-5)
    np.testing.assert_allclose(y.std((1, 2)), style.std((1, 2)), atol=1e-5)


def test_gradients_reach_the_style_features():
    """Trained through a Dense producing the style, the loss goes down."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (4, 3, 3, 2)).astype("float32")
    s = rng.uniform(-1, 1, (4, 3, 3, 2)).astype("float32")
    target = rng.normal(size=(4, 3, 3, 2)).astype("float32")
    x_in, s_in = keras.Input((3, 3, 2)), keras.Input((3, 3, 2))
    style = keras.layers.Dense(2, name="style_map")(s_in)
    y = AdaptiveInstanceNormalization(style_source="features")([x_in, style])
    model = keras.Model([x_in, s_in], y)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    before = model.evaluate([x, s], target, verbose=0)
    for _ in range(3):
        model.train_on_batch([x, s], target)
    assert model.evaluate([x, s], target, verbose=0) < before


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(style_source="image"), "style_source"),
        (dict(style_source=None), "style_source"),
        (dict(epsilon=-1e-5), "epsilon"),
        (dict(epsilon="small"), "epsilon"),
        (dict(gamma_bias_initializer="no_such_init"), "gamma_bias_init"),
        (dict(use_bias=1), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AdaptiveInstanceNormalization(**kwargs)


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"list of 2 inputs \[x, style\]"):
        AdaptiveInstanceNormalization()(np.zeros((2, 4, 4, 3), "float32"))


def test_features_without_spatial_axis_rejected():
    with pytest.raises(ValueError, match="rank >= 3"):
        AdaptiveInstanceNormalization()(
            [np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")]
        )


def test_style_vector_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="style vector"):
        AdaptiveInstanceNormalization()(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 4, 4, 3))]
        )


@pytest.mark.parametrize(
    "style_shape", [(2, 5), (2, 4, 3), (2, 4, 4, 4)], ids=str
)
def test_style_features_of_wrong_shape_rejected(style_shape):
    layer = AdaptiveInstanceNormalization(style_source="features")
    with pytest.raises(ValueError, match="style feature map"):
        layer([np.zeros((2, 4, 4, 3), "float32"), np.zeros(style_shape, "f4")])


def test_mismatched_batch_rejected():
    with pytest.raises(ValueError, match="same batch size"):
        AdaptiveInstanceNormalization()(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((3, 5), "float32")]
        )


def test_wrong_axes_after_build_rejected():
    layer = AdaptiveInstanceNormalization()
    layer([np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 5), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 6), "f4")])
