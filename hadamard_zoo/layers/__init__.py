"""Building blocks, grouped by the survey's taxonomy.

- `high_order`: polynomial networks (CCP, NCP, CP polynomial, Pi-sigma,
  quadratic neurons, polynomial convolutions, product-of-polynomials blocks,
  squeeze-excitation).
- `modulation`: gates (GLU family, highway).
"""

from hadamard_zoo.layers.high_order import CCP
from hadamard_zoo.layers.high_order import NCP
from hadamard_zoo.layers.high_order import CPPolynomial
from hadamard_zoo.layers.high_order import InstanceBatchNormalization
from hadamard_zoo.layers.high_order import PiSigma
from hadamard_zoo.layers.high_order import PolyConv2D
from hadamard_zoo.layers.high_order import ProdPolyBlock
from hadamard_zoo.layers.high_order import QuadraticDense
from hadamard_zoo.layers.high_order import SqueezeExcitation
from hadamard_zoo.layers.modulation import GEGLU
from hadamard_zoo.layers.modulation import GLU
from hadamard_zoo.layers.modulation import Highway
from hadamard_zoo.layers.modulation import ReGLU
from hadamard_zoo.layers.modulation import SwiGLU
