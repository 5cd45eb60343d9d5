import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.trilinear_fusion import TrilinearFusion


def dense(x, weights, prefix):
    return x @ weights[f"{prefix}_kernel"] + weights.get(f"{prefix}_bias", 0.0)


def trilinear_reference(inputs, weights):
    """y = (A z_I) * (B z_II) * (C z_III); out = P y."""
    a, b, c = (dense(z, weights, p) for z, p in zip(inputs, "abc", strict=True))
    out = a * b * c
    if "p_kernel" in weights:
        out = dense(out, weights, "p")
    return out


CASES = [
    LayerCase(
        name="trilinear_fusion_out",
        layer_cls=TrilinearFusion,
        init_kwargs=dict(units=5, output_units=2),
        input_shapes=[(4, 3), (4, 6), (4, 2)],
        reference=trilinear_reference,
    ),
    LayerCase(
        name="trilinear_fusion_nobias_rank3",
        layer_cls=TrilinearFusion,
        init_kwargs=dict(units=4, use_bias=False),
        input_shapes=[(2, 3, 5), (2, 3, 4), (2, 3, 3)],
        reference=trilinear_reference,
    ),
]

test_harness = layer_tests(CASES)


def test_is_trilinear():
    # Without biases the output is linear in each input separately.
    layer = TrilinearFusion(units=4, use_bias=False)
    rng = np.random.default_rng(0)
    z = [rng.normal(size=(3, d)).astype("float32") for d in (2, 3, 4)]
    base = keras.ops.convert_to_numpy(layer(z))
    for m in range(3):
        scaled = list(z)
        scaled[m] = 2.5 * z[m]
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(layer(scaled)),
            2.5 * base,
            rtol=1e-5,
            atol=1e-6,
        )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units="4"), "units"),
        (dict(units=4, output_units=0), "output_units"),
        (dict(units=4, bias_initializer="nope"), "bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrilinearFusion(**kwargs)


def test_two_inputs_rejected():
    with pytest.raises(ValueError, match="list of 3 tensors"):
        TrilinearFusion(units=4)(
            [np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")]
        )
