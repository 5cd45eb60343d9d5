import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.hadamard_fusion import HadamardFusion


def dense(x, weights, prefix):
    return x @ weights[f"{prefix}_kernel"] + weights.get(f"{prefix}_bias", 0.0)


def hadamard_fusion_reference(inputs, weights, activations=(None, None)):
    """y = P(σ_1(U z_I) * σ_2(V z_II)); missing maps are identities."""
    sides = []
    for z, prefix, activation in zip(inputs, "uv", activations, strict=True):
        if f"{prefix}_kernel" in weights:
            z = dense(z, weights, prefix)
        if activation is not None:
            z = activation(z)
        sides.append(z)
    out = sides[0] * sides[1]
    if "p_kernel" in weights:
        out = dense(out, weights, "p")
    return out


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


CASES = [
    LayerCase(
        name="hadamard_fusion_mlb",
        layer_cls=HadamardFusion,
        init_kwargs=dict(units=6, activation="tanh", output_units=3),
        input_shapes=[(4, 5), (4, 3)],
        reference=lambda x, w: hadamard_fusion_reference(
            x, w, (np.tanh, np.tanh)
        ),
    ),
    LayerCase(
        name="hadamard_fusion_one_side_nobias",
        layer_cls=HadamardFusion,
        init_kwargs=dict(
            units=(None, 4), activation=[None, "sigmoid"], use_bias=False
        ),
        input_shapes=[(2, 3, 4), (2, 3, 5)],
        reference=lambda x, w: hadamard_fusion_reference(x, w, (None, sigmoid)),
    ),
    LayerCase(
        name="hadamard_fusion_identity_out",
        layer_cls=HadamardFusion,
        init_kwargs=dict(output_units=2),
        input_shapes=[(4, 3), (4, 3)],
        reference=hadamard_fusion_reference,
    ),
]

test_harness = layer_tests(CASES)


def test_plain_product_without_weights():
    x, y = np.arange(6.0).reshape(2, 3), np.full((2, 3), 2.0)
    layer = HadamardFusion()
    out = layer([x.astype("float32"), y.astype("float32")])
    assert not layer.weights
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), x * y)


def test_weights_match_the_configuration():
    layer = HadamardFusion(units=(4, None), output_units=2, use_bias=False)
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])
    names = sorted(v.path.split("/")[-1] for v in layer.weights)
    assert names == ["p_kernel", "u_kernel"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2.5), "units"),
        (dict(units=(4, 0)), "units"),
        (dict(units=(4, 4, 4)), "units"),
        (dict(units="wide"), "units"),
        (dict(output_units=-1), "output_units"),
        (dict(activation="no_such_activation"), "activation"),
        (dict(activation=["tanh"]), "activation"),
        (dict(activation=["tanh", "no_such_activation"]), "activation"),
        (dict(use_bias="yes"), "use_bias"),
        (dict(kernel_initializer="no_such_init"), "kernel_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HadamardFusion(**kwargs)


@pytest.mark.parametrize(
    "units, shapes",
    [
        (None, [(2, 3), (2, 4)]),
        ((5, None), [(2, 3), (2, 4)]),
        ((None, 5), [(2, 3), (2, 4)]),
    ],
)
def test_mismatched_widths_without_projection(units, shapes):
    layer = HadamardFusion(units=units)
    inputs = [np.zeros(s, "float32") for s in shapes]
    with pytest.raises(ValueError, match="widths must match"):
        layer(inputs)


def test_wrong_width_after_build():
    layer = HadamardFusion(units=4)
    layer([np.zeros((2, 3), "float32"), np.zeros((2, 5), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 3), "float32"), np.zeros((2, 6), "float32")])
