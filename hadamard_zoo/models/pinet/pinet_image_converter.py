"""The image converter of the Π-Net models."""

import keras
import numpy as np
from keras import ops
from keras_hub.layers import ImageConverter

from hadamard_zoo.models.pinet.pinet_backbone import PiNetBackbone
from hadamard_zoo.presets import PresetNameMixin
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_optional_int

# ITU-R BT.601 luma weights of R, G and B.
LUMA_WEIGHTS = (0.299, 0.587, 0.114)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PiNetImageConverter(PresetNameMixin, ImageConverter):
    """Image converter of the Π-Net models, with a channel-count fix-up.

    keras-hub's `ImageConverter` (resize to `image_size`, then
    `x * scale + offset`), preceded by a conversion of the number of
    channels to what the backbone expects, so an MNIST model accepts RGB
    photos and an RGB model accepts grayscale digits:

    ```
    channels == 1, RGB input:        x = 0.299 R + 0.587 G + 0.114 B
    channels == 3, grayscale input:  x = (x, x, x)
    then                             x = resize(x, image_size)
                                     x = x * scale + offset
    ```

    (the luma weights of ITU-R BT.601). The conversion runs first, so
    `scale` and `offset` are those of the converted channels. A grayscale
    conversion returns floats (the converter's compute dtype) even without
    `scale`; a repeat keeps the input dtype.

    Args:
        image_size: `None` or `(height, width)`, the output size of the
            images; `None` leaves the size as it is. Defaults to `None`.
        scale: `None`, a float or one float per channel, the factor applied
            after resizing. Defaults to `None`.
        offset: `None`, a float or one float per channel, added after the
            scale. Defaults to `None`.
        channels: `None`, `1` or `3`, the number of channels to output.
            Inputs with 3 channels are converted to grayscale when
            `channels=1`, inputs with 1 channel repeated when `channels=3`;
            any other channel count raises a `ValueError`. `None` leaves
            the channels as they are. Defaults to `None`.
        **kwargs: the other arguments of `keras_hub.layers.ImageConverter`
            (`crop_to_aspect_ratio`, `interpolation`, `data_format`, ...)
            and base `Layer` arguments.

    Call arguments:
        inputs: images of shape `(height, width, c)` or
            `(batch, height, width, c)` (channels first with
            `data_format="channels_first"`), any dtype.

    Returns:
        The converted images.

    Example:

    >>> import numpy as np
    >>> converter = PiNetImageConverter(
    ...     image_size=(28, 28), scale=1.0 / 255, channels=1
    ... )
    >>> rgb = np.full((2, 32, 32, 3), 255, "uint8")
    >>> gray = converter(rgb)
    >>> tuple(gray.shape)
    (2, 28, 28, 1)
    >>> round(float(np.max(np.asarray(gray))), 4)
    1.0

    Reference:
        Chrysos et al., "Π-nets: Deep Polynomial Neural Networks", CVPR 2020;
        ITU-R Recommendation BT.601 (luma weights).
    """

    backbone_cls = PiNetBackbone

    def __init__(
        self,
        image_size=None,
        scale=None,
        offset=None,
        channels=None,
        **kwargs,
    ):
        channels = check_optional_int("channels", channels)
        channels = check_choice("channels", channels, (None, 1, 3))
        super().__init__(
            image_size=image_size, scale=scale, offset=offset, **kwargs
        )
        self.channels = channels

    def _call_python(self, inputs):
        if self.channels is None:
            return super()._call_python(inputs)
        if isinstance(inputs, (list, tuple)):
            try:
                inputs = np.array(inputs)
            except ValueError:  # images of different sizes
                return type(inputs)(self._call_python(x) for x in inputs)
        if isinstance(inputs, dict):
            inputs = dict(inputs)
            inputs["images"] = self._match_channels(inputs["images"])
        else:
            inputs = self._match_channels(inputs)
        return super()._call_python(inputs)

    def _match_channels(self, images):
        if isinstance(images, np.ndarray):
            images = ops.convert_to_tensor(images)
        shape = tuple(images.shape)
        channels_first = self.data_format == "channels_first"
        if len(shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} expects images of rank 3 or 4. "
                f"Received images with shape {shape}."
            )
        count = shape[-3] if channels_first else shape[-1]
        if count is None or count == self.channels:
            return images
        if count not in (1, 3):
            raise ValueError(
                f"{type(self).__name__} (channels={self.channels}) converts "
                "images with 1 or 3 channels. Received images with shape "
                f"{shape} ({count} channels)."
            )
        trailing = (slice(None),) * (2 if channels_first else 0)
        if self.channels == 1:  # RGB -> luma
            # `_convert_types` casts with the backend, or with tf.data's
            # TensorFlow when the converter runs inside a tf.data pipeline.
            images, _ = self._convert_types(
                images, np.zeros(()), self.compute_dtype
            )
            gray = None
            for i, weight in enumerate(LUMA_WEIGHTS):
                term = images[(Ellipsis, slice(i, i + 1)) + trailing] * weight
                gray = term if gray is None else gray + term
            return gray
        # Grayscale -> RGB: broadcast against ones of the image's dtype.
        ones = np.ones((3, 1, 1) if channels_first else (3,))
        images, ones = self._convert_types(images, ones, images.dtype)
        return images * ones

    def get_config(self):
        config = super().get_config()
        config.update(
            {"channels": self.channels, "data_format": self.data_format}
        )
        return config
