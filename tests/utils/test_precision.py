"""Tests of hadamard_zoo.utils.precision (TF32 off / on, per backend)."""

import keras
import numpy as np
import pytest

from hadamard_zoo.utils.precision import float32_precision_state
from hadamard_zoo.utils.precision import full_float32_precision
from hadamard_zoo.utils.precision import restore_float32_precision
from hadamard_zoo.utils.precision import set_full_float32_precision


def full_precision_is_on():
    """What each backend's own API says, independently of the module."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.config.jax_default_matmul_precision == "highest"
    if backend == "torch":
        import torch

        return (
            torch.get_float32_matmul_precision() == "highest"
            and not torch.backends.cudnn.allow_tf32
        )
    import tensorflow as tf

    return not tf.config.experimental.tensor_float_32_execution_enabled()


def test_set_and_restore():
    before = float32_precision_state()
    previous = set_full_float32_precision()
    try:
        assert previous == before
        assert full_precision_is_on()
        set_full_float32_precision(False)
        assert not full_precision_is_on()
    finally:
        restore_float32_precision(previous)
    assert float32_precision_state() == before


def test_context_manager_restores_even_on_error():
    before = float32_precision_state()
    with pytest.raises(RuntimeError, match="inside"):
        with full_float32_precision():
            assert full_precision_is_on()
            raise RuntimeError("inside")
    assert float32_precision_state() == before


def test_products_inside_are_float32_products():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 64, 64)).astype("float32")
    with full_float32_precision():
        product = keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
    np.testing.assert_allclose(product, a.astype("float64") @ b, atol=1e-4)


def test_enabled_must_be_a_bool():
    with pytest.raises(TypeError, match="`enabled` must be a bool"):
        set_full_float32_precision("yes")


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="`backend` must be one of"):
        set_full_float32_precision(backend="numpy")
    with pytest.raises(ValueError, match="backend='numpy'"):
        float32_precision_state("numpy")
