"""The StyleGAN2-like generator: mapping network, styled synthesis, skips."""

import keras
from keras import ops
from keras_hub.models import Backbone

from hadamard_zoo.layers.modulation.style import EqualizedDense
from hadamard_zoo.layers.modulation.style import PixelNormalization
from hadamard_zoo.layers.modulation.style import StyledConv
from hadamard_zoo.layers.modulation.style import ToRGB
from hadamard_zoo.layers.modulation.style.styled_conv import MODES
from hadamard_zoo.layers.modulation.style.to_rgb import INTERPOLATIONS
from hadamard_zoo.models.stylegan._resolutions import check_filters
from hadamard_zoo.models.stylegan._resolutions import check_resolution
from hadamard_zoo.models.stylegan._resolutions import filters_at
from hadamard_zoo.models.stylegan._resolutions import resolutions
from hadamard_zoo.models.stylegan.stylegan_layers import ConstantInput
from hadamard_zoo.models.stylegan.stylegan_layers import LatentAverage
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

NOISE_MODES = ("random", "none")


def _check_positive(name, value):
    value = check_float(name, value, minimum=0.0)
    if value <= 0.0:
        raise ValueError(
            f"`{name}` must be a number > 0. Received: {name}={value}."
        )
    return value


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class StyleGANGenerator(PresetNameMixin, Backbone):
    """StyleGAN2-like generator: styles modulate every convolution.

    A functional keras-hub `Backbone` from a latent `z` to an image:

    ```
    w     = MLP_L(PixelNorm(z))          L equalized dense layers, lrelu,
                                         learning rate × mapping_lr_multiplier
    x_4   = C                            learned 4x4 constant
    x_4   = StyledConv(x_4, w_0)
    img_4 = ToRGB(x_4, w_1)
    for r = 8, 16, ..., resolution:
        x_r   = StyledConv(up2(x_{r/2}), w_i)        (up-sampling)
        x_r   = StyledConv(x_r, w_{i+1})
        img_r = ToRGB(x_r, w_{i+2}) + up2(img_{r/2})
    ```

    Each `StyledConv` multiplies its kernel (`mode="modulated"`, StyleGAN2:
    modulation then demodulation) or its normalised activations
    (`mode="adain"`, StyleGAN: AdaIN) by a style, an affine map of `w`,
    and adds per-pixel noise scaled per channel; the image is the sum of
    every resolution's `ToRGB` output (StyleGAN2's skip generator). The
    output is linear, images in about [-1, 1]. The network reads
    `num_ws = 2 log2(resolution) - 2` latents `w_0..w_{num_ws-1}`, the
    `ToRGB` of a resolution sharing its `w` with the next resolution's
    first convolution, as StyleGAN2 does.

    Called as a model (`generator({"z": z})`) every layer reads the same
    `w`, and training calls (`training=True`) update `w_avg`, an
    exponential moving average of `w` (see `LatentAverage`). The methods
    give the rest of StyleGAN:

    - `mapping(z, psi)`: the `num_ws` latents, truncated
      (`w_avg + psi (w - w_avg)`);
    - `synthesize(ws)`: the image of given per-layer latents;
    - `generate(z, psi)`: both, with the truncation trick;
    - `mix(z1, z2, crossover, psi)`: style mixing, the layers before
      `crossover` styled by `z1`, the others by `z2`.

    The channels are `base_filters` at the output resolution, doubling at
    every halving of the size, capped at `max_filters`: the defaults give
    `{4: 128, 8: 128, 16: 64, 32: 32}` at 32x32 (about 0.78 M parameters,
    66 k of them in the mapping network).

    Args:
        latent_dim: int, the size of `z`. Defaults to `128`.
        w_dim: int, the size of `w` (and of the mapping network's hidden
            layers). Defaults to `128`.
        mapping_layers: int, the number `L` of mapping layers. Defaults to
            `4`.
        resolution: power of 2 >= 4, the output height and width. Defaults
            to `32`.
        channels: int, the image channels. Defaults to `1`.
        base_filters: int, the channels at the output resolution. Defaults
            to `32`.
        max_filters: int, the most channels of any resolution. Defaults to
            `128`.
        mode: `"modulated"` or `"adain"`, the form of `StyledConv`.
            Defaults to `"modulated"`.
        mapping_lr_multiplier: float > 0, the learning-rate multiplier of
            the mapping network's equalized layers. Defaults to `0.01` (as
            StyleGAN).
        w_avg_momentum: float in [0, 1], the momentum of the moving average
            `w_avg`. Defaults to `0.995` (StyleGAN2's `w_avg_beta`).
        skip_interpolation: `"bilinear"` or `"nearest"`, how each `ToRGB`
            doubles the previous image. Defaults to `"bilinear"`.
        seed: optional int >= 0, seeds the noise layers (layer `i` gets
            `seed + i`). Defaults to `None`.
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        inputs: `{"z": z}` with `z` of shape `(batch, latent_dim)`.
        training: bool, whether to update `w_avg`.

    Returns:
        Images of shape `(batch, resolution, resolution, channels)`.

    Example:

    >>> import numpy as np
    >>> generator = StyleGANGenerator(
    ...     latent_dim=8, w_dim=8, mapping_layers=2, resolution=8,
    ...     base_filters=4, max_filters=8,
    ... )
    >>> z = np.random.default_rng(0).normal(size=(2, 8)).astype("float32")
    >>> tuple(generator({"z": z}).shape), generator.num_ws
    ((2, 8, 8, 1), 4)
    >>> tuple(generator.generate(z, psi=0.7).shape)
    (2, 8, 8, 1)
    >>> tuple(generator.mix(z, z[::-1], crossover=2).shape)
    (2, 8, 8, 1)

    Reference:
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(
        self,
        latent_dim=128,
        w_dim=128,
        mapping_layers=4,
        resolution=32,
        channels=1,
        base_filters=32,
        max_filters=128,
        mode="modulated",
        mapping_lr_multiplier=0.01,
        w_avg_momentum=0.995,
        skip_interpolation="bilinear",
        seed=None,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        latent_dim = check_int("latent_dim", latent_dim)
        w_dim = check_int("w_dim", w_dim)
        mapping_layers = check_int("mapping_layers", mapping_layers)
        resolution = check_resolution("resolution", resolution)
        channels = check_int("channels", channels)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        mode = check_choice("mode", mode, MODES)
        mapping_lr_multiplier = _check_positive(
            "mapping_lr_multiplier", mapping_lr_multiplier
        )
        w_avg_momentum = check_float("w_avg_momentum", w_avg_momentum, 0, 1)
        skip_interpolation = check_choice(
            "skip_interpolation", skip_interpolation, INTERPOLATIONS
        )
        seed = check_optional_int("seed", seed, minimum=0)

        # === Layers ===
        def filters(size):
            return filters_at(size, resolution, base_filters, max_filters)

        self.z_normalization = PixelNormalization(
            dtype=dtype, name="z_normalization"
        )
        self.mapping_dense = [
            EqualizedDense(
                w_dim,
                lr_multiplier=mapping_lr_multiplier,
                activation="lrelu",
                dtype=dtype,
                name=f"mapping_{i}",
            )
            for i in range(mapping_layers)
        ]
        self.latent_average = LatentAverage(
            w_avg_momentum, dtype=dtype, name="w_average"
        )
        self.constant_input = ConstantInput(
            filters(4), dtype=dtype, name="constant_input"
        )
        self.synthesis_convs = []
        self.to_rgb_layers = []
        for size in resolutions(resolution):
            upsamples = (True, False) if size > 4 else (False,)
            for j, upsample in enumerate(upsamples):
                index = len(self.synthesis_convs)
                self.synthesis_convs.append(
                    StyledConv(
                        filters(size),
                        mode=mode,
                        upsample=upsample,
                        seed=None if seed is None else seed + index,
                        dtype=dtype,
                        name=f"conv_{size}x{size}_{j}",
                    )
                )
            self.to_rgb_layers.append(
                ToRGB(
                    channels,
                    skip_interpolation=skip_interpolation,
                    dtype=dtype,
                    name=f"to_rgb_{size}x{size}",
                )
            )
        num_ws = len(self.synthesis_convs) + 1

        # === Functional model ===
        z = keras.Input(shape=(latent_dim,), name="z")
        w = self.latent_average(self._map(z))
        images = self._synthesis([w] * num_ws, [None] * (num_ws - 1))
        super().__init__(inputs={"z": z}, outputs=images, dtype=dtype, **kwargs)

        # === Config ===
        self.latent_dim = latent_dim
        self.w_dim = w_dim
        self.mapping_layers = mapping_layers
        self.resolution = resolution
        self.channels = channels
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.mode = mode
        self.mapping_lr_multiplier = mapping_lr_multiplier
        self.w_avg_momentum = w_avg_momentum
        self.skip_interpolation = skip_interpolation
        self.seed = seed
        self.num_ws = num_ws

    # --------------------------------------------------------- the graph

    def _map(self, z):
        w = self.z_normalization(z)
        for layer in self.mapping_dense:
            w = layer(w)
        return w

    def _synthesis(self, ws, noises):
        """The image of the per-layer latents `ws` (a list of `num_ws`).

        `noises` holds one noise image per `StyledConv`, or `None` for
        noise drawn by the layer.
        """

        def conv(x, i):
            inputs = [x, ws[i]]
            if noises[i] is not None:
                inputs.append(noises[i])
            return self.synthesis_convs[i](inputs)

        x = conv(self.constant_input(ws[0]), 0)
        images = self.to_rgb_layers[0]([x, ws[1]])
        for block, to_rgb in enumerate(self.to_rgb_layers[1:]):
            i = 1 + 2 * block
            x = conv(conv(x, i), i + 1)
            images = to_rgb([x, ws[i + 2], images])
        return images

    # ----------------------------------------------------- the methods

    @property
    def w_avg(self):
        """The tracked average latent `w`, shape `(w_dim,)`."""
        return self.latent_average.w_avg

    def _check_z(self, z, name="z"):
        z = ops.convert_to_tensor(z, dtype=self.compute_dtype)
        if len(z.shape) != 2 or z.shape[-1] != self.latent_dim:
            raise ValueError(
                f"`{name}` must have shape (batch, {self.latent_dim}) "
                f"(latent_dim={self.latent_dim}). Received: {name} with "
                f"shape {tuple(z.shape)}."
            )
        return z

    def mapping(self, z, psi=1.0):
        """The `num_ws` latents of `z`, truncated towards `w_avg` by `psi`.

        Args:
            z: latents of shape `(batch, latent_dim)`.
            psi: float in [0, 1], the truncation `ψ`: every `w` becomes
                `w_avg + ψ (w - w_avg)`. Defaults to `1.0` (none).

        Returns:
            Tensor of shape `(batch, num_ws, w_dim)`.
        """
        psi = check_float("psi", psi, 0.0, 1.0)
        w = self._map(self._check_z(z))
        if psi != 1.0:
            w = self.latent_average.truncate(w, psi)
        return ops.repeat(ops.expand_dims(w, 1), self.num_ws, axis=1)

    def synthesize(self, ws, noise_mode="random"):
        """The images of per-layer latents `ws`.

        Args:
            ws: tensor of shape `(batch, num_ws, w_dim)` (layer `i` reads
                `ws[:, i]`), or `(batch, w_dim)` for the same `w`
                everywhere.
            noise_mode: `"random"` (fresh noise, as in training) or
                `"none"` (no noise: a deterministic image). Defaults to
                `"random"`.

        Returns:
            Images of shape `(batch, resolution, resolution, channels)`.
        """
        noise_mode = check_choice("noise_mode", noise_mode, NOISE_MODES)
        ws = ops.convert_to_tensor(ws, dtype=self.compute_dtype)
        shape = tuple(ws.shape)
        if len(shape) == 2 and shape[-1] == self.w_dim:
            ws = ops.repeat(ops.expand_dims(ws, 1), self.num_ws, axis=1)
        elif shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(
                f"`ws` must have shape (batch, {self.num_ws}, {self.w_dim}) "
                f"or (batch, {self.w_dim}) (num_ws={self.num_ws}, w_dim="
                f"{self.w_dim}). Received: ws with shape {shape}."
            )
        latents = [ws[:, i] for i in range(self.num_ws)]
        noises = [None] * len(self.synthesis_convs)
        if noise_mode == "none":
            batch = ops.shape(ws)[0]
            noises = [
                ops.zeros((batch, size, size, 1), dtype=self.compute_dtype)
                for size in self._conv_sizes()
            ]
        return self._synthesis(latents, noises)

    def _conv_sizes(self):
        sizes = resolutions(self.resolution)
        return [sizes[0]] + [s for s in sizes[1:] for _ in range(2)]

    def generate(self, z, psi=1.0, noise_mode="random"):
        """Images of latents `z` with the truncation trick.

        Args:
            z: latents of shape `(batch, latent_dim)`.
            psi: float in [0, 1], the truncation (see `mapping`). Defaults
                to `1.0` (none).
            noise_mode: `"random"` or `"none"` (see `synthesize`).

        Returns:
            Images of shape `(batch, resolution, resolution, channels)`.
        """
        return self.synthesize(self.mapping(z, psi), noise_mode)

    def mix(self, z1, z2, crossover, psi=1.0, noise_mode="random"):
        """Style mixing: `z1` styles the layers before `crossover`, `z2`
        the others.

        Layer `i < crossover` reads `w(z1)` and the others `w(z2)`, so
        `crossover=0` is `generate(z2)` and `crossover=num_ws` is
        `generate(z1)`; low crossovers keep `z1`'s coarse layout only.

        Args:
            z1, z2: latents of shape `(batch, latent_dim)`.
            crossover: int in `[0, num_ws]`, the first layer styled by
                `z2`.
            psi: float in [0, 1], the truncation of both. Defaults to
                `1.0`.
            noise_mode: `"random"` or `"none"` (see `synthesize`).

        Returns:
            Images of shape `(batch, resolution, resolution, channels)`.
        """
        crossover = check_int("crossover", crossover, minimum=0)
        if crossover > self.num_ws:
            raise ValueError(
                f"`crossover` must be in [0, num_ws={self.num_ws}]. "
                f"Received: crossover={crossover}."
            )
        ws1 = self.mapping(self._check_z(z1, "z1"), psi)
        ws2 = self.mapping(self._check_z(z2, "z2"), psi)
        ws = ops.concatenate([ws1[:, :crossover], ws2[:, crossover:]], 1)
        return self.synthesize(ws, noise_mode)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "w_dim": self.w_dim,
                "mapping_layers": self.mapping_layers,
                "resolution": self.resolution,
                "channels": self.channels,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "mode": self.mode,
                "mapping_lr_multiplier": self.mapping_lr_multiplier,
                "w_avg_momentum": self.w_avg_momentum,
                "skip_interpolation": self.skip_interpolation,
                "seed": self.seed,
            }
        )
        return config
