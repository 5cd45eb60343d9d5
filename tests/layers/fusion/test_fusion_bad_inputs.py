"""Wrong inputs to every fusion layer fail with a clear ValueError."""

import keras
import numpy as np
import pytest

from hadamard_zoo.layers.fusion.compact_bilinear_pooling import (
    CompactBilinearPooling,
)
from hadamard_zoo.layers.fusion.hadamard_fusion import HadamardFusion
from hadamard_zoo.layers.fusion.multivariate_polynomial import (
    MultivariatePolynomial,
)
from hadamard_zoo.layers.fusion.mutan_fusion import MUTANFusion
from hadamard_zoo.layers.fusion.trilinear_fusion import TrilinearFusion

# (factory, input widths it accepts, an invalid number of inputs)
LAYERS = {
    "hadamard": (lambda: HadamardFusion(units=3), (4, 5), 3),
    "polynomial": (lambda: MultivariatePolynomial(rank=3, degree=2), (4, 5), 0),
    "mcb": (lambda: CompactBilinearPooling(units=8, seed=0), (4, 5), 1),
    "mutan": (lambda: MUTANFusion(rank=2, units=3), (4, 5), 3),
    "trilinear": (lambda: TrilinearFusion(units=3), (4, 5, 2), 2),
}
IDS = sorted(LAYERS)


def zeros(batch, widths):
    return [np.zeros((batch, w), "float32") for w in widths]


@pytest.mark.parametrize("key", IDS)
def test_single_tensor_instead_of_list(key):
    make, widths, _ = LAYERS[key]
    with pytest.raises(ValueError, match="list of"):
        make()(np.zeros((2, widths[0]), "float32"))


@pytest.mark.parametrize("key", IDS)
def test_wrong_number_of_inputs(key):
    make, widths, count = LAYERS[key]
    inputs = zeros(2, (widths * 3)[:count])
    with pytest.raises(ValueError, match="list of|expects"):
        make()(inputs)


@pytest.mark.parametrize("key", IDS)
def test_mismatched_batch_sizes(key):
    make, widths, _ = LAYERS[key]
    inputs = zeros(2, widths)
    inputs[-1] = np.zeros((3, widths[-1]), "float32")
    with pytest.raises(ValueError, match="batch sizes differ"):
        make()(inputs)


@pytest.mark.parametrize("key", IDS)
def test_mismatched_batch_sizes_after_build(key):
    make, widths, _ = LAYERS[key]
    layer = make()
    layer(zeros(2, widths))
    inputs = zeros(2, widths)
    inputs[0] = np.zeros((4, widths[0]), "float32")
    with pytest.raises(ValueError, match="batch sizes differ"):
        layer(inputs)


@pytest.mark.parametrize("key", IDS)
def test_mismatched_symbolic_batch_sizes(key):
    make, widths, _ = LAYERS[key]
    inputs = [keras.Input((w,), batch_size=2) for w in widths]
    inputs[-1] = keras.Input((widths[-1],), batch_size=5)
    with pytest.raises(ValueError, match="batch sizes differ"):
        make()(inputs)


@pytest.mark.parametrize("key", IDS)
def test_unknown_batch_size_is_accepted(key):
    make, widths, _ = LAYERS[key]
    inputs = [keras.Input((w,)) for w in widths]
    inputs[-1] = keras.Input((widths[-1],), batch_size=2)
    out = make()(inputs)
    assert out.shape[0] == 2


@pytest.mark.parametrize("key", IDS)
def test_mismatched_inner_axes(key):
    make, widths, _ = LAYERS[key]
    inputs = [np.zeros((2, 3, w), "float32") for w in widths]
    inputs[-1] = np.zeros((2, 4, widths[-1]), "float32")
    with pytest.raises(ValueError, match="axis 1"):
        make()(inputs)


@pytest.mark.parametrize("key", IDS)
def test_mismatched_ranks(key):
    make, widths, _ = LAYERS[key]
    inputs = zeros(2, widths)
    inputs[-1] = np.zeros((2, 1, widths[-1]), "float32")
    with pytest.raises(ValueError, match="same rank"):
        make()(inputs)


@pytest.mark.parametrize("key", IDS)
def test_rank_one_inputs(key):
    make, widths, _ = LAYERS[key]
    with pytest.raises(ValueError, match="rank >= 2"):
        make()([np.zeros((w,), "float32") for w in widths])


@pytest.mark.parametrize("key", IDS)
def test_undefined_last_axis(key):
    make, widths, _ = LAYERS[key]
    inputs = [keras.Input((w,)) for w in widths]
    inputs[0] = keras.Input((None,))
    with pytest.raises(ValueError, match="last axis"):
        make()(inputs)
