import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests
from test_poly_mlp import layer_norm
from test_poly_mlp import poly_mlp_reference

from hadamard_zoo.layers.efficient.poly_block import PolyBlock


def poly_block_reference(inputs, weights, epsilon=1e-6, masks=(1.0, 1.0)):
    """x += m1 · Mu_1(LN(x)); x += m2 · Mu_2(LN(x)), one LN for both.

    `masks` are the stochastic-depth factors of the two branches (per
    sample, broadcast over the rest); 1 at inference.
    """
    (x,) = inputs
    x = x.astype("float64")

    def norm(t):
        return layer_norm(t, weights, "norm/", epsilon)

    mlp1 = poly_mlp_reference(norm(x), weights, True, epsilon, "mlp1/")
    x = x + masks[0] * mlp1
    mlp2 = poly_mlp_reference(norm(x), weights, False, epsilon, "mlp2/")
    return x + masks[1] * mlp2


def case(name, input_shape, **kwargs):
    epsilon = kwargs.get("epsilon", 1e-6)
    return LayerCase(
        name=f"poly_block_{name}",
        layer_cls=PolyBlock,
        init_kwargs=kwargs,
        input_shapes=input_shape,
        reference=lambda x, w: poly_block_reference(x, w, epsilon),
        weight_scale=0.3,
    )


CASES = [
    case("monet_d32", (2, 4, 4, 32)),
    case(
        "d8_ratio2_expansion2_eps1e-5",
        (2, 3, 5, 8),
        expansion=2,
        low_rank_ratio=2,
        epsilon=1e-5,
    ),
    # drop_path is the identity at inference (the golden check's mode); the
    # seed keeps the training check's draws (4 samples x 3 steps) fixed.
    case(
        "d4_ratio1_drop_path",
        (4, 2, 3, 4),
        low_rank_ratio=1,
        drop_path=0.3,
        seed=1,
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(expansion=0), "expansion"),
        (dict(expansion=1.5), "expansion"),
        (dict(low_rank_ratio=0), "low_rank_ratio"),
        (dict(drop_path=-0.1), "drop_path"),
        (dict(drop_path=1.0), "drop_path"),
        (dict(drop_path="0.1"), "drop_path"),
        (dict(epsilon=-1e-6), "epsilon"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolyBlock(**kwargs)


@pytest.mark.parametrize(
    "channels, ratio",
    [(6, 1), (16, 8), (8, 16)],  # 6 and 16 // 8 = 2 are not multiples of 4
)
def test_channels_must_suit_the_shift(channels, ratio):
    block = PolyBlock(low_rank_ratio=ratio)
    with pytest.raises(ValueError, match=f"{channels} channels"):
        block(np.zeros((1, 3, 3, channels), "float32"))


def test_wrong_rank_rejected():
    with pytest.raises(ValueError, match="expected ndim=4"):
        PolyBlock()(np.zeros((2, 9, 32), "float32"))
    with pytest.raises(ValueError, match="rank 4"):
        PolyBlock().build((2, 9, 32))


def test_one_layer_norm_shared_by_both_sub_blocks():
    block = PolyBlock()
    block(np.zeros((1, 2, 2, 32), "float32"))
    top_level = sorted(
        v.path.split("/", 1)[1]
        for v in block.weights
        if not v.path.split("/", 2)[1].startswith("mlp")
    )
    assert top_level == ["norm/beta", "norm/gamma"]
    assert block.mlp1.use_spatial and not block.mlp2.use_spatial
    assert block.mlp1.hidden_units == 32
    assert block.mlp2.hidden_units == 3 * 32
    assert block.mlp1.low_rank_units == 4


def _block_and_reference(drop_path, seed=None):
    case = CASES[1]
    block = PolyBlock(**{**case.init_kwargs, "drop_path": drop_path}, seed=seed)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 3, 5, 8))
    x = x.astype("float32")
    block(x)
    rng = np.random.default_rng(1)
    weights = {}
    for v in block.weights:
        name = v.path.split("/", 1)[1]
        weights[name] = rng.uniform(-0.3, 0.3, v.shape).astype("float32")
        v.assign(weights[name])
    return block, x, weights


def test_drop_path_is_identity_at_inference():
    block, x, weights = _block_and_reference(drop_path=0.5, seed=3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(block(x, training=False)),
        poly_block_reference([x], weights, 1e-5),
        atol=1e-5,
    )


def test_drop_path_drops_whole_samples_in_training():
    # Each sample's branch is either dropped or kept and scaled by 1/keep,
    # independently in the two sub-blocks: one of four outcomes per sample.
    rate = 0.5
    block, x, weights = _block_and_reference(drop_path=rate, seed=3)
    out = keras.ops.convert_to_numpy(block(x, training=True))
    scale = 1 / (1 - rate)
    combos = [(a, b) for a in (0.0, scale) for b in (0.0, scale)]
    candidates = [poly_block_reference([x], weights, 1e-5, m) for m in combos]
    seen = set()
    for i in range(len(x)):
        errors = [np.abs(out[i] - c[i]).max() for c in candidates]
        best = int(np.argmin(errors))
        assert errors[best] < 1e-4, errors
        seen.add(best)
    assert len(seen) > 1  # 16 samples at rate 0.5: not all alike


def test_drop_path_reproducible_with_seed():
    outs = []
    for _ in range(2):
        block, x, _ = _block_and_reference(drop_path=0.5, seed=7)
        outs.append(keras.ops.convert_to_numpy(block(x, training=True)))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_without_drop_path_training_changes_nothing():
    block, x, _ = _block_and_reference(drop_path=0.0)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(block(x, training=True)),
        keras.ops.convert_to_numpy(block(x, training=False)),
    )
