"""NumPy convolution shared by the masked-convolution layer tests.

Written from the definition (loops over output pixels), independent of any
Keras code, with Keras/TensorFlow "same" padding.
"""

import numpy as np


def same_pads(length, kernel, stride, dilation=1):
    """TF/Keras 'same' padding: (before, after) along one axis."""
    effective = (kernel - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Cross-correlation of NHWC `x` with an HWIO `kernel`, by loops."""
    kh, kw = kernel.shape[:2]
    (sh, sw), (dh, dw) = strides, dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        pads = (
            same_pads(x.shape[1], kh, sh, dh),
            same_pads(x.shape[2], kw, sw, dw),
        )
        x = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    out_h = (x.shape[1] - eh) // sh + 1
    out_w = (x.shape[2] - ew) // sw + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * sh : i * sh + eh : dh, j * sw : j * sw + ew : dw]
            out[:, i, j, :] = np.einsum("bhwc,hwco->bo", patch, kernel)
    return out
