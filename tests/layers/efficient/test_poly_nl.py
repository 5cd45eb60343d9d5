import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.efficient.poly_nl import PolyNL
from hadamard_zoo.layers.efficient.poly_sa import PolySA


def poly_nl_reference(inputs, weights, mask=None):
    """Z = α X + β (φ((X W_1) * (X W_2)) * X) W_3 over the H·W positions.

    W_i are 1×1 convolutions (dense maps on channels); φ is the average
    over the (valid) positions, copied to every position, 0 if none.
    """
    (x,) = inputs
    x = x.astype("float64")
    valid = np.ones(x.shape[:-1])
    if mask is not None:
        valid = np.asarray(mask, "float64")

    def conv1x1(i, a):
        kernel = weights[f"w{i}_kernel"]
        out = np.einsum("bhwc,cd->bhwd", a, kernel)
        return out + weights.get(f"w{i}_bias", 0.0)

    p = conv1x1(1, x) * conv1x1(2, x)
    total = np.einsum("bhw,bhwc->bc", valid, p)
    count = np.maximum(valid.sum(axis=(1, 2)), 1.0)
    phi = (total / count[:, None])[:, None, None, :]
    y = conv1x1(3, phi * x)
    return weights["alpha"] * x + weights["beta"] * y


# Image 0: the top-left 2×3 corner is valid (a smaller padded image);
# image 1: nothing is valid.
MASK = np.zeros((2, 3, 4), bool)
MASK[0, :2, :3] = True

CASES = [
    LayerCase(
        name="polynl_default",
        layer_cls=PolyNL,
        init_kwargs=dict(),
        input_shapes=(2, 3, 4, 5),
        reference=poly_nl_reference,
    ),
    LayerCase(
        name="polynl_bias_inits",
        layer_cls=PolyNL,
        init_kwargs=dict(
            use_bias=True, alpha_initializer="zeros", beta_initializer=0.1
        ),
        input_shapes=(1, 2, 5, 3),
        reference=poly_nl_reference,
        weight_scale=0.8,
        # Draw β away from 0 so the polynomial path weighs in.
        weight_overrides={
            "beta": lambda rng, shape: rng.uniform(1.0, 2.0, shape),
        },
    ),
    LayerCase(
        name="polynl_masked",
        layer_cls=PolyNL,
        init_kwargs=dict(use_bias=True),
        input_shapes=(2, 3, 4, 3),
        reference=lambda x, w: poly_nl_reference(x, w, mask=MASK),
        call_kwargs=dict(mask=MASK),
    ),
]

test_harness = layer_tests(CASES)


def random_layer(cls=PolyNL, channels=4, seed=0, **kwargs):
    layer = cls(
        kernel_initializer=keras.initializers.RandomUniform(-0.8, 0.8, seed),
        bias_initializer=keras.initializers.RandomUniform(-0.5, 0.5, seed),
        alpha_initializer=0.7,
        beta_initializer=1.3,
        use_bias=True,
        **kwargs,
    )
    rank = 4 if cls is PolyNL else 3
    layer.build((None,) * (rank - 1) + (channels,))
    return layer


def inputs(shape, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("float32")


def run(layer, x, **kwargs):
    return keras.ops.convert_to_numpy(layer(x, **kwargs))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(use_bias="yes"), "use_bias"),
        (dict(alpha_initializer="no_such_init"), "alpha_initializer"),
        (dict(beta_initializer="no_such_init"), "beta_initializer"),
        (dict(bias_initializer="no_such_init"), "bias_initializer"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolyNL(**kwargs)


def test_has_no_causal_option():
    # Raster order is no causal order for images: the option is PolySA's.
    with pytest.raises(ValueError, match="causal"):
        PolyNL(causal=True)


@pytest.mark.parametrize("shape", [(2, 6, 4), (2, 3, 4, 5, 6)])
def test_wrong_input_rank(shape):
    with pytest.raises(ValueError, match=r"rank 4, \(batch, H, W"):
        PolyNL()(np.zeros(shape, "float32"))


def test_wrong_channels_at_call():
    layer = PolyNL()
    layer(np.zeros((2, 3, 3, 4), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 3, 3, 5), "float32"))


@pytest.mark.parametrize("mask_shape", [(2, 12), (2, 3, 4, 1), (2, 4, 3)])
def test_mask_of_wrong_shape(mask_shape):
    with pytest.raises(ValueError, match=r"`mask` of shape .*\(2, 3, 4\)"):
        PolyNL()(np.zeros((2, 3, 4, 5), "float32"), mask=np.ones(mask_shape))


def test_starts_as_the_identity():
    x = inputs((2, 3, 4, 5))
    np.testing.assert_allclose(run(PolyNL(), x), x, atol=1e-6)


@pytest.mark.parametrize("masked", [False, True])
def test_is_poly_sa_on_the_flattened_positions(masked):
    nl = random_layer(PolyNL)
    sa = random_layer(PolySA)
    sa.set_weights(nl.get_weights())
    x = inputs((2, 3, 5, 4))
    mask = inputs((2, 3, 5), seed=3) > 0 if masked else None
    flat_mask = None if mask is None else mask.reshape(2, 15)
    expected = run(sa, x.reshape(2, 15, 4), mask=flat_mask)
    np.testing.assert_allclose(
        run(nl, x, mask=mask), expected.reshape(x.shape), atol=1e-6
    )


def test_unknown_height_and_width():
    layer = random_layer(PolyNL)
    inp = keras.Input((None, None, 4))
    model = keras.Model(inp, layer(inp))
    assert tuple(model.output.shape) == (None, None, None, 4)
    weights = {v.path.split("/")[-1]: np.array(v) for v in layer.weights}
    for shape in [(2, 3, 5, 4), (1, 6, 2, 4)]:
        x = inputs(shape)
        # predict() compiles the graph (tf.function / jit) with H, W unknown.
        np.testing.assert_allclose(
            model.predict(x, verbose=0),
            poly_nl_reference([x], weights),
            atol=1e-5,
            rtol=1e-5,
        )


def test_masked_positions_do_not_reach_valid_outputs():
    layer = random_layer(PolyNL)
    x = inputs((1, 4, 4, 4))
    mask = np.zeros((1, 4, 4), bool)
    mask[:, :3, :2] = True
    padded = np.where(mask[..., None], x, 1e4).astype("float32")
    np.testing.assert_allclose(
        run(layer, padded, mask=mask)[mask],
        run(layer, x, mask=mask)[mask],
        atol=1e-5,
    )
