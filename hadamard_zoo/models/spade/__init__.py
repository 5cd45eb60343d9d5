"""SPADE (GauGAN): semantic image synthesis from a label map.

- `SPADEGenerator`: SPADE residual blocks, nearest up-sampling, from a
  latent or from the label map alone.
- `PatchGANDiscriminator`: pix2pixHD's multi-scale PatchGAN, returning
  every scale's intermediate features for the feature-matching loss.
"""

from hadamard_zoo.models.spade.patchgan_discriminator import (
    PatchGANDiscriminator,
)
from hadamard_zoo.models.spade.spade_generator import SPADEGenerator
from hadamard_zoo.models.spade.spade_layers import AverageDownsample
from hadamard_zoo.models.spade.spade_layers import SpectralConv2D
