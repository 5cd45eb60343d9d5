"""The image converter of the Poly-SA image models."""

import keras

from hadamard_zoo.models.pinet.pinet_image_converter import PiNetImageConverter
from hadamard_zoo.models.polysa_transformer.polysa_image_backbone import (
    PolySAImageBackbone,
)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolySAImageConverter(PiNetImageConverter):
    """Image converter of the Poly-SA image models.

    The Π-Net converter (`PiNetImageConverter`) for `PolySAImageBackbone`:
    an optional channel-count fix-up (RGB to BT.601 luma, or grayscale
    repeated to RGB), then keras-hub's resize and affine map:

    ```
    x = match_channels(x)                 (channels=1 or 3; None: as is)
    x = resize(x, image_size)
    x = x * scale + offset
    ```

    Only `backbone_cls` differs, so that keras-hub's
    `ImageConverter.from_preset` finds this class for Poly-SA presets.

    Args:
        image_size: `None` or `(height, width)`, the output size.
            Defaults to `None` (unchanged).
        scale: `None`, a float or one float per channel. Defaults to
            `None`.
        offset: `None`, a float or one float per channel. Defaults to
            `None`.
        channels: `None`, `1` or `3`, the channels to output. Defaults to
            `None`.
        **kwargs: the other arguments of `keras_hub.layers.ImageConverter`
            and base `Layer` arguments.

    Call arguments:
        inputs: images of shape `(height, width, c)` or
            `(batch, height, width, c)`, any dtype.

    Returns:
        The converted images.

    Example:

    >>> import numpy as np
    >>> converter = PolySAImageConverter(
    ...     image_size=(8, 8), scale=1.0 / 127.5, offset=-1.0
    ... )
    >>> images = converter(np.full((2, 16, 16, 3), 255, "uint8"))
    >>> tuple(images.shape), round(float(np.max(np.asarray(images))), 4)
    ((2, 8, 8, 3), 1.0)

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021
        (the preprocessing of patch transformers).
    """

    backbone_cls = PolySAImageBackbone
