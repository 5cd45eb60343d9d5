"""NumPy references of the adapted kernels and of the adapted layers.

Written from the papers' equations, independently of the library:

- HiRA: `W = W0 + W0 * (A B)`;
- LoHa: `W = W0 + (alpha / r) (A1 B1) * (A2 B2)`;

with `*` the Hadamard product and the kernel seen as a matrix of shape
`(prod(kernel.shape[:-1]), kernel.shape[-1])`.
"""

import numpy as np


def hira_kernel(weights):
    kernel = weights["kernel"].astype("float64")
    ab = weights["hira_kernel_a"] @ weights["hira_kernel_b"]
    return kernel + kernel * ab.reshape(kernel.shape)


def loha_kernel(weights, alpha, rank):
    kernel = weights["kernel"].astype("float64")
    first = weights["loha_kernel_a1"] @ weights["loha_kernel_b1"]
    second = weights["loha_kernel_a2"] @ weights["loha_kernel_b2"]
    update = (alpha / rank) * first * second
    return kernel + update.reshape(kernel.shape)


ACTIVATIONS = {None: lambda x: x, "tanh": np.tanh}


def dense(x, kernel, bias=None, activation=None):
    out = x.astype("float64") @ kernel
    if bias is not None:
        out = out + bias
    return ACTIVATIONS[activation](out)


def einsum_dense(equation, x, kernel, bias=None):
    out = np.einsum(equation, x.astype("float64"), kernel)
    if bias is not None:
        out = out + bias
    return out


def _same_padding(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv2d(x, kernel, bias=None, strides=1, padding="valid"):
    """Channels-last 2-D cross-correlation, as `keras.layers.Conv2D`."""
    kh, kw, _, filters = kernel.shape
    x = x.astype("float64")
    if padding == "same":
        top, bottom = _same_padding(x.shape[1], kh, strides)
        left, right = _same_padding(x.shape[2], kw, strides)
        x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    rows = (x.shape[1] - kh) // strides + 1
    cols = (x.shape[2] - kw) // strides + 1
    out = np.zeros((x.shape[0], rows, cols, filters))
    for i in range(rows):
        for j in range(cols):
            patch = x[
                :,
                i * strides : i * strides + kh,
                j * strides : j * strides + kw,
            ]
            out[:, i, j] = np.einsum("nhwc,hwcf->nf", patch, kernel)
    if bias is not None:
        out = out + bias
    return out
