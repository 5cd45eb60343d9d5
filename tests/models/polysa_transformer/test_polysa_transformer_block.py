"""The block shared by the Poly-SA backbones, through the layer harness."""

import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from harness import to_numpy
from polysa_references import block_reference

from hadamard_zoo.models.polysa_transformer.polysa_transformer_block import (
    PolySATransformerBlock,
)


def case(name, input_shape=(2, 5, 8), **kwargs):
    # The key bias adds q·b_k to every score of a softmax row, which the
    # softmax cancels: it never gets a gradient.
    frozen = ("mixer/key/bias",) if kwargs.get("mixer") == "attention" else ()
    return LayerCase(
        name=f"polysa_block_{name}",
        layer_cls=PolySATransformerBlock,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=lambda x, w: block_reference(x, w, kwargs),
        weight_overrides={"gamma": lambda rng, s: rng.uniform(0.5, 1.5, s)},
        frozen_weights=frozen,
    )


CASES = [
    case("poly_sa", intermediate_dim=12),
    case("poly_sa_causal", intermediate_dim=6, causal=True),
    case("attention", intermediate_dim=12, mixer="attention", num_heads=2),
    case(
        "attention_causal_eps1e-3",
        (2, 4, 12),
        intermediate_dim=8,
        mixer="attention",
        num_heads=3,
        causal=True,
        layer_norm_epsilon=1e-3,
    ),
]

test_harness = layer_tests(CASES)


def test_dropout_only_in_training():
    block = PolySATransformerBlock(intermediate_dim=8, dropout=0.5)
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    first = to_numpy(block(x))[0]
    np.testing.assert_array_equal(to_numpy(block(x))[0], first)
    assert not np.allclose(to_numpy(block(x, training=True))[0], first)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(intermediate_dim=0), "intermediate_dim"),
        (dict(intermediate_dim=8, mixer="mlp"), "mixer"),
        (dict(intermediate_dim=8, num_heads=0), "num_heads"),
        (dict(intermediate_dim=8, causal="yes"), "causal"),
        (dict(intermediate_dim=8, dropout=1.0), "dropout"),
        (dict(intermediate_dim=8, layer_norm_epsilon=-1.0), "epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolySATransformerBlock(**kwargs)


def test_heads_must_divide_the_width():
    block = PolySATransformerBlock(8, mixer="attention", num_heads=3)
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        block(np.zeros((1, 4, 8), "float32"))


def test_wrong_input_rank():
    with pytest.raises(ValueError, match="rank 3"):
        PolySATransformerBlock(8)(np.zeros((2, 8), "float32"))
