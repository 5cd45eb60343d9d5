"""Multimodal compact bilinear pooling (MCB) with count sketches."""

import numbers

import keras
import numpy as np
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.fusion._inputs import check_call_inputs
from hadamard_zoo.layers.fusion._inputs import input_shapes
from hadamard_zoo.layers.fusion._inputs import input_specs
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int


def count_sketch_tables(seed, input_index, input_dim, units):
    """The hash `h` and sign `s` of one input, drawn from `seed` in NumPy.

    The same seed gives the same tables on every backend.
    """
    rng = np.random.default_rng([seed, input_index])
    hashes = rng.integers(0, units, size=input_dim)
    signs = rng.choice(np.array([-1.0, 1.0]), size=input_dim)
    return hashes.astype("float32"), signs.astype("float32")


def _constant(value):
    def initializer(shape, dtype=None):
        return ops.convert_to_tensor(np.reshape(value, shape), dtype=dtype)

    return initializer


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class CompactBilinearPooling(DenseWeightsLayer):
    """Compact bilinear pooling: count sketches multiplied in frequency.

    The bilinear (outer-product) pooling `vec(x yᵀ)` of two inputs has
    `d_x · d_y` entries. MCB approximates it in `d` dimensions with the
    count sketch `Ψ`, whose sketch of an outer product is the circular
    convolution of the inputs' sketches, i.e. a Hadamard product in the
    frequency domain:

    ```
    Ψ(x)_j = Σ_{i : h_x(i) = j} s_x(i) x_i       h_x(i) ∈ {0..d-1},
                                                 s_x(i) ∈ {±1}
    Φ(x, y) = Re FFT⁻¹(FFT(Ψ(x)) * FFT(Ψ(y)))
    out = Cᵀ Φ(x, y) + β     (only when `output_units` is set)
    ```

    where `*` is the Hadamard product (of complex spectra). `Φ` equals,
    exactly, the count sketch of `vec(x yᵀ)` with hash
    `(h_x(i) + h_y(j)) mod d` and sign `s_x(i) s_y(j)`, so
    `<Φ(x1, y1), Φ(x2, y2)>` is an unbiased estimate of
    `<x1, x2> <y1, y2>`. More than two inputs multiply more spectra (the
    tensor sketch of their outer product).

    The tables `h` and `s` are fixed random draws from `seed` (the same on
    every backend), stored as non-trainable float32 weights so the layer
    serializes with them. The sketches and FFTs run in float32 whatever the
    dtype policy.

    Args:
        units: int, the sketch dimension `d` (16000 in the VQA papers).
        output_units: optional int. If set, a trainable linear map `C`
            (with bias β) follows the pooling. Defaults to `None` (output
            width `units`, no trainable weights).
        seed: optional int >= 0 that draws the hash and sign tables. `None`
            draws one from NumPy's global generator at construction (so
            `keras.utils.set_random_seed` makes it reproducible); the
            config holds the drawn seed.
        use_bias: bool, whether `C` has a bias. Defaults to `True`.
        kernel_initializer: initializer of `C`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of β. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `C`.
        bias_regularizer: optional regularizer of β.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a list of two (or more) tensors of shapes `(..., d_m)` with
            the same leading axes.

    Returns:
        Tensor of shape `(..., units)`, or `(..., output_units)` when set.

    Weights:
        `hash_{m}` and `sign_{m}` `(d_m,)` for input `m` (non-trainable);
        `c_kernel` `(units, output_units)` and `c_bias`.

    Example:

    >>> import numpy as np
    >>> question, image = np.ones((2, 12), "float32"), np.ones((2, 20), "f4")
    >>> mcb = CompactBilinearPooling(units=64, seed=0)
    >>> tuple(mcb([question, image]).shape)
    (2, 64)
    >>> len(mcb.trainable_weights), len(mcb.non_trainable_weights)
    (0, 4)

    Reference:
        Fukui et al., "Multimodal Compact Bilinear Pooling for Visual
        Question Answering and Visual Grounding", EMNLP 2016;
        Gao et al., "Compact Bilinear Pooling", CVPR 2016;
        Pham and Pagh, "Fast and Scalable Polynomial Kernels via Explicit
        Feature Maps", KDD 2013 (tensor sketch).
    """

    def __init__(
        self,
        units,
        output_units=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.output_units = check_optional_int("output_units", output_units)
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        if (
            isinstance(seed, bool)
            or not isinstance(seed, numbers.Integral)
            or seed < 0
        ):
            raise ValueError(
                "`seed` must be None or an integer >= 0. "
                f"Received: seed={seed!r}."
            )
        self.seed = int(seed)

    def build(self, input_shape):
        shapes, _ = input_shapes(self, input_shape, minimum=2)
        self.hashes, self.signs = [], []
        for m, shape in enumerate(shapes):
            hashes, signs = count_sketch_tables(
                self.seed, m, int(shape[-1]), self.units
            )
            for name, table, out in (
                (f"hash_{m}", hashes, self.hashes),
                (f"sign_{m}", signs, self.signs),
            ):
                out.append(
                    self.add_weight(
                        name=name,
                        shape=table.shape,
                        initializer=_constant(table),
                        dtype="float32",
                        trainable=False,
                        autocast=False,  # hash values must stay exact
                    )
                )
        self.c_kernel = self.c_bias = None
        if self.output_units is not None:
            self.c_kernel, self.c_bias = self.add_dense_weights(
                "c", (self.units, self.output_units)
            )
        self.input_spec = input_specs(shapes)

    def _sketch(self, x, hashes, signs):
        """Ψ(x): a scatter-add of the signed features into `units` bins."""
        x = ops.cast(x, "float32") * signs
        buckets = ops.cast(hashes, "int32")
        summed = ops.segment_sum(
            ops.moveaxis(x, -1, 0), buckets, num_segments=self.units
        )
        return ops.moveaxis(summed, 0, -1)

    def call(self, inputs):
        check_call_inputs(self, inputs)
        real = imag = None
        for x, hashes, signs in zip(
            inputs, self.hashes, self.signs, strict=True
        ):
            x_real, x_imag = ops.rfft(self._sketch(x, hashes, signs))
            if real is None:
                real, imag = x_real, x_imag
            else:
                real, imag = (
                    real * x_real - imag * x_imag,
                    real * x_imag + imag * x_real,
                )
        out = ops.irfft((real, imag), fft_length=self.units)
        out = ops.cast(out, self.compute_dtype)
        if self.c_kernel is not None:
            out = self.dense(out, self.c_kernel, self.c_bias)
        return out

    def compute_output_shape(self, input_shape):
        _, leading = input_shapes(self, input_shape, minimum=2)
        return leading + (self.output_units or self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "output_units": self.output_units,
                "seed": self.seed,
            }
        )
        return config
