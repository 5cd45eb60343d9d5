"""Building blocks, grouped by the survey's taxonomy.

- `high_order`: polynomial networks (CCP, NCP, CP polynomial, Pi-sigma,
  quadratic neurons, polynomial convolutions, product-of-polynomials blocks,
  squeeze-excitation).
- `fusion`: multimodal fusion (Hadamard fusion, CoPE multivariate
  polynomials, compact bilinear pooling, MUTAN, trilinear fusion) and
  knowledge-graph triple scores (RotatE, TransE, DistMult, ComplEx).
- `modulation`: gates and masks (GLU family, highway, FiLM, AdaIN, SPADE,
  soft mask blending, causal linear attention, partial and gated
  convolutions, DropConnect, weight masks and magnitude pruning) and
  recurrent gating (LSTM, GRU, MGU, Li-GRU, IndRNN, RHN and ConvLSTM
  cells; HGRN, GLA and mLSTM with recurrent and chunkwise paths) and
  style modulation (StyleGAN's equalized, modulated and styled
  convolutions, noise injection, ToRGB; SPADE residual blocks).
- `efficient`: Hadamard products in place of matrix products (Poly-SA,
  Poly-NL, gated attention units, mixed chunk attention, MONet's Mu-layer
  and block, StarNet's block, gMLP's spatial gating unit).
"""

from hadamard_zoo.layers.efficient import GatedAttentionUnit
from hadamard_zoo.layers.efficient import MixedChunkAttention
from hadamard_zoo.layers.efficient import OffsetScale
from hadamard_zoo.layers.efficient import PolyBlock
from hadamard_zoo.layers.efficient import PolyMlp
from hadamard_zoo.layers.efficient import PolyNL
from hadamard_zoo.layers.efficient import PolySA
from hadamard_zoo.layers.efficient import SpatialGatingUnit
from hadamard_zoo.layers.efficient import SpatialShift
from hadamard_zoo.layers.efficient import StarBlock
from hadamard_zoo.layers.fusion import CompactBilinearPooling
from hadamard_zoo.layers.fusion import ComplEx
from hadamard_zoo.layers.fusion import DistMult
from hadamard_zoo.layers.fusion import HadamardFusion
from hadamard_zoo.layers.fusion import MultivariatePolynomial
from hadamard_zoo.layers.fusion import MUTANFusion
from hadamard_zoo.layers.fusion import RotatE
from hadamard_zoo.layers.fusion import TransE
from hadamard_zoo.layers.fusion import TrilinearFusion
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
from hadamard_zoo.layers.modulation import GLA
from hadamard_zoo.layers.modulation import GLU
from hadamard_zoo.layers.modulation import HGRN
from hadamard_zoo.layers.modulation import MLSTM
from hadamard_zoo.layers.modulation import SPADE
from hadamard_zoo.layers.modulation import AdaptiveInstanceNormalization
from hadamard_zoo.layers.modulation import CausalLinearAttention
from hadamard_zoo.layers.modulation import ConvLSTM2DCell
from hadamard_zoo.layers.modulation import DropConnectDense
from hadamard_zoo.layers.modulation import EqualizedConv2D
from hadamard_zoo.layers.modulation import EqualizedDense
from hadamard_zoo.layers.modulation import FiLM
from hadamard_zoo.layers.modulation import GatedConv2D
from hadamard_zoo.layers.modulation import GRUCell
from hadamard_zoo.layers.modulation import Highway
from hadamard_zoo.layers.modulation import IndRNNCell
from hadamard_zoo.layers.modulation import LiGRUCell
from hadamard_zoo.layers.modulation import LSTMCell
from hadamard_zoo.layers.modulation import MaxAbsClip
from hadamard_zoo.layers.modulation import MGUCell
from hadamard_zoo.layers.modulation import ModulatedConv2D
from hadamard_zoo.layers.modulation import NoiseInjection
from hadamard_zoo.layers.modulation import PartialConv2D
from hadamard_zoo.layers.modulation import PixelNormalization
from hadamard_zoo.layers.modulation import ReGLU
from hadamard_zoo.layers.modulation import RHNCell
from hadamard_zoo.layers.modulation import SoftMaskBlend
from hadamard_zoo.layers.modulation import SPADEResBlock
from hadamard_zoo.layers.modulation import StyledConv
from hadamard_zoo.layers.modulation import SwiGLU
from hadamard_zoo.layers.modulation import ToRGB
from hadamard_zoo.layers.modulation import WeightMask
from hadamard_zoo.layers.modulation import prune_by_magnitude
from hadamard_zoo.layers.modulation import sparsity_report
