"""LoHa adapter layers: W = W0 + (α/r)(A1 B1) * (A2 B2), by the harness."""

import keras
import numpy as np
import pytest
from adapter_references import conv2d
from adapter_references import dense
from adapter_references import einsum_dense
from adapter_references import loha_kernel
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.adapters.loha import LoHaConv2D
from hadamard_zoo.adapters.loha import LoHaDense
from hadamard_zoo.adapters.loha import LoHaEinsumDense

EQUATION = "abc,cd->abd"

CASES = [
    LayerCase(
        name="loha_dense",
        layer_cls=LoHaDense,
        init_kwargs=dict(units=4, loha_rank=2),
        input_shapes=(3, 5),
        reference=lambda x, w: dense(x[0], loha_kernel(w, 2, 2), w["bias"]),
    ),
    LayerCase(
        name="loha_dense_alpha4_tanh_nobias_rank3",
        layer_cls=LoHaDense,
        init_kwargs=dict(
            units=4,
            activation="tanh",
            use_bias=False,
            loha_rank=3,
            loha_alpha=4.0,
        ),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: dense(
            x[0], loha_kernel(w, 4.0, 3), activation="tanh"
        ),
    ),
    LayerCase(
        name="loha_einsum_dense",
        layer_cls=LoHaEinsumDense,
        init_kwargs=dict(
            equation=EQUATION,
            output_shape=(3, 4),
            bias_axes="d",
            loha_rank=2,
            loha_alpha=1.0,
        ),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: einsum_dense(
            EQUATION, x[0], loha_kernel(w, 1.0, 2), w["bias"]
        ),
    ),
    LayerCase(
        name="loha_conv2d_valid",
        layer_cls=LoHaConv2D,
        init_kwargs=dict(filters=4, kernel_size=2, loha_rank=2),
        input_shapes=(2, 5, 5, 3),
        reference=lambda x, w: conv2d(x[0], loha_kernel(w, 2, 2), w["bias"]),
    ),
    LayerCase(
        name="loha_conv2d_same_stride2_nobias",
        layer_cls=LoHaConv2D,
        init_kwargs=dict(
            filters=3,
            kernel_size=3,
            strides=2,
            padding="same",
            use_bias=False,
            loha_rank=3,
            loha_alpha=6.0,
        ),
        input_shapes=(2, 6, 5, 2),
        reference=lambda x, w: conv2d(
            x[0], loha_kernel(w, 6.0, 3), strides=2, padding="same"
        ),
    ),
]

test_harness = layer_tests(CASES)


def test_starts_as_the_base_layer_with_peft_init():
    layer = LoHaDense(units=3, loha_rank=2)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    # As PEFT: only the input-side factor of the second pair starts at 0.
    values = {
        v.name: keras.ops.convert_to_numpy(v) for v in layer.adapter_variables
    }
    np.testing.assert_array_equal(values["loha_kernel_a2"], np.zeros((5, 2)))
    for name in ("loha_kernel_a1", "loha_kernel_b1", "loha_kernel_b2"):
        assert np.any(values[name] != 0), name
    # Kaiming-uniform with a = sqrt(5): U(±1/sqrt(fan_in)).
    assert np.abs(values["loha_kernel_a1"]).max() <= 1 / np.sqrt(5)
    assert np.abs(values["loha_kernel_b1"]).max() <= 1 / np.sqrt(2)
    kernel = keras.ops.convert_to_numpy(layer._kernel)
    bias = keras.ops.convert_to_numpy(layer.bias)
    np.testing.assert_allclose(out, x @ kernel + bias, atol=1e-5, rtol=1e-5)


def test_update_can_exceed_the_factor_rank():
    # (A1 B1) * (A2 B2) has rank up to r² with rank-r factors.
    layer = LoHaDense(units=6, loha_rank=2)
    layer.build((None, 6))
    rng = np.random.default_rng(1)
    for variable in layer.adapter_variables:
        variable.assign(rng.normal(size=variable.shape).astype("float32"))
    update = keras.ops.convert_to_numpy(layer.adapted_kernel() - layer._kernel)
    assert np.linalg.matrix_rank(update, tol=1e-4) == 4


def test_only_the_factors_train():
    layer = LoHaConv2D(filters=4, kernel_size=3, loha_rank=2)
    layer.build((None, 6, 6, 3))
    layer.trainable = True
    assert [v.name for v in layer.trainable_weights] == [
        "loha_kernel_a1",
        "loha_kernel_b1",
        "loha_kernel_a2",
        "loha_kernel_b2",
    ]


def test_config_round_trip_keeps_alpha():
    layer = LoHaEinsumDense("ab,bc->ac", (3,), loha_rank=2, loha_alpha=0.5)
    config = layer.get_config()
    assert (config["loha_rank"], config["loha_alpha"]) == (2, 0.5)
    clone = LoHaEinsumDense.from_config(config)
    assert (clone.loha_rank, clone.loha_alpha) == (2, 0.5)
    assert LoHaDense(units=2, loha_rank=3).loha_alpha == 3.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loha_rank=0), "loha_rank"),
        (dict(loha_rank=1.5), "loha_rank"),
        (dict(loha_rank=2, loha_alpha=0), "loha_alpha"),
        (dict(loha_rank=2, loha_alpha=-1.0), "loha_alpha"),
        (dict(loha_rank=2, loha_alpha="big"), "loha_alpha"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LoHaDense(units=3, **kwargs)


def test_rank_larger_than_the_kernel_allows():
    layer = LoHaConv2D(filters=2, kernel_size=1, loha_rank=3, name="pointwise")
    with pytest.raises(ValueError, match=r"pointwise.*<= 2"):
        layer.build((None, 4, 4, 5))


def test_wrong_input_shape():
    layer = LoHaConv2D(filters=2, kernel_size=1, loha_rank=1)
    layer(np.zeros((1, 4, 4, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((1, 4, 4, 6), "float32"))
