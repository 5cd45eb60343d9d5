"""Spectral normalization of a kernel by power iteration (Miyato et al.).

Shared by `SPADEResBlock` and the PatchGAN's `SpectralConv2D`. Written here
instead of using `keras.layers.SpectralNormalization`, which overwrites the
trainable kernel inside training calls only: under JAX's stateless `fit()`
those writes are dropped (largest singular value 1.16 after `fit` on JAX,
0.997 on TensorFlow).
"""

from keras import ops

# PyTorch's F.normalize floor: keeps a zero vector at zero instead of NaN.
NORM_FLOOR = 1e-12


def _normalize(vector):
    return vector / ops.maximum(ops.norm(vector), NORM_FLOOR)


def spectrally_normalized(kernel, u, power_iterations, training):
    """`kernel / σ(kernel)`, σ estimated with the stored vector `u`.

    In training, `power_iterations` steps refine `u` (no gradient through
    it) and the new `u` is assigned; in inference `u` is read as it is.
    `kernel` is flattened to `(-1, out_channels)`; `u` has shape
    `(out_channels,)` and is kept in float32.
    """
    # float32 even under mixed precision: σ scales every output.
    matrix = ops.reshape(ops.cast(kernel, "float32"), (-1, kernel.shape[-1]))
    vector = ops.cast(u, "float32")
    if training:
        for _ in range(power_iterations):
            v = _normalize(ops.matmul(matrix, vector))
            vector = _normalize(ops.matmul(v, matrix))
        vector = ops.stop_gradient(vector)
        u.assign(vector)
    sigma = ops.norm(ops.matmul(matrix, vector)) / ops.maximum(
        ops.norm(vector), NORM_FLOOR
    )
    sigma = ops.maximum(sigma, NORM_FLOOR)
    return kernel / ops.cast(sigma, kernel.dtype)
