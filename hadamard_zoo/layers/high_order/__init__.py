"""High-order interactions: polynomial networks built on Hadamard products."""

from hadamard_zoo.layers.high_order.ccp import CCP
