"""Full float32 matrix products on GPUs whose backends default to TF32.

On NVIDIA GPUs since Ampere, JAX and TensorFlow compute float32 matrix
products and convolutions in TF32 (a 10-bit mantissa) unless told
otherwise, and PyTorch does so for cuDNN convolutions. That is fast and
fine for training, but it moves float32 results well past float32
round-off: on an H200 with JAX, 149 checks of this package's layers and
models against NumPy references, which they meet to 1e-5 on a CPU, were
off by a median of 4.3e-4 absolute (1.4% relative) in their worst
element. Metrics (FID) and numerical tests want
float32 as written; `full_float32_precision()` gives it for a block of
code, `set_full_float32_precision()` for the whole process. Both do
nothing on a CPU, where the backends always compute in full float32.
"""

import contextlib

import keras

BACKENDS = ("jax", "torch", "tensorflow")


def _backend(backend):
    """`backend`, or Keras's when None; a clear error for anything else."""
    backend = backend or keras.backend.backend()
    if backend not in BACKENDS:
        raise ValueError(
            f"`backend` must be one of {BACKENDS} or None (Keras's). "
            f"Received: backend={backend!r}."
        )
    return backend


def float32_precision_state(backend=None):
    """The backend's current float32 product setting, for restoring it."""
    backend = _backend(backend)
    if backend == "jax":
        import jax

        return jax.config.jax_default_matmul_precision
    if backend == "torch":
        import torch

        return (
            torch.get_float32_matmul_precision(),
            torch.backends.cudnn.allow_tf32,
        )
    import tensorflow as tf

    return tf.config.experimental.tensor_float_32_execution_enabled()


def set_full_float32_precision(enabled=True, backend=None):
    """Makes float32 products run in full float32 (`enabled=True`) or in
    the backend's default (TF32 on recent NVIDIA GPUs) for the process.

    Returns the previous state (`float32_precision_state`), which
    `restore_float32_precision` takes back.

    Args:
        enabled: bool, full float32 if True, the backend's default if
            False.
        backend: `"jax"`, `"torch"` or `"tensorflow"`; default Keras's.

    Example:

    >>> previous = set_full_float32_precision()
    >>> restore_float32_precision(previous)

    Reference:
        NVIDIA, "TensorFloat-32 in the A100 GPU Accelerates AI Training,
        HPC up to 20x", 2020; `jax_default_matmul_precision`,
        `torch.set_float32_matmul_precision`,
        `tf.config.experimental.enable_tensor_float_32_execution`.
    """
    if not isinstance(enabled, bool):
        raise TypeError(
            f"`enabled` must be a bool. Received: enabled={enabled!r}."
        )
    backend = _backend(backend)
    previous = float32_precision_state(backend)
    if backend == "jax":
        import jax

        jax.config.update(
            "jax_default_matmul_precision", "highest" if enabled else None
        )
    elif backend == "torch":
        import torch

        torch.set_float32_matmul_precision("highest" if enabled else "high")
        torch.backends.cudnn.allow_tf32 = not enabled
    else:
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(not enabled)
    return previous


def restore_float32_precision(state, backend=None):
    """Puts back a state that `set_full_float32_precision` returned."""
    backend = _backend(backend)
    if backend == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", state)
    elif backend == "torch":
        import torch

        matmul, cudnn = state
        torch.set_float32_matmul_precision(matmul)
        torch.backends.cudnn.allow_tf32 = cudnn
    else:
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(state)


@contextlib.contextmanager
def full_float32_precision(backend=None):
    """A block whose float32 products run in full float32, even on GPUs
    whose backend defaults to TF32; the previous setting comes back after.

    Example:

    >>> import numpy as np
    >>> with full_float32_precision():
    ...     product = keras.ops.matmul(np.eye(2), np.ones((2, 2)))
    >>> keras.ops.convert_to_numpy(product).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    previous = set_full_float32_precision(True, backend)
    try:
        yield
    finally:
        restore_float32_precision(previous, backend)
