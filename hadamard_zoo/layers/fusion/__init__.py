"""Multimodal fusion: inputs combined through Hadamard products.

The `kge` sub-package scores knowledge-graph triples (RotatE, TransE,
DistMult, ComplEx), where a relation acts on an entity by a Hadamard
product or a translation.
"""

from hadamard_zoo.layers.fusion.compact_bilinear_pooling import (
    CompactBilinearPooling,
)
from hadamard_zoo.layers.fusion.hadamard_fusion import HadamardFusion
from hadamard_zoo.layers.fusion.kge import ComplEx
from hadamard_zoo.layers.fusion.kge import DistMult
from hadamard_zoo.layers.fusion.kge import RotatE
from hadamard_zoo.layers.fusion.kge import TransE
from hadamard_zoo.layers.fusion.multivariate_polynomial import (
    MultivariatePolynomial,
)
from hadamard_zoo.layers.fusion.mutan_fusion import MUTANFusion
from hadamard_zoo.layers.fusion.trilinear_fusion import TrilinearFusion
