"""StyleGAN-family layers: styles that multiply kernels and features.

Equalized-learning-rate `EqualizedDense` / `EqualizedConv2D`, ProGAN's
`PixelNormalization`, StyleGAN2's `ModulatedConv2D` (a style scales the
kernel per sample), `NoiseInjection`, the synthesis layer `StyledConv`
(modulated or AdaIN form) and the skip generator's `ToRGB`.
"""

from hadamard_zoo.layers.modulation.style.equalized_conv2d import (
    EqualizedConv2D,
)
from hadamard_zoo.layers.modulation.style.equalized_dense import EqualizedDense
from hadamard_zoo.layers.modulation.style.modulated_conv2d import (
    ModulatedConv2D,
)
from hadamard_zoo.layers.modulation.style.noise_injection import NoiseInjection
from hadamard_zoo.layers.modulation.style.pixel_normalization import (
    PixelNormalization,
)
from hadamard_zoo.layers.modulation.style.styled_conv import StyledConv
from hadamard_zoo.layers.modulation.style.to_rgb import ToRGB
