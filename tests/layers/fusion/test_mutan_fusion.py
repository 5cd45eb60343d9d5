import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.mutan_fusion import MUTANFusion


def dense(x, weights, prefix):
    return x @ weights[f"{prefix}_kernel"] + weights.get(f"{prefix}_bias", 0.0)


def mutan_reference(inputs, weights, rank, activation=None):
    """q̃ = σ(W_q' q); z = Σ_r (q̃ W_q^r) * (ṽ W_v^r); y = W_o z."""
    factors = []
    for x, prefix in zip(inputs, "qv", strict=True):
        if f"{prefix}_projection_kernel" in weights:
            x = dense(x, weights, f"{prefix}_projection")
        if activation is not None:
            x = activation(x)
        kernel = weights[f"{prefix}_factors_kernel"]
        bias = weights.get(f"{prefix}_factors_bias")
        units = kernel.shape[-1] // rank
        factors.append(
            [
                x @ kernel[:, r * units : (r + 1) * units]
                + (0.0 if bias is None else bias[r * units : (r + 1) * units])
                for r in range(rank)
            ]
        )
    out = sum(q * v for q, v in zip(*factors, strict=True))
    if "output_kernel" in weights:
        out = dense(out, weights, "output")
    return out


CASES = [
    LayerCase(
        name="mutan_fusion_projected_tanh_out",
        layer_cls=MUTANFusion,
        init_kwargs=dict(
            rank=3,
            units=4,
            input_units=(5, 6),
            input_activation="tanh",
            output_units=2,
        ),
        input_shapes=[(4, 7), (4, 3)],
        reference=lambda x, w: mutan_reference(x, w, 3, np.tanh),
    ),
    LayerCase(
        name="mutan_fusion_raw_inputs_nobias",
        layer_cls=MUTANFusion,
        init_kwargs=dict(rank=2, units=3, use_bias=False),
        input_shapes=[(2, 3, 4), (2, 3, 5)],
        reference=lambda x, w: mutan_reference(x, w, 2),
    ),
    LayerCase(
        name="mutan_fusion_one_projection_rank1",
        layer_cls=MUTANFusion,
        init_kwargs=dict(rank=1, units=4, input_units=[None, 3]),
        input_shapes=[(4, 5), (4, 6)],
        reference=lambda x, w: mutan_reference(x, w, 1),
    ),
]

test_harness = layer_tests(CASES)


def test_weights_match_the_configuration():
    layer = MUTANFusion(rank=3, units=4, input_units=(None, 2), output_units=5)
    layer([np.zeros((1, 6), "float32"), np.zeros((1, 7), "float32")])
    shapes = {v.path.split("/")[-1]: tuple(v.shape) for v in layer.weights}
    assert shapes == {
        "q_factors_kernel": (6, 12),
        "q_factors_bias": (12,),
        "v_projection_kernel": (7, 2),
        "v_projection_bias": (2,),
        "v_factors_kernel": (2, 12),
        "v_factors_bias": (12,),
        "output_kernel": (4, 5),
        "output_bias": (5,),
    }


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rank=0, units=4), "rank"),
        (dict(rank=2, units=0), "units"),
        (dict(rank=2, units=None), "units"),
        (dict(rank=2, units=4, input_units=0), "input_units"),
        (dict(rank=2, units=4, input_units=(3,)), "input_units"),
        (dict(rank=2, units=4, input_units=(3, -1)), "input_units"),
        (dict(rank=2, units=4, input_activation="nope"), "input_activation"),
        (dict(rank=2, units=4, output_units=1.5), "output_units"),
        (dict(rank=2, units=4, use_bias="no"), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MUTANFusion(**kwargs)


def test_wrong_width_after_build():
    layer = MUTANFusion(rank=2, units=3)
    layer([np.zeros((2, 3), "float32"), np.zeros((2, 5), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((2, 4), "float32"), np.zeros((2, 5), "float32")])
