"""NumPy references of the PatchGAN's own layers, and the shared checks.

The average pooling and the spectrally normalised convolution are written
from their definitions with loops, independent of the Keras code. The
model checks (round trips, training step, mixed precision) are those of
`tests/models/stylegan/gan_model_checks.py`.
"""

import pathlib
import sys

import numpy as np

_STYLEGAN_TESTS = pathlib.Path(__file__).parents[1] / "stylegan"
if str(_STYLEGAN_TESTS) not in sys.path:
    sys.path.insert(0, str(_STYLEGAN_TESTS))

from gan_model_checks import assert_same_outputs  # noqa: E402, F401
from gan_model_checks import check_mixed_bfloat16  # noqa: E402, F401
from gan_model_checks import check_round_trips  # noqa: E402, F401
from gan_model_checks import check_training_step  # noqa: E402, F401
from gan_model_checks import to_numpy  # noqa: E402, F401


def average_downsample_reference(x):
    """Mean of the in-image pixels of each 3x3 window centred on (2i, 2j)."""
    x = np.asarray(x, "float64")
    n, h, w, c = x.shape
    out_h, out_w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
    out = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            rows = [r for r in (2 * i - 1, 2 * i, 2 * i + 1) if 0 <= r < h]
            cols = [q for q in (2 * j - 1, 2 * j, 2 * j + 1) if 0 <= q < w]
            out[:, i, j] = x[:, rows][:, :, cols].mean(axis=(1, 2))
    return out


def padded_conv_reference(x, kernel, bias, stride, padding):
    """Cross-correlation with `padding` zeros on every side, by loops."""
    x = np.pad(
        np.asarray(x, "float64"),
        ((0, 0), (padding, padding), (padding, padding), (0, 0)),
    )
    kh, kw = kernel.shape[:2]
    out_h = (x.shape[1] - kh) // stride + 1
    out_w = (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]))
    for i in range(out_h):
        for j in range(out_w):
            patch = x[
                :, i * stride : i * stride + kh, j * stride : j * stride + kw
            ]
            out[:, i, j] = np.tensordot(patch, kernel, axes=3) + bias
    return out


def spectral_sigma_reference(kernel, u, iterations):
    """σ of the kernel matrix after `iterations` power steps from `u`.

    Returns `(σ, u_after)`.
    """
    matrix = np.asarray(kernel, "float64").reshape(-1, kernel.shape[-1])
    u = np.asarray(u, "float64")
    for _ in range(iterations):
        v = matrix @ u
        v = v / np.linalg.norm(v)
        u = matrix.T @ v
        u = u / np.linalg.norm(u)
    return np.linalg.norm(matrix @ u) / np.linalg.norm(u), u
