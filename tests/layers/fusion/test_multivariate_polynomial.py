import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.multivariate_polynomial import (
    MultivariatePolynomial,
)


def multivariate_polynomial_reference(
    inputs, weights, degree, first_degree_only=()
):
    """y_1 = Σ A_1m z_m + b_1; y_n = (Σ A_nm z_m) * (S_n y + b_n); C y + β."""

    def factor(n):
        return sum(
            z @ weights[f"a{n}_{m}_kernel"]
            for m, z in enumerate(inputs)
            if n == 1 or m not in first_degree_only
        )

    out = factor(1) + weights.get("b1", 0.0)
    for n in range(2, degree + 1):
        s = out @ weights[f"s{n}_kernel"] + weights.get(f"s{n}_bias", 0.0)
        out = factor(n) * s
    if "c_kernel" in weights:
        out = out @ weights["c_kernel"] + weights.get("c_bias", 0.0)
    return out


CASES = [
    LayerCase(
        name="multivariate_polynomial_two_inputs_degree3_out",
        layer_cls=MultivariatePolynomial,
        init_kwargs=dict(rank=5, degree=3, output_units=3),
        input_shapes=[(4, 6), (4, 3)],
        reference=lambda x, w: multivariate_polynomial_reference(x, w, 3),
    ),
    LayerCase(
        name="multivariate_polynomial_three_inputs_first_degree_only",
        layer_cls=MultivariatePolynomial,
        init_kwargs=dict(rank=4, degree=3, first_degree_only=(0, 2)),
        input_shapes=[(2, 3, 4), (2, 3, 5), (2, 3, 2)],
        reference=lambda x, w: multivariate_polynomial_reference(
            x, w, 3, first_degree_only=(0, 2)
        ),
    ),
    LayerCase(
        name="multivariate_polynomial_degree2_nobias",
        layer_cls=MultivariatePolynomial,
        init_kwargs=dict(rank=4, degree=2, use_bias=False),
        input_shapes=[(4, 3), (4, 5)],
        reference=lambda x, w: multivariate_polynomial_reference(x, w, 2),
    ),
    LayerCase(
        name="multivariate_polynomial_single_input_degree1",
        layer_cls=MultivariatePolynomial,
        init_kwargs=dict(rank=3, degree=1, first_degree_only=0),
        input_shapes=[(4, 5)],
        reference=lambda x, w: multivariate_polynomial_reference(x, w, 1),
    ),
]

test_harness = layer_tests(CASES)


def _names(layer):
    return sorted(v.path.split("/")[-1] for v in layer.weights)


def test_first_degree_only_weights_are_not_created():
    layer = MultivariatePolynomial(rank=2, degree=3, first_degree_only=(1,))
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])
    assert _names(layer) == sorted(
        [
            "a1_0_kernel",
            "a2_0_kernel",
            "a3_0_kernel",
            "a1_1_kernel",
            "b1",
            "s2_kernel",
            "s2_bias",
            "s3_kernel",
            "s3_bias",
        ]
    )


def test_first_degree_only_input_enters_linearly():
    # With input 1 switched off after degree 1 the output is affine in it:
    # f(a + b) - f(a) - f(b) + f(0) = 0 (a vanishing second difference).
    layer = MultivariatePolynomial(rank=4, degree=3, first_degree_only=(1,))
    rng = np.random.default_rng(0)
    z0 = rng.normal(size=(3, 5)).astype("float32")
    a, b = (rng.normal(size=(3, 2)).astype("float32") for _ in range(2))

    def f(z1):
        return keras.ops.convert_to_numpy(layer([z0, z1])).astype("float64")

    # z1 reaches the output only through y_1 (affine in z1); every later
    # factor A_{n,0} z0 is free of z1, so the whole recursion stays affine.
    zero = np.zeros_like(a)
    second_difference = f(a + b) - f(a) - f(b) + f(zero)
    np.testing.assert_allclose(second_difference, 0.0, atol=1e-4)
    # Left on, input 1 enters every factor: the output is not affine in it.
    full = MultivariatePolynomial(rank=4, degree=3)

    def g(z1):
        return keras.ops.convert_to_numpy(full([z0, z1])).astype("float64")

    assert np.max(np.abs(g(a + b) - g(a) - g(b) + g(zero))) > 1e-2


def test_switching_off_matches_zero_weights():
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(3, 4)).astype("float32") for _ in range(2)]
    full = MultivariatePolynomial(rank=3, degree=3)
    full(inputs)
    for variable in full.weights:
        name = variable.path.split("/")[-1]
        value = rng.normal(size=variable.shape) * 0.5
        if name in ("a2_1_kernel", "a3_1_kernel"):
            value = np.zeros(variable.shape)
        variable.assign(value.astype("float32"))
    partial = MultivariatePolynomial(rank=3, degree=3, first_degree_only=(1,))
    partial(inputs)
    by_name = {v.path.split("/")[-1]: v for v in full.weights}
    for variable in partial.weights:
        variable.assign(by_name[variable.path.split("/")[-1]])
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(partial(inputs)),
        keras.ops.convert_to_numpy(full(inputs)),
        rtol=1e-6,
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rank=0, degree=2), "rank"),
        (dict(rank=4, degree=0), "degree"),
        (dict(rank=4, degree=True), "degree"),
        (dict(rank=4, degree=2, output_units=0), "output_units"),
        (dict(rank=4, degree=2, first_degree_only=(-1,)), "first_degree_only"),
        (dict(rank=4, degree=2, first_degree_only=(1, 1)), "first_degree_only"),
        (dict(rank=4, degree=2, first_degree_only="0"), "first_degree_only"),
        (dict(rank=4, degree=2, first_degree_only=(True,)), "first_degree"),
        (dict(rank=4, degree=2, use_bias=1), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultivariatePolynomial(**kwargs)


def test_first_degree_only_index_out_of_range():
    layer = MultivariatePolynomial(rank=2, degree=2, first_degree_only=(2,))
    with pytest.raises(ValueError, match="first_degree_only.*2 input"):
        layer([np.zeros((1, 3), "float32"), np.zeros((1, 3), "float32")])


def test_first_degree_only_cannot_switch_off_every_input():
    layer = MultivariatePolynomial(rank=2, degree=2, first_degree_only=(0, 1))
    with pytest.raises(ValueError, match="every input"):
        layer([np.zeros((1, 3), "float32"), np.zeros((1, 3), "float32")])
    # Degree 1 has no later degree to switch off: allowed.
    layer = MultivariatePolynomial(rank=2, degree=1, first_degree_only=(0, 1))
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 3), "float32")])


def test_wrong_number_of_inputs_after_build():
    layer = MultivariatePolynomial(rank=2, degree=2)
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])
    with pytest.raises(ValueError, match="expects 2 input"):
        layer([np.zeros((1, 3), "float32")] * 3)


def test_wrong_width_after_build():
    layer = MultivariatePolynomial(rank=2, degree=2)
    layer([np.zeros((1, 3), "float32"), np.zeros((1, 4), "float32")])
    with pytest.raises(ValueError, match="axis -1"):
        layer([np.zeros((1, 3), "float32"), np.zeros((1, 5), "float32")])
