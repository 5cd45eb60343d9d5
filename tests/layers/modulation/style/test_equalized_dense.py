import math

import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.style.equalized_dense import EqualizedDense


def lrelu(x):
    """StyleGAN2's gained leaky ReLU, written with a mask."""
    return np.sqrt(2.0) * (x * (x >= 0) + 0.2 * x * (x < 0))


def equalized_dense_reference(
    inputs, weights, lr_multiplier=1.0, gain=1.0, activation=None
):
    """y_j = act(sum_i x_i W_ij gain λ / sqrt(d) + λ b_j), by einsum."""
    x = inputs[0].astype("float64")
    kernel = weights["kernel"].astype("float64")
    scale = gain * lr_multiplier / math.sqrt(kernel.shape[0])
    y = np.einsum("...i,ij->...j", x, kernel) * scale
    if "bias" in weights:
        y = y + lr_multiplier * weights["bias"]
    if activation == "lrelu":
        y = lrelu(y)
    elif activation == "tanh":
        y = np.tanh(y)
    return y


LR = 0.01

CASES = [
    LayerCase(
        name="equalized_dense",
        layer_cls=EqualizedDense,
        init_kwargs=dict(units=3),
        input_shapes=(2, 5),
        reference=equalized_dense_reference,
    ),
    LayerCase(
        name="equalized_dense_mapping_lr001_lrelu_rank3",
        layer_cls=EqualizedDense,
        init_kwargs=dict(
            units=4,
            lr_multiplier=LR,
            gain=2.0,
            bias_init=0.5,
            activation="lrelu",
        ),
        input_shapes=(2, 3, 6),
        reference=lambda x, w: equalized_dense_reference(
            x, w, lr_multiplier=LR, gain=2.0, activation="lrelu"
        ),
        # Stored weights live at scale 1 / λ (their initialisation).
        weight_overrides={
            "kernel": lambda rng, shape: rng.normal(0.0, 1.0 / LR, shape),
            "bias": lambda rng, shape: rng.normal(0.0, 1.0 / LR, shape),
        },
        atol=1e-4,
    ),
    LayerCase(
        name="equalized_dense_nobias_tanh",
        layer_cls=EqualizedDense,
        init_kwargs=dict(units=2, use_bias=False, activation="tanh"),
        input_shapes=(3, 4),
        reference=lambda x, w: equalized_dense_reference(
            x, w, activation="tanh"
        ),
    ),
]

test_harness = layer_tests(CASES)


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_initialisation_is_he_after_scaling():
    """Stored kernel N(0, 1/λ); effective kernel N(0, gain²/fan_in)."""
    layer = EqualizedDense(256, lr_multiplier=0.1, gain=2.0, bias_init=0.3)
    layer.build((None, 64))
    kernel = _numpy(layer.kernel)
    assert abs(kernel.std() - 10.0) < 0.5, kernel.std()
    assert abs(kernel.mean()) < 0.5
    effective = kernel * layer.weight_gain
    assert abs(effective.std() - 2.0 / 8.0) < 0.0125, effective.std()
    # The effective bias starts at bias_init: zero input gives 0.3.
    y = _numpy(layer(np.zeros((2, 64), "float32")))
    np.testing.assert_allclose(y, 0.3, rtol=1e-6)


def test_lr_multiplier_scales_the_output_of_given_stored_weights():
    """Same stored weights, λ halved: the pre-activation output halves."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5)).astype("float32")
    outputs = []
    for lr in (1.0, 0.5):
        layer = EqualizedDense(4, lr_multiplier=lr)
        layer.build((None, 5))
        layer.kernel.assign(np.ones((5, 4), "float32"))
        layer.bias.assign(np.ones(4, "float32"))
        outputs.append(_numpy(layer(x)))
    np.testing.assert_allclose(outputs[1], 0.5 * outputs[0], rtol=1e-6)


def test_lrelu_activation_round_trips_by_name():
    layer = EqualizedDense(2, activation="lrelu")
    assert layer.get_config()["activation"] == "lrelu"
    clone = EqualizedDense.from_config(layer.get_config())
    x = np.array([[-1.0, 2.0, 0.5]], "float32")
    clone.build((None, 3))
    clone.kernel.assign(np.eye(3, 2, dtype="float32") * math.sqrt(3.0))
    np.testing.assert_allclose(
        _numpy(clone(x)), lrelu(x[:, :2].astype("float64")), rtol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.5), "units"),
        (dict(lr_multiplier=0.0), "lr_multiplier"),
        (dict(lr_multiplier=-0.01), "lr_multiplier"),
        (dict(lr_multiplier="fast"), "lr_multiplier"),
        (dict(gain=0), "gain"),
        (dict(bias_init="ones"), "bias_init"),
        (dict(activation="no_such_activation"), "activation"),
        (dict(use_bias=1), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs = {"units": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        EqualizedDense(**kwargs)


def test_wrong_input_width_after_build_rejected():
    layer = EqualizedDense(3)
    layer(np.zeros((2, 4), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 5), "float32"))
