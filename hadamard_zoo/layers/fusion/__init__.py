"""Multimodal fusion: inputs combined through Hadamard products."""

from hadamard_zoo.layers.fusion.compact_bilinear_pooling import (
    CompactBilinearPooling,
)
from hadamard_zoo.layers.fusion.hadamard_fusion import HadamardFusion
from hadamard_zoo.layers.fusion.multivariate_polynomial import (
    MultivariatePolynomial,
)
from hadamard_zoo.layers.fusion.mutan_fusion import MUTANFusion
from hadamard_zoo.layers.fusion.trilinear_fusion import TrilinearFusion
