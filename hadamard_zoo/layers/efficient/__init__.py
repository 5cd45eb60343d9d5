"""Efficient operators: Hadamard products in place of matrix products.

Token mixers whose cost is linear in the sequence length (Poly-SA and
Poly-NL, FLASH's gated attention unit and mixed chunk attention, gMLP's
spatial gating unit) and the multiplicative blocks of MONet and StarNet.
"""

from hadamard_zoo.layers.efficient.gated_attention_unit import (
    GatedAttentionUnit,
)
from hadamard_zoo.layers.efficient.mixed_chunk_attention import (
    MixedChunkAttention,
)
from hadamard_zoo.layers.efficient.offset_scale import OffsetScale
from hadamard_zoo.layers.efficient.poly_block import PolyBlock
from hadamard_zoo.layers.efficient.poly_mlp import PolyMlp
from hadamard_zoo.layers.efficient.poly_nl import PolyNL
from hadamard_zoo.layers.efficient.poly_sa import PolySA
from hadamard_zoo.layers.efficient.spatial_gating_unit import SpatialGatingUnit
from hadamard_zoo.layers.efficient.spatial_shift import SpatialShift
from hadamard_zoo.layers.efficient.star_block import StarBlock
