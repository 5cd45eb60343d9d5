import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.compact_bilinear_pooling import (
    CompactBilinearPooling,
)


def count_sketch(x, hashes, signs, units):
    """Ψ(x)_j = Σ_{i: h(i) = j} s(i) x_i, as a dense sketch matrix."""
    matrix = np.zeros((x.shape[-1], units))
    matrix[np.arange(x.shape[-1]), hashes.astype(int)] = signs
    return x @ matrix


def mcb_reference(inputs, weights, units):
    """Φ = Re IFFT(Π_m FFT(Ψ_m(x_m))) with numpy.fft; then C Φ + β."""
    spectrum = 1.0
    for m, x in enumerate(inputs):
        sketch = count_sketch(
            x.astype("float64"),
            weights[f"hash_{m}"],
            weights[f"sign_{m}"],
            units,
        )
        spectrum = spectrum * np.fft.rfft(sketch, axis=-1)
    out = np.fft.irfft(spectrum, n=units, axis=-1)
    if "c_kernel" in weights:
        out = out @ weights["c_kernel"] + weights.get("c_bias", 0.0)
    return out


def outer_product_sketch(x, y, tables, units):
    """The count sketch of vec(x yᵀ) with hash (h_x(i) + h_y(j)) mod d and
    sign s_x(i) s_y(j), computed explicitly from the outer product."""
    (h_x, s_x), (h_y, s_y) = tables
    outer = np.einsum("...i,...j->...ij", x, y)
    hashes = (h_x[:, None] + h_y[None, :]).astype(int) % units
    signs = s_x[:, None] * s_y[None, :]
    flat = outer.reshape(outer.shape[:-2] + (-1,))
    return count_sketch(flat, hashes.reshape(-1), signs.reshape(-1), units)


def tables_overrides(units):
    return {
        "hash": lambda rng, shape: rng.integers(0, units, shape),
        "sign": lambda rng, shape: rng.choice([-1.0, 1.0], shape),
    }


CASES = [
    LayerCase(
        name="compact_bilinear_pooling_out",
        layer_cls=CompactBilinearPooling,
        init_kwargs=dict(units=8, output_units=3, seed=0),
        input_shapes=[(4, 5), (4, 3)],
        reference=lambda x, w: mcb_reference(x, w, 8),
        weight_overrides=tables_overrides(8),
    ),
]
# Without `output_units` the layer has no trainable weight to train.
FIXED_CASES = [
    LayerCase(
        name="compact_bilinear_pooling_odd_units_rank3",
        layer_cls=CompactBilinearPooling,
        init_kwargs=dict(units=7, seed=1),
        input_shapes=[(2, 3, 4), (2, 3, 6)],
        reference=lambda x, w: mcb_reference(x, w, 7),
        weight_overrides=tables_overrides(7),
    ),
    LayerCase(
        name="compact_bilinear_pooling_three_inputs",
        layer_cls=CompactBilinearPooling,
        init_kwargs=dict(units=8, seed=2),
        input_shapes=[(4, 3), (4, 2), (4, 4)],
        reference=lambda x, w: mcb_reference(x, w, 8),
        weight_overrides=tables_overrides(8),
    ),
]

test_harness = layer_tests(CASES)
test_harness_fixed = layer_tests(FIXED_CASES, skip=("training",))


def _tables(layer):
    values = {
        v.path.split("/")[-1]: keras.ops.convert_to_numpy(v)
        for v in layer.weights
    }
    count = len(layer.hashes)
    return [(values[f"hash_{m}"], values[f"sign_{m}"]) for m in range(count)]


def test_fft_form_equals_outer_product_count_sketch_in_numpy():
    # The exact identity behind MCB: the circular convolution of two count
    # sketches is the count sketch of the outer product, with the summed
    # hash modulo d and the product of the signs.
    rng = np.random.default_rng(0)
    units, d_x, d_y = 11, 6, 5
    x, y = rng.normal(size=(4, d_x)), rng.normal(size=(4, d_y))
    tables = [
        (rng.integers(0, units, d), rng.choice([-1.0, 1.0], d))
        for d in (d_x, d_y)
    ]
    weights = {}
    for m, (h, s) in enumerate(tables):
        weights[f"hash_{m}"], weights[f"sign_{m}"] = h, s
    np.testing.assert_allclose(
        mcb_reference([x, y], weights, units),
        outer_product_sketch(x, y, tables, units),
        atol=1e-12,
    )


@pytest.mark.parametrize("units", [8, 13])
def test_layer_equals_outer_product_count_sketch(units):
    rng = np.random.default_rng(units)
    x = rng.normal(size=(3, 2, 5)).astype("float32")
    y = rng.normal(size=(3, 2, 4)).astype("float32")
    layer = CompactBilinearPooling(units=units, seed=7)
    out = keras.ops.convert_to_numpy(layer([x, y]))
    expected = outer_product_sketch(
        x.astype("float64"), y.astype("float64"), _tables(layer), units
    )
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=1e-5)


