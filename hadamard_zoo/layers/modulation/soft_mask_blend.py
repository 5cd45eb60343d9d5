"""Soft-mask blend: a gated average of two tensors (survey Eq. 8)."""

import keras

from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.layers.modulation._inputs import list_input_shapes

NAMES = ("r", "a", "b")


def broadcast_shapes(layer, shapes):
    """The NumPy broadcast of `shapes` (`None` = unknown), or a clear error."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    result = []
    for sizes in zip(*padded, strict=True):
        known = {d for d in sizes if d is not None and d != 1}
        if len(known) > 1:
            received = ", ".join(
                f"{n}: {tuple(s)}" for n, s in zip(NAMES, shapes, strict=True)
            )
            raise ValueError(
                f"Layer '{layer.name}' (SoftMaskBlend) expects inputs "
                "[r, a, b] whose shapes broadcast together. Received "
                f"{received}."
            )
        if known:
            result.append(known.pop())
        elif None in sizes:
            result.append(None)
        else:
            result.append(1)
    return tuple(result)


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class SoftMaskBlend(keras.layers.Layer):
    """Soft-mask blend: `r * a + (1 - r) * b`, a gated average (Eq. 8).

    A mask `r` with values in [0, 1] picks, element by element, how much
    of `a` and how much of `b` to keep:

    ```
    R = act(r)                   (act = mask_activation, or the identity)
    Y = R * A + (1 - R) * B
    ```

    where `*` is the Hadamard product. This is the survey's Eq. 8, the
    convex combination behind the GRU update gate, highway layers and
    mask-based image blending (inpainting, compositing). The layer has no
    weights: `r` is computed elsewhere (by a dense or convolutional map,
    a predicted alpha matte ...), and `mask_activation="sigmoid"` maps
    its logits into (0, 1). The three inputs may have any shapes that
    broadcast together (e.g. a one-channel mask `(batch, H, W, 1)` blends
    two images `(batch, H, W, 3)`).

    Args:
        mask_activation: optional activation applied to `r` before the
            blend, e.g. `"sigmoid"`. Defaults to `None` (`r` is used as
            given and should already lie in [0, 1]).
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[r, a, b]` of tensors whose shapes broadcast
            together.

    Returns:
        Tensor of the broadcast shape of `r`, `a` and `b`.

    Example:

    >>> import numpy as np
    >>> layer = SoftMaskBlend(mask_activation="sigmoid")
    >>> r = np.zeros((2, 8, 8, 1), "float32")
    >>> a = np.ones((2, 8, 8, 3), "float32")
    >>> b = np.zeros((2, 8, 8, 3), "float32")
    >>> y = layer([r, a, b])
    >>> tuple(y.shape)
    (2, 8, 8, 3)
    >>> float(keras.ops.convert_to_numpy(y)[0, 0, 0, 0])
    0.5

    Reference:
        Chrysos et al., "Hadamard product in deep learning", Eq. 8;
        Srivastava et al., "Training Very Deep Networks", NeurIPS 2015;
        Cho et al., "Learning Phrase Representations using RNN
        Encoder-Decoder for Statistical Machine Translation", EMNLP 2014.
    """

    def __init__(self, mask_activation=None, **kwargs):
        super().__init__(**kwargs)
        self.mask_activation = get_activation(
            mask_activation, "mask_activation"
        )

    def build(self, input_shape):
        shapes = list_input_shapes(self, input_shape, NAMES)
        broadcast_shapes(self, shapes)

    def call(self, inputs):
        r, a, b = inputs
        broadcast_shapes(self, [tuple(t.shape) for t in inputs])
        if self.mask_activation is not None:
            r = self.mask_activation(r)
        return r * a + (1.0 - r) * b

    def compute_output_shape(self, input_shape):
        return broadcast_shapes(
            self, list_input_shapes(self, input_shape, NAMES)
        )

    def get_config(self):
        config = super().get_config()
        config["mask_activation"] = serialize_activation(self.mask_activation)
        return config
