"""hadamard_zoo: Keras 3 layers and models built on the Hadamard product."""

from hadamard_zoo import layers
from hadamard_zoo.version import __version__
