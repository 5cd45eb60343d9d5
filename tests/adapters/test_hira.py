"""HiRA adapter layers: W = W0 + W0 * (A B), checked by the shared harness."""

import keras
import numpy as np
import pytest
from adapter_references import conv2d
from adapter_references import dense
from adapter_references import einsum_dense
from adapter_references import hira_kernel
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.adapters.hira import HiRAConv2D
from hadamard_zoo.adapters.hira import HiRADense
from hadamard_zoo.adapters.hira import HiRAEinsumDense

EQUATION = "abc,cde->abde"

CASES = [
    LayerCase(
        name="hira_dense_tanh",
        layer_cls=HiRADense,
        init_kwargs=dict(units=4, activation="tanh", hira_rank=2),
        input_shapes=(3, 5),
        reference=lambda x, w: dense(
            x[0], hira_kernel(w), w["bias"], activation="tanh"
        ),
    ),
    LayerCase(
        name="hira_dense_nobias_full_rank",
        layer_cls=HiRADense,
        init_kwargs=dict(units=4, use_bias=False, hira_rank=4),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: dense(x[0], hira_kernel(w)),
    ),
    LayerCase(
        name="hira_einsum_dense",
        layer_cls=HiRAEinsumDense,
        init_kwargs=dict(
            equation=EQUATION,
            output_shape=(4, 2, 3),
            bias_axes="de",
            hira_rank=2,
        ),
        input_shapes=(2, 4, 5),
        reference=lambda x, w: einsum_dense(
            EQUATION, x[0], hira_kernel(w), w["bias"]
        ),
    ),
    LayerCase(
        name="hira_conv2d_valid",
        layer_cls=HiRAConv2D,
        init_kwargs=dict(filters=4, kernel_size=2, hira_rank=3),
        input_shapes=(2, 5, 5, 3),
        reference=lambda x, w: conv2d(x[0], hira_kernel(w), w["bias"]),
    ),
    LayerCase(
        name="hira_conv2d_same_stride2_nobias",
        layer_cls=HiRAConv2D,
        init_kwargs=dict(
            filters=3,
            kernel_size=3,
            strides=2,
            padding="same",
            use_bias=False,
            hira_rank=2,
        ),
        input_shapes=(2, 5, 6, 2),
        reference=lambda x, w: conv2d(
            x[0], hira_kernel(w), strides=2, padding="same"
        ),
    ),
]

test_harness = layer_tests(CASES)


def test_starts_as_the_base_layer():
    layer = HiRADense(units=3, hira_rank=2)
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer.hira_kernel_b), np.zeros((2, 3))
    )
    kernel = keras.ops.convert_to_numpy(layer._kernel)
    bias = keras.ops.convert_to_numpy(layer.bias)
    np.testing.assert_allclose(out, x @ kernel + bias, atol=1e-5, rtol=1e-5)


def test_only_the_factors_train_even_after_trainable_true():
    layer = HiRAConv2D(filters=4, kernel_size=3, hira_rank=2)
    layer.build((None, 6, 6, 3))
    names = ["hira_kernel_a", "hira_kernel_b"]
    assert [v.name for v in layer.trainable_weights] == names
    layer.trainable = False
    assert layer.trainable_weights == []
    layer.trainable = True  # would unfreeze W0 and the bias on plain Keras
    assert [v.name for v in layer.trainable_weights] == names


def test_factor_shapes_follow_the_matrix_view():
    layer = HiRAEinsumDense(EQUATION, (None, 2, 3), hira_rank=3)
    layer.build((None, 4, 5))
    assert tuple(layer._kernel.shape) == (5, 2, 3)
    assert tuple(layer.hira_kernel_a.shape) == (10, 3)
    assert tuple(layer.hira_kernel_b.shape) == (3, 3)
    assert layer.hira_kernel_a.dtype == "float32"


def test_class_is_registered_and_saved_under_the_base_name():
    # The registry knows the adapter; Keras's weight files see a `Dense`.
    assert (
        keras.saving.get_registered_object("hadamard_zoo>HiRADense")
        is HiRADense
    )
    assert HiRADense.__name__ == "Dense"
    layer = HiRADense(units=3, hira_rank=1, name="head")
    assert repr(layer).startswith("<HiRADense name=head")
    assert layer.get_config()["hira_rank"] == 1


@pytest.mark.parametrize("rank", [0, -1, 2.5, True, "2"])
def test_invalid_rank(rank):
    with pytest.raises(ValueError, match="hira_rank"):
        HiRADense(units=3, hira_rank=rank)


def test_rank_larger_than_the_kernel_allows():
    layer = HiRADense(units=3, hira_rank=4, name="narrow")
    with pytest.raises(ValueError, match=r"narrow.*3x3 matrix.*<= 3"):
        layer.build((None, 3))


def test_wrong_input_shape():
    layer = HiRADense(units=3, hira_rank=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_keras_lora_cannot_be_stacked_on_top():
    layer = HiRADense(units=3, hira_rank=1, name="stacked")
    layer.build((None, 4))
    with pytest.raises(ValueError, match="'stacked' already has a hira"):
        layer.enable_lora(1)
