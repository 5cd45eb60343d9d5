"""High-order interactions: polynomial networks built on Hadamard products."""

from hadamard_zoo.layers.high_order.ccp import CCP
from hadamard_zoo.layers.high_order.cp_polynomial import CPPolynomial
from hadamard_zoo.layers.high_order.instance_batch_normalization import (
    InstanceBatchNormalization,
)
from hadamard_zoo.layers.high_order.ncp import NCP
from hadamard_zoo.layers.high_order.pi_sigma import PiSigma
from hadamard_zoo.layers.high_order.poly_conv2d import PolyConv2D
from hadamard_zoo.layers.high_order.prod_poly_block import ProdPolyBlock
from hadamard_zoo.layers.high_order.quadratic_dense import QuadraticDense
from hadamard_zoo.layers.high_order.squeeze_excitation import SqueezeExcitation
