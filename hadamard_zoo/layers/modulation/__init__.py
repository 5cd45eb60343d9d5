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
from hadamard_zoo.layers.modulation.soft_mask_blend import SoftMaskBlend
from hadamard_zoo.layers.modulation.spade import SPADE
from hadamard_zoo.layers.modulation.weight_mask import WeightMask
