import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.film import FiLM


def film_reference(inputs, weights, residual_scale=False):
    """γ = c W_γ + b_γ; β = c W_β + b_β; y = γ * x + β (or (1 + γ) * x)."""
    x, c = (v.astype("float64") for v in inputs)
    gamma = c @ weights["gamma_kernel"] + weights.get("gamma_bias", 0.0)
    beta = c @ weights["beta_kernel"] + weights.get("beta_bias", 0.0)
    # (batch, channels) -> (batch, 1, ..., 1, channels)
    middle = (1,) * (x.ndim - 2)
    gamma = gamma.reshape(gamma.shape[:1] + middle + gamma.shape[1:])
    beta = beta.reshape(beta.shape[:1] + middle + beta.shape[1:])
    if residual_scale:
        gamma = 1.0 + gamma
    return gamma * x + beta


CASES = [
    LayerCase(
        name="film_image",
        layer_cls=FiLM,
        init_kwargs=dict(),
        input_shapes=[(2, 3, 4, 5), (2, 6)],
        reference=film_reference,
    ),
    LayerCase(
        name="film_residual_scale_sequence",
        layer_cls=FiLM,
        init_kwargs=dict(residual_scale=True),
        input_shapes=[(3, 4, 5), (3, 2)],
        reference=lambda x, w: film_reference(x, w, residual_scale=True),
    ),
    LayerCase(
        name="film_rank2_nobias",
        layer_cls=FiLM,
        init_kwargs=dict(use_bias=False),
        input_shapes=[(4, 5), (4, 3)],
        reference=film_reference,
    ),
]

test_harness = layer_tests(CASES)


def test_residual_scale_starts_at_identity():
    """With zero kernels, residual_scale=True gives y = x; False gives 0."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, 3, 4)).astype("float32")
    c = rng.normal(size=(2, 5)).astype("float32")
    for residual_scale, expected in ((True, x), (False, 0.0 * x)):
        layer = FiLM(residual_scale=residual_scale, kernel_initializer="zeros")
        y = keras.ops.convert_to_numpy(layer([x, c]))
        np.testing.assert_allclose(y, expected, atol=1e-7)


def test_each_sample_gets_its_own_modulation():
    layer = FiLM()
    x = np.ones((2, 3, 4), "float32")
    c = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    y = keras.ops.convert_to_numpy(layer([x, c]))
    # constant over the middle axis, different between the two samples
    np.testing.assert_allclose(y[:, 0], y[:, 2], atol=1e-7)
    assert not np.allclose(y[0], y[1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(residual_scale=1), "residual_scale"),
        (dict(residual_scale="yes"), "residual_scale"),
        (dict(use_bias=None), "use_bias"),
        (dict(kernel_initializer="no_such_init"), "kernel_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FiLM(**kwargs)


def test_single_input_rejected():
    with pytest.raises(ValueError, match=r"list of 2 inputs \[x, c\]"):
        FiLM()(np.zeros((2, 5), "float32"))


def test_conditioning_of_wrong_rank_rejected():
    with pytest.raises(ValueError, match="conditioning vector c"):
        FiLM()([np.zeros((2, 4, 5), "float32"), np.zeros((2, 3, 3), "float32")])


def test_rank1_features_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        FiLM()([np.zeros((5,), "float32"), np.zeros((2, 3), "float32")])


def test_mismatched_batch_rejected():
    with pytest.raises(ValueError, match="same batch size"):
        FiLM()([np.zeros((2, 4, 5), "float32"), np.zeros((3, 3), "float32")])


def test_wrong_axes_after_build_rejected():
    layer = FiLM()
    layer([np.zeros((2, 4, 5), "float32"), np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 4, 6), "float32"), np.zeros((2, 3), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 4, 5), "float32"), np.zeros((2, 4), "float32")])
