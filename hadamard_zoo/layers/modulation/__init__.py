"""Adaptive modulation: gates and masks that multiply features."""

from hadamard_zoo.layers.modulation.glu import GEGLU
from hadamard_zoo.layers.modulation.glu import GLU
from hadamard_zoo.layers.modulation.glu import ReGLU
from hadamard_zoo.layers.modulation.glu import SwiGLU
from hadamard_zoo.layers.modulation.highway import Highway
