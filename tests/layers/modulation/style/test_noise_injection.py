import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.style.noise_injection import NoiseInjection


def noise_reference(inputs, weights):
    """y[b, h, w, c] = x[b, h, w, c] + s[c] n[b, h, w], by loops."""
    x, noise = (v.astype("float64") for v in inputs)
    scale = weights["scale"].astype("float64")
    y = x.copy()
    for c in range(x.shape[-1]):
        n = noise[..., 0] if noise.shape[-1] == 1 else noise[..., c]
        y[..., c] += scale[c] * n
    return y


CASES = [
    LayerCase(
        name="noise_injection_given_noise",
        layer_cls=NoiseInjection,
        init_kwargs=dict(),
        input_shapes=[(2, 3, 4, 3), (2, 3, 4, 1)],
        reference=noise_reference,
    ),
    LayerCase(
        name="noise_injection_per_channel_noise_seeded",
        layer_cls=NoiseInjection,
        init_kwargs=dict(seed=3),
        input_shapes=[(2, 2, 3, 2), (2, 2, 3, 2)],
        reference=noise_reference,
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_starts_as_the_identity_with_random_noise():
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 4)).astype("f4")
    layer = NoiseInjection(seed=1)
    np.testing.assert_array_equal(_numpy(layer(x)), x)
    np.testing.assert_array_equal(_numpy(layer.scale), np.zeros(4))


def test_random_noise_is_standard_normal_and_shared_by_channels():
    x = np.zeros((4, 16, 16, 3), "float32")
    layer = NoiseInjection(seed=2)
    layer(x)
    layer.scale.assign(np.array([1.0, 2.0, -1.0], "float32"))
    y = _numpy(layer(x)).astype("float64")
    noise = y[..., 0]
    np.testing.assert_allclose(y[..., 1], 2.0 * noise, rtol=1e-6)
    np.testing.assert_allclose(y[..., 2], -noise, rtol=1e-6)
    assert abs(noise.mean()) < 0.1, noise.mean()
    assert abs(noise.std() - 1.0) < 0.1, noise.std()
    assert not np.allclose(noise[0], noise[1])  # one image per sample


def test_fresh_noise_each_call_reproducible_by_seed():
    x = np.zeros((2, 4, 4, 2), "float32")
    layers = [NoiseInjection(seed=5), NoiseInjection(seed=5)]
    for layer in layers:
        layer(x)
        layer.scale.assign(np.ones(2, "float32"))
    first = [_numpy(layer(x)) for layer in layers]
    np.testing.assert_array_equal(first[0], first[1])
    assert not np.allclose(_numpy(layers[0](x)), first[0])


def test_random_noise_in_a_compiled_model():
    x_in = keras.Input((4, 4, 2))
    layer = NoiseInjection(seed=0)
    model = keras.Model(x_in, layer(x_in))
    layer.scale.assign(np.ones(2, "float32"))
    x = np.zeros((3, 4, 4, 2), "float32")
    y = model.predict(x, verbose=0)
    assert y.shape == x.shape
    assert np.all(np.isfinite(y)) and y.std() > 0.5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed="a"), "seed"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NoiseInjection(**kwargs)


def test_noise_of_wrong_channels_rejected():
    with pytest.raises(ValueError, match="noise of shape"):
        NoiseInjection()(
            [np.zeros((2, 4, 4, 3), "float32"), np.zeros((2, 4, 4, 2), "f4")]
        )


def test_three_inputs_rejected():
    x = np.zeros((2, 4, 4, 1), "float32")
    with pytest.raises(ValueError, match=r"\[x, noise\]"):
        NoiseInjection()([x, x, x])


def test_features_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="features x"):
        NoiseInjection()(np.zeros((2, 4, 3), "float32"))