def test_inner_products_estimate_bilinear_pooling():
    # Explicit bilinear pooling: <vec(x1 y1ᵀ), vec(x2 y2ᵀ)> = <x1,x2><y1,y2>.
    # Count sketches estimate it without bias, so the mean over layers with
    # different seeds lies within a few standard errors of it.
    rng = np.random.default_rng(3)
    d_x, d_y, units, seeds = 6, 5, 16, 40
    x = rng.normal(size=(2, d_x)).astype("float32")
    y = rng.normal(size=(2, d_y)).astype("float32")
    outer = np.einsum("bi,bj->bij", x, y).reshape(2, -1).astype("float64")
    exact = float(outer[0] @ outer[1])
    np.testing.assert_allclose(exact, (x[0] @ x[1]) * (y[0] @ y[1]), 1e-5)
    estimates = []
    for seed in range(seeds):
        phi = keras.ops.convert_to_numpy(
            CompactBilinearPooling(units=units, seed=seed)([x, y])
        ).astype("float64")
        estimates.append(phi[0] @ phi[1])
    estimates = np.array(estimates)
    standard_error = estimates.std(ddof=1) / np.sqrt(seeds)
    assert abs(estimates.mean() - exact) < 4 * standard_error
    # The spread shrinks with d: a wide sketch is close on its own.
    phi = keras.ops.convert_to_numpy(
        CompactBilinearPooling(units=4096, seed=0)([x, y])
    ).astype("float64")
    norms = np.linalg.norm(outer[0]) * np.linalg.norm(outer[1])
    assert abs(phi[0] @ phi[1] - exact) < 0.1 * norms
    # ... and the squared norm estimates ||x||² ||y||².
    np.testing.assert_allclose(phi[0] @ phi[0], np.sum(outer[0] ** 2), rtol=0.1)


def test_tables_come_from_the_seed():
    def tables(seed, units=16):
        layer = CompactBilinearPooling(units=units, seed=seed)
        layer([np.zeros((1, 9), "float32"), np.zeros((1, 7), "float32")])
        return _tables(layer)

    first, again, other = tables(5), tables(5), tables(6)
    for (h, s), (h2, s2) in zip(first, again, strict=True):
        np.testing.assert_array_equal(h, h2)
        np.testing.assert_array_equal(s, s2)
    assert not all(
        np.array_equal(h, h2)
        for (h, _), (h2, _) in zip(first, other, strict=True)
    )
    # The two inputs get independent tables, with valid values.
    assert not np.array_equal(first[0][0][:7], first[1][0])
    for h, s in first:
        assert set(np.unique(s)) <= {-1.0, 1.0}
        assert h.min() >= 0 and h.max() < 16 and np.all(h == np.round(h))


def test_tables_are_non_trainable_weights():
    layer = CompactBilinearPooling(units=8, output_units=2, seed=0)
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])
    trainable = sorted(v.path.split("/")[-1] for v in layer.trainable_weights)
    fixed = sorted(v.path.split("/")[-1] for v in layer.non_trainable_weights)
    assert trainable == ["c_bias", "c_kernel"]
    assert fixed == ["hash_0", "hash_1", "sign_0", "sign_1"]


def test_seed_none_is_drawn_and_kept_in_config():
    layer = CompactBilinearPooling(units=8)
    assert isinstance(layer.get_config()["seed"], int)
    inputs = [np.ones((2, 3), "float32"), np.ones((2, 4), "float32")]
    clone = CompactBilinearPooling.from_config(layer.get_config())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(clone(inputs)),
        keras.ops.convert_to_numpy(layer(inputs)),
    )


def test_hashes_stay_exact_under_mixed_precision():
    # Hash values above 256 are not representable in bfloat16; the tables
    # are not autocast, so a wide sketch keeps its buckets.
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(2, d)).astype("float32") for d in (40, 30)]
    exact = CompactBilinearPooling(units=1000, seed=0)
    mixed = CompactBilinearPooling(units=1000, seed=0, dtype="mixed_bfloat16")
    expected = keras.ops.convert_to_numpy(exact(inputs))
    actual = keras.ops.convert_to_numpy(mixed(inputs)).astype("float32")
    assert np.max(np.abs(actual - expected)) < 0.02 * np.max(np.abs(expected))


def test_gradients_reach_the_inputs():
    # A trainable map before the pooling learns through the sketch and FFTs.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 3)).astype("float32")
    target = rng.normal(size=(8, 16)).astype("float32")
    in_x, in_y = keras.Input((4,)), keras.Input((3,))
    dense = keras.layers.Dense(5, name="before")
    out = CompactBilinearPooling(units=16, seed=0)([dense(in_x), in_y])
    model = keras.Model([in_x, in_y], out)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    before = keras.ops.convert_to_numpy(dense.kernel).copy()
    first = model.evaluate([x, y], target, verbose=0)
    for _ in range(3):
        model.train_on_batch([x, y], target)
    assert model.evaluate([x, y], target, verbose=0) < first
    assert not np.allclose(before, keras.ops.convert_to_numpy(dense.kernel))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=8.0), "units"),
        (dict(units=8, output_units=0), "output_units"),
        (dict(units=8, seed=-1), "seed"),
        (dict(units=8, seed=1.5), "seed"),
        (dict(units=8, seed="zero"), "seed"),
        (dict(units=8, seed=True), "seed"),
        (dict(units=8, use_bias=None), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CompactBilinearPooling(**kwargs)


def test_one_input_is_not_enough():
    with pytest.raises(ValueError, match="at least 2"):
        CompactBilinearPooling(units=8, seed=0)([np.zeros((2, 3), "float32")])
