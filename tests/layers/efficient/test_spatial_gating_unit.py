import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.efficient.spatial_gating_unit import SpatialGatingUnit


def sgu_reference(inputs, weights, causal=False, epsilon=1e-5):
    """Z1 * (W_s LN(Z2) + b), W_s mixing tokens; causal: W_s[m, n>m] = 0."""
    (z,) = inputs
    z = z.astype("float64")
    d = z.shape[-1] // 2
    z1, z2 = z[..., :d], z[..., d:]
    mean = z2.mean(axis=-1, keepdims=True)
    var = z2.var(axis=-1, keepdims=True)
    z2 = (z2 - mean) / np.sqrt(var + epsilon)
    z2 = weights["norm/gamma"] * z2 + weights["norm/beta"]
    kernel = weights["spatial_kernel"].astype("float64")
    n = kernel.shape[0]
    gate = np.zeros_like(z2)
    for m in range(n):
        for k in range(n):
            if causal and k > m:
                continue
            gate[:, m] += kernel[m, k] * z2[:, k]
    gate += weights["spatial_bias"][:, None]
    return z1 * gate


def case(name, input_shape, **kwargs):
    return LayerCase(
        name=f"spatial_gating_unit_{name}",
        layer_cls=SpatialGatingUnit,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=lambda x, w: sgu_reference(x, w, **kwargs),
    )


CASES = [
    case("bidirectional", (2, 5, 6)),
    case("causal", (3, 4, 8), causal=True),
    case("causal_eps1e-3_d2", (2, 6, 4), causal=True, epsilon=1e-3),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(causal=1), "causal"),
        (dict(causal="yes"), "causal"),
        (dict(epsilon=-1.0), "epsilon"),
        (dict(kernel_initializer="nope"), "kernel_initializer"),
        (dict(bias_initializer="nope"), "bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SpatialGatingUnit(**kwargs)


@pytest.mark.parametrize("channels", [1, 5, 7])
def test_odd_channels_rejected(channels):
    with pytest.raises(ValueError, match=f"{channels} channels"):
        SpatialGatingUnit()(np.zeros((2, 4, channels), "float32"))


@pytest.mark.parametrize("shape", [(2, 8), (2, 4, 4, 8)])
def test_wrong_rank_rejected(shape):
    with pytest.raises(ValueError, match="expected ndim=3"):
        SpatialGatingUnit()(np.zeros(shape, "float32"))
    with pytest.raises(ValueError, match="rank 3"):
        SpatialGatingUnit().build(shape)


@pytest.mark.parametrize("length", [3, 6])
def test_other_sequence_length_rejected(length):
    layer = SpatialGatingUnit(causal=True)
    layer(np.zeros((2, 5, 4), "float32"))
    assert layer.sequence_length == 5
    with pytest.raises(ValueError, match="sequences of length 5"):
        layer(np.zeros((2, length, 4), "float32"))


def test_undefined_sequence_length_rejected():
    with pytest.raises(ValueError, match="sequence length"):
        SpatialGatingUnit()(keras.Input(shape=(None, 4)))


def test_starts_near_identity_on_first_half():
    # W_s ~ U(±1e-3 / n), b = 1: the gate starts at 1 ± 1e-3.
    n = 16
    z = np.random.default_rng(0).normal(size=(2, n, 8)).astype("float32")
    layer = SpatialGatingUnit()
    out = keras.ops.convert_to_numpy(layer(z))
    kernel = keras.ops.convert_to_numpy(layer.spatial_kernel)
    assert np.abs(kernel).max() <= 1e-3 / n
    assert np.abs(kernel).max() > 0.5e-3 / n
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer.spatial_bias), 1.0
    )
    np.testing.assert_allclose(out, z[..., :4], atol=2e-3 * np.abs(z).max())


def test_causal_output_ignores_later_tokens():
    rng = np.random.default_rng(1)
    layer = SpatialGatingUnit(causal=True)
    z = rng.normal(size=(2, 6, 4)).astype("float32")
    layer(z)
    layer.spatial_kernel.assign(rng.normal(size=(6, 6)).astype("float32"))
    changed = z.copy()
    changed[:, 4:] += rng.normal(size=(2, 2, 4)).astype("float32")
    before = keras.ops.convert_to_numpy(layer(z))
    after = keras.ops.convert_to_numpy(layer(changed))
    np.testing.assert_allclose(after[:, :4], before[:, :4], atol=1e-6)
    assert not np.allclose(after[:, 4:], before[:, 4:])
    # Without the mask the same kernel lets token 0 see the future.
    bidirectional = SpatialGatingUnit()
    bidirectional(z)
    bidirectional.set_weights(layer.get_weights())
    before = keras.ops.convert_to_numpy(bidirectional(z))
    after = keras.ops.convert_to_numpy(bidirectional(changed))
    assert not np.allclose(after[:, 0], before[:, 0])
