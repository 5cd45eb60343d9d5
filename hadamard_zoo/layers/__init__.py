"""Building blocks, grouped by the survey's taxonomy."""

from hadamard_zoo.layers.high_order import CCP
