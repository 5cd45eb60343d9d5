import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers import CCP


def ccp_reference(inputs, weights, degree, activation=None, output=False):
    """x_1 = U_1 z; x_n = (U_n z) * x_{n-1} + x_{n-1}; y = C x_N."""
    (z,) = inputs

    def u(n):
        return z @ weights[f"u{n}_kernel"] + weights.get(f"u{n}_bias", 0.0)

    out = u(1)
    for n in range(2, degree + 1):
        if activation is not None:
            out = activation(out)
        out = u(n) * out + out
    if output:
        out = out @ weights["c_kernel"] + weights.get("c_bias", 0.0)
    return out


CASES = [
    LayerCase(
        name="ccp_degree4_out",
        layer_cls=CCP,
        init_kwargs=dict(rank=6, degree=4, output_units=3),
        input_shapes=(4, 5),
        reference=lambda x, w: ccp_reference(x, w, 4, output=True),
    ),
    LayerCase(
        name="ccp_degree3_tanh_nobias_rank3",
        layer_cls=CCP,
        init_kwargs=dict(rank=4, degree=3, activation="tanh", use_bias=False),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: ccp_reference(x, w, 3, activation=np.tanh),
    ),
    LayerCase(
        name="ccp_degree1",
        layer_cls=CCP,
        init_kwargs=dict(rank=3, degree=1),
        input_shapes=(4, 5),
        reference=lambda x, w: ccp_reference(x, w, 1),
    ),
]

test_harness = layer_tests(CASES)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(rank=4, degree=0), "degree"),
        (dict(rank=0, degree=2), "rank"),
        (dict(rank=2.5, degree=2), "rank"),
        (dict(rank=4, degree=2, output_units=-1), "output_units"),
        (dict(rank=4, degree=True), "degree"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CCP(**kwargs)


def test_wrong_last_axis_at_call():
    layer = CCP(rank=4, degree=2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        CCP(rank=4, degree=2)(np.zeros((5,), "float32"))


def test_each_factor_starts_with_its_own_values():
    # A Keras 3 initializer instance returns the same values at every call;
    # shared across degrees it would start U_1 == U_2 == ... == U_N.
    layer = CCP(rank=3, degree=3)
    layer.build((None, 4))
    kernels = [keras.ops.convert_to_numpy(k) for k in layer.u_kernels]
    assert not np.allclose(kernels[0], kernels[1])
    assert not np.allclose(kernels[1], kernels[2])


def test_seeded_initializer_gives_each_factor_its_own_values():
    # A seeded initializer returns the same values at every call; shared
    # as-is it would make U_1 == U_2 == U_3 and collapse the polynomial.
    def kernels():
        init = keras.initializers.GlorotUniform(seed=3)
        layer = CCP(rank=3, degree=3, kernel_initializer=init)
        layer.build((None, 4))
        return [keras.ops.convert_to_numpy(k) for k in layer.u_kernels]

    first, again = kernels(), kernels()
    assert not np.allclose(first[0], first[1])
    np.testing.assert_array_equal(first[2], again[2])  # still reproducible


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(use_bias="yes"), "use_bias"),
        (dict(kernel_initializer="no_such_init"), "kernel_initializer"),
        (dict(activation="no_such_activation"), "activation"),
    ],
)
def test_invalid_shared_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CCP(rank=3, degree=2, **kwargs)
