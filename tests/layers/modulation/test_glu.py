import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from scipy.special import erf

from hadamard_zoo.layers.modulation.glu import GEGLU
from hadamard_zoo.layers.modulation.glu import GLU
from hadamard_zoo.layers.modulation.glu import ReGLU
from hadamard_zoo.layers.modulation.glu import SwiGLU


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def gelu_exact(x):
    """x Φ(x), Φ the standard normal CDF."""
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def gelu_tanh(x):
    """The tanh approximation of GELU (Mesh TensorFlow, T5 v1.1)."""
    return (
        0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3)))
    )


def silu(x):
    return x * sigmoid(x)


def relu(x):
    return np.maximum(x, 0.0)


def identity(x):
    return x


def glu_reference(inputs, weights, gate_act=sigmoid):
    """GLU(x) = (x W + b) * σ(x V + c)."""
    (x,) = inputs
    x = x.astype("float64")
    value = x @ weights["value_kernel"] + weights.get("value_bias", 0.0)
    gate = x @ weights["gate_kernel"] + weights.get("gate_bias", 0.0)
    return value * gate_act(gate)


def reference_with(gate_act):
    return lambda x, w: glu_reference(x, w, gate_act)


CASES = [
    LayerCase(
        name="glu_sigmoid",
        layer_cls=GLU,
        init_kwargs=dict(units=4),
        input_shapes=(4, 5),
        reference=glu_reference,
    ),
    LayerCase(
        name="glu_bilinear_nobias_rank3",
        layer_cls=GLU,
        init_kwargs=dict(units=3, activation=None, use_bias=False),
        input_shapes=(2, 3, 5),
        reference=reference_with(identity),
    ),
    LayerCase(
        name="glu_tanh_rank3",
        layer_cls=GLU,
        init_kwargs=dict(units=4, activation="tanh"),
        input_shapes=(2, 3, 5),
        reference=reference_with(np.tanh),
    ),
    LayerCase(
        name="geglu_exact",
        layer_cls=GEGLU,
        init_kwargs=dict(units=4),
        input_shapes=(4, 6),
        input_range=(-2.0, 2.0),
        reference=reference_with(gelu_exact),
    ),
    LayerCase(
        name="geglu_tanh_approx_nobias",
        layer_cls=GEGLU,
        init_kwargs=dict(units=4, approximate=True, use_bias=False),
        input_shapes=(4, 6),
        input_range=(-2.0, 2.0),
        reference=reference_with(gelu_tanh),
    ),
    LayerCase(
        name="swiglu_rank3",
        layer_cls=SwiGLU,
        init_kwargs=dict(units=4),
        input_shapes=(2, 3, 5),
        reference=reference_with(silu),
    ),
    LayerCase(
        name="reglu",
        layer_cls=ReGLU,
        init_kwargs=dict(units=4),
        input_shapes=(4, 6),
        reference=reference_with(relu),
    ),
]

test_harness = layer_tests(CASES)


def test_geglu_variants_differ():
    """The exact and tanh GELU differ by ~1e-4 here: the choice matters."""
    x = np.linspace(-3, 3, 61)
    assert 1e-4 < np.max(np.abs(gelu_exact(x) - gelu_tanh(x))) < 1e-2
    exact = keras.ops.convert_to_numpy(
        keras.activations.gelu(x.astype("float32"))
    )
    np.testing.assert_allclose(exact, gelu_exact(x), atol=1e-6)


@pytest.mark.parametrize("cls", [SwiGLU, ReGLU, GEGLU])
def test_fixed_variants_config_has_no_activation(cls):
    layer = cls(units=3)
    config = layer.get_config()
    assert "activation" not in config
    clone = cls.from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: GLU(units=0), "units"),
        (lambda: GLU(units=2.5), "units"),
        (lambda: GLU(units=True), "units"),
        (lambda: GLU(units=None), "units"),
        (lambda: GLU(units=4, activation="no_such_activation"), "activation"),
        (lambda: GLU(units=4, activation=7), "activation"),
        (lambda: SwiGLU(units=0), "units"),
        (lambda: SwiGLU(units=4, activation="relu"), "activation"),
        (lambda: ReGLU(units=4, activation=None), "activation"),
        (lambda: GEGLU(units=4, approximate="tanh"), "approximate"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("cls", [GLU, SwiGLU])
def test_wrong_last_axis_at_call(cls):
    layer = cls(units=4)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        GLU(units=4)(np.zeros((5,), "float32"))
