"""Adaptive modulation: gates and masks that multiply features."""

from hadamard_zoo.layers.modulation.adaptive_instance_normalization import (
    AdaptiveInstanceNormalization,
)
from hadamard_zoo.layers.modulation.causal_linear_attention import (
    CausalLinearAttention,
)
from hadamard_zoo.layers.modulation.drop_connect import DropConnectDense
from hadamard_zoo.layers.modulation.film import FiLM
from hadamard_zoo.layers.modulation.gated_conv2d import GatedConv2D
from hadamard_zoo.layers.modulation.glu import GEGLU
from hadamard_zoo.layers.modulation.glu import GLU
from hadamard_zoo.layers.modulation.glu import ReGLU
from hadamard_zoo.layers.modulation.glu import SwiGLU
from hadamard_zoo.layers.modulation.highway import Highway
from hadamard_zoo.layers.modulation.partial_conv2d import PartialConv2D
from hadamard_zoo.layers.modulation.pruning import prune_by_magnitude
from hadamard_zoo.layers.modulation.pruning import sparsity_report
from hadamard_zoo.layers.modulation.recurrent import GLA
from hadamard_zoo.layers.modulation.recurrent import HGRN
from hadamard_zoo.layers.modulation.recurrent import MLSTM
from hadamard_zoo.layers.modulation.recurrent import ConvLSTM2DCell
from hadamard_zoo.layers.modulation.recurrent import GRUCell
from hadamard_zoo.layers.modulation.recurrent import IndRNNCell
from hadamard_zoo.layers.modulation.recurrent import LiGRUCell
from hadamard_zoo.layers.modulation.recurrent import LSTMCell
from hadamard_zoo.layers.modulation.recurrent import MaxAbsClip
from hadamard_zoo.layers.modulation.recurrent import MGUCell
from hadamard_zoo.layers.modulation.recurrent import RHNCell
from hadamard_zoo.layers.modulation.soft_mask_blend import SoftMaskBlend
from hadamard_zoo.layers.modulation.spade import SPADE
from hadamard_zoo.layers.modulation.spade_res_block import SPADEResBlock
from hadamard_zoo.layers.modulation.style import EqualizedConv2D
from hadamard_zoo.layers.modulation.style import EqualizedDense
from hadamard_zoo.layers.modulation.style import ModulatedConv2D
from hadamard_zoo.layers.modulation.style import NoiseInjection
from hadamard_zoo.layers.modulation.style import PixelNormalization
from hadamard_zoo.layers.modulation.style import StyledConv
from hadamard_zoo.layers.modulation.style import ToRGB
from hadamard_zoo.layers.modulation.weight_mask import WeightMask
