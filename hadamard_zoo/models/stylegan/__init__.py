"""StyleGAN-like image generation and its DCGAN baseline.

- `StyleGANGenerator`: mapping network, learned constant, styled
  (modulated or AdaIN) convolutions with noise, skip `ToRGB`; truncation
  and style mixing as methods.
- `StyleGANDiscriminator`: StyleGAN2's residual discriminator with the
  minibatch standard deviation.
- `DCGANGenerator` / `DCGANDiscriminator`: the baseline of similar size,
  whose latent enters once and modulates nothing.
"""

from hadamard_zoo.models.stylegan.dcgan import DCGANDiscriminator
from hadamard_zoo.models.stylegan.dcgan import DCGANGenerator
from hadamard_zoo.models.stylegan.stylegan_discriminator import (
    StyleGANDiscriminator,
)
from hadamard_zoo.models.stylegan.stylegan_generator import StyleGANGenerator
from hadamard_zoo.models.stylegan.stylegan_layers import ConstantInput
from hadamard_zoo.models.stylegan.stylegan_layers import LatentAverage
from hadamard_zoo.models.stylegan.stylegan_layers import (
    MinibatchStandardDeviation,
)
