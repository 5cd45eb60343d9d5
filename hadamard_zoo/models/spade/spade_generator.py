"""The SPADE (GauGAN) generator: a label map modulates every block."""

import keras
import numpy as np
from keras import ops
from keras_hub.models import Backbone

from hadamard_zoo.layers.modulation.spade import PARAM_FREE_NORMS
from hadamard_zoo.layers.modulation.spade_res_block import SPADEResBlock
from hadamard_zoo.models.stylegan._resolutions import check_filters
from hadamard_zoo.models.stylegan._resolutions import check_resolution
from hadamard_zoo.models.stylegan._resolutions import filters_at
from hadamard_zoo.models.stylegan._resolutions import resolutions
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

LEAKY_SLOPE = 0.2


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SPADEGenerator(PresetNameMixin, Backbone):
    """SPADE generator: an image drawn from a semantic label map.

    A functional keras-hub `Backbone`. The label map enters every residual
    block through its `SPADE` normalizations, where it scales and shifts
    the features pixel by pixel (`Norm(x) * (1 + γ(s)) + β(s)`, a Hadamard
    product with a map of the layout):

    ```
    x_4 = reshape(Dense(z), (4, 4, f_4))          with a latent z
    x_4 = conv_3x3(avg_pool(s, 4x4))              without (latent_dim=None)
    x_4 = SPADEResBlock(x_4, s)
    for r = 8, 16, ..., resolution:
        x_r = SPADEResBlock(up2_nearest(x_{r/2}), s)      f_{r/2} -> f_r
    images = tanh(conv_3x3(lrelu(x_R)))
    ```

    with `s` the one-hot label map at full resolution, `lrelu` the leaky
    ReLU of slope 0.2 and `f_r = min(max_filters, base_filters ·
    resolution / r)` channels. Without a latent, the input is the label
    map average-pooled to 4x4 (the share of each class in each cell;
    NVlabs resizes it to the nearest pixel). This is NVlabs'
    `SPADEGenerator` scaled from 4x4 with one block per resolution (it has
    two more at the lowest resolutions); with `latent_dim` set it is their
    VAE variant fed a latent `z ~ N(0, I)` (the image encoder is not part
    of it), so one label map gives many images.

    Args:
        num_classes: int >= 1, the channels of the label map.
        resolution: power of 2 >= 4, the output height and width. Defaults
            to `32`.
        channels: int, the image channels. Defaults to `1`.
        latent_dim: optional int, the size of `z`; `None` draws the first
            features from the label map alone (deterministic). Defaults to
            `64`.
        base_filters: int, the channels at the output resolution. Defaults
            to `32`.
        max_filters: int, the most channels of any resolution. Defaults to
            `256`.
        hidden_filters: int, the hidden channels of every `SPADE` layer.
            Defaults to `64`.
        param_free_norm: `"batch"` or `"instance"`, the normalization
            inside `SPADE`. Defaults to `"batch"` (NVlabs' default).
        spectral_norm: bool, whether the blocks' convolutions are
            spectrally normalised. Defaults to `True` (NVlabs' default).
        dtype: `None`, str or `keras.DTypePolicy`, the dtype policy of
            every layer. Defaults to `None` (the global policy).
        **kwargs: base `Backbone` arguments (`name`, `trainable`).

    Call arguments:
        inputs: `{"segmap": s, "z": z}` with `s` one-hot of shape `(batch,
            resolution, resolution, num_classes)` and `z` of shape
            `(batch, latent_dim)` (no `"z"` when `latent_dim=None`).
        training: bool, whether the batch normalizations use the batch
            statistics and the spectral normalizations refine their
            estimates.

    Returns:
        Images in [-1, 1] of shape `(batch, resolution, resolution,
        channels)`.

    Example:

    >>> import numpy as np
    >>> generator = SPADEGenerator(
    ...     num_classes=3, resolution=8, latent_dim=4, base_filters=4,
    ...     max_filters=8, hidden_filters=4,
    ... )
    >>> labels = np.zeros((2, 8, 8), "int32")
    >>> labels[:, 2:6, 2:6] = 2
    >>> tuple(generator.generate(labels, seed=0).shape)
    (2, 8, 8, 1)

    Reference:
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019;
        Chrysos et al., "Hadamard product in deep learning" (adaptive
        modulation).
    """

    def __init__(
        self,
        num_classes,
        resolution=32,
        channels=1,
        latent_dim=64,
        base_filters=32,
        max_filters=256,
        hidden_filters=64,
        param_free_norm="batch",
        spectral_norm=True,
        dtype=None,
        **kwargs,
    ):
        # === Validation ===
        num_classes = check_int("num_classes", num_classes)
        resolution = check_resolution("resolution", resolution)
        channels = check_int("channels", channels)
        latent_dim = check_optional_int("latent_dim", latent_dim)
        base_filters, max_filters = check_filters(base_filters, max_filters)
        hidden_filters = check_int("hidden_filters", hidden_filters)
        param_free_norm = check_choice(
            "param_free_norm", param_free_norm, PARAM_FREE_NORMS
        )
        spectral_norm = check_bool("spectral_norm", spectral_norm)

        def filters(size):
            return filters_at(size, resolution, base_filters, max_filters)

        # === Functional model ===
        segmap = keras.Input(
            shape=(resolution, resolution, num_classes), name="segmap"
        )
        inputs = {"segmap": segmap}
        if latent_dim is None:
            # Not keras.layers.Resizing: image preprocessing layers default
            # to training=True, which would put every later layer of the
            # graph in training mode when the model is called without it.
            x = keras.layers.AveragePooling2D(
                resolution // 4, dtype=dtype, name="segmap_pool"
            )(segmap)
            x = keras.layers.Conv2D(
                filters(4), 3, padding="same", dtype=dtype, name="stem"
            )(x)
        else:
            z = keras.Input(shape=(latent_dim,), name="z")
            inputs["z"] = z
            x = keras.layers.Dense(16 * filters(4), dtype=dtype, name="stem")(z)
            x = keras.layers.Reshape(
                (4, 4, filters(4)), dtype=dtype, name="reshape"
            )(x)
        for size in resolutions(resolution):
            if size > 4:
                x = keras.layers.UpSampling2D(
                    2, dtype=dtype, name=f"upsample_{size}x{size}"
                )(x)
            x = SPADEResBlock(
                filters(size),
                hidden_filters=hidden_filters,
                param_free_norm=param_free_norm,
                spectral_norm=spectral_norm,
                dtype=dtype,
                name=f"block_{size}x{size}",
            )([x, segmap])
        x = keras.layers.LeakyReLU(LEAKY_SLOPE, dtype=dtype, name="lrelu")(x)
        images = keras.layers.Conv2D(
            channels,
            3,
            padding="same",
            activation="tanh",
            dtype=dtype,
            name="to_image",
        )(x)
        super().__init__(inputs=inputs, outputs=images, dtype=dtype, **kwargs)

        # === Config ===
        self.num_classes = num_classes
        self.resolution = resolution
        self.channels = channels
        self.latent_dim = latent_dim
        self.base_filters = base_filters
        self.max_filters = max_filters
        self.hidden_filters = hidden_filters
        self.param_free_norm = param_free_norm
        self.spectral_norm = spectral_norm

    def segmap_from_labels(self, labels):
        """One-hot label maps of integer class ids, checked.

        Args:
            labels: integer array of shape `(batch, resolution,
                resolution)`, ids in `[0, num_classes)`.

        Returns:
            float32 NumPy array of shape `(batch, resolution, resolution,
            num_classes)`.
        """
        labels = np.asarray(labels)
        expected = (self.resolution, self.resolution)
        if labels.ndim != 3 or labels.shape[1:] != expected:
            raise ValueError(
                "`labels` must be a label map of shape (batch, "
                f"{self.resolution}, {self.resolution}) (resolution="
                f"{self.resolution}). Received: labels with shape "
                f"{labels.shape}."
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                "`labels` must hold integer class ids. Received: labels "
                f"of dtype {labels.dtype}."
            )
        unknown = np.unique(labels[(labels < 0) | (labels >= self.num_classes)])
        if unknown.size:
            raise ValueError(
                f"`labels` must hold class ids in [0, {self.num_classes}) "
                f"(num_classes={self.num_classes}). Received unknown ids "
                f"{unknown.tolist()}."
            )
        return np.eye(self.num_classes, dtype="float32")[labels]

    def generate(self, labels, z=None, seed=None):
        """Images of integer label maps, with a random or given latent.

        Args:
            labels: integer array of shape `(batch, resolution,
                resolution)`, ids in `[0, num_classes)`.
            z: optional latents of shape `(batch, latent_dim)`; drawn
                from `N(0, I)` when `None`. Must be `None` when
                `latent_dim=None`.
            seed: optional int, the seed of the drawn `z` (one backend
                reproduces its own draws only).

        Returns:
            Images of shape `(batch, resolution, resolution, channels)`.
        """
        segmap = self.segmap_from_labels(labels)
        inputs = {"segmap": ops.convert_to_tensor(segmap)}
        if self.latent_dim is None:
            if z is not None:
                raise ValueError(
                    "This generator has no latent (latent_dim=None); "
                    "`z` must be None. Received a z."
                )
        else:
            if z is None:
                z = keras.random.normal(
                    (segmap.shape[0], self.latent_dim), seed=seed
                )
            z = ops.convert_to_tensor(z)
            if tuple(z.shape) != (segmap.shape[0], self.latent_dim):
                raise ValueError(
                    f"`z` must have shape ({segmap.shape[0]}, "
                    f"{self.latent_dim}) (one latent of size latent_dim="
                    f"{self.latent_dim} per label map). Received: z with "
                    f"shape {tuple(z.shape)}."
                )
            inputs["z"] = z
        return self(inputs, training=False)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "resolution": self.resolution,
                "channels": self.channels,
                "latent_dim": self.latent_dim,
                "base_filters": self.base_filters,
                "max_filters": self.max_filters,
                "hidden_filters": self.hidden_filters,
                "param_free_norm": self.param_free_norm,
                "spectral_norm": self.spectral_norm,
            }
        )
        return config
