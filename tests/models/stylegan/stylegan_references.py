"""NumPy references of the StyleGAN parts that are cheap to write out.

Written from the papers' definitions with loops over samples, groups and
layers, independent of the Keras code: the mapping network, the minibatch
standard deviation and the truncation trick.
"""

import math

import numpy as np

TINY = dict(
    latent_dim=8,
    w_dim=6,
    mapping_layers=2,
    resolution=8,
    channels=1,
    base_filters=4,
    max_filters=8,
)


def leaky_relu_gain(x):
    """StyleGAN2's lrelu: slope 0.2 below 0, times sqrt(2)."""
    return np.where(x >= 0, x, 0.2 * x) * math.sqrt(2.0)


def mapping_reference(z, kernels, biases, lr_multiplier):
    """PixelNorm, then `act(x (λ / sqrt(fan_in)) W + λ b)` per layer.

    `kernels` and `biases` are the stored (unscaled) weights.
    """
    out = []
    for sample in np.asarray(z, "float64"):
        x = sample / math.sqrt(np.mean(sample**2) + 1e-8)
        for kernel, bias in zip(kernels, biases, strict=True):
            fan_in = kernel.shape[0]
            scale = lr_multiplier / math.sqrt(fan_in)
            pre = np.array(
                [
                    sum(x[i] * kernel[i, j] * scale for i in range(fan_in))
                    + lr_multiplier * bias[j]
                    for j in range(kernel.shape[1])
                ]
            )
            x = leaky_relu_gain(pre)
        out.append(x)
    return np.stack(out)


def minibatch_std_reference(x, group_size, num_channels, epsilon=1e-8):
    """Sample n is in group n mod M, M = N / G; std over each group."""
    x = np.asarray(x, "float64")
    n, h, w, c = x.shape
    g = min(group_size, n)
    m = n // g
    per_slice = c // num_channels
    stats = np.zeros((m, num_channels))
    for group in range(m):
        members = x[[k for k in range(n) if k % m == group]]
        std = np.sqrt(members.var(axis=0) + epsilon)  # (H, W, C)
        for f in range(num_channels):
            part = std[..., f * per_slice : (f + 1) * per_slice]
            stats[group, f] = part.mean()
    extra = np.zeros((n, h, w, num_channels))
    for k in range(n):
        extra[k] = stats[k % m]
    return np.concatenate([x, extra], axis=-1)


def truncation_reference(w, w_avg, psi):
    """`w_avg + psi (w - w_avg)`, sample by sample."""
    return np.stack([w_avg + psi * (row - w_avg) for row in w])
