"""The image converter of the MONet models."""

import keras

from hadamard_zoo.models.monet.monet_backbone import MONetBackbone
from hadamard_zoo.models.pinet.pinet_image_converter import PiNetImageConverter


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class MONetImageConverter(PiNetImageConverter):
    """Image converter of the MONet models.

    The Π-Net converter (`PiNetImageConverter`) for `MONetBackbone`: an
    optional channel-count fix-up (RGB to BT.601 luma, or grayscale
    repeated to RGB), then keras-hub's resize and affine map:

    ```
    x = match_channels(x)                 (channels=1 or 3; None: as is)
    x = resize(x, image_size)
    x = x * scale + offset
    ```

    Only `backbone_cls` differs, so that keras-hub's
    `ImageConverter.from_preset` finds this class for MONet presets.

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
    >>> converter = MONetImageConverter(
    ...     image_size=(28, 28), scale=1.0 / 255, channels=1
    ... )
    >>> tuple(converter(np.zeros((2, 32, 32, 3), "uint8")).shape)
    (2, 28, 28, 1)

    Reference:
        Cheng et al., "Multilinear Operator Networks", ICLR 2024;
        ITU-R Recommendation BT.601 (luma weights).
    """

    backbone_cls = MONetBackbone
