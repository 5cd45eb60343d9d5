"""Poly-NL: a linear-complexity non-local block for feature maps."""

import keras

from hadamard_zoo.layers.efficient.poly_sa import _PolyMixing


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class PolyNL(_PolyMixing):
    """Non-local block replaced by a 3rd-order polynomial, in linear time.

    The operator of `PolySA` applied to a feature map: the tokens are the
    `N = H·W` positions of `X` (shape `(H, W, C)`) and `W_1`, `W_2`, `W_3`
    are 1×1 convolutions, i.e. dense maps on the channels:

    ```
    P    = (X W_1) * (X W_2)              W_1, W_2: C × C
    φ(P) = (1/(H W)) Σ_{i,j} P_ij, copied to all H·W positions
    Y    = (φ(P) * X) W_3                 W_3: C × C
    Z    = α X + β Y                      α, β learnable scalars
    ```

    where `*` is the Hadamard product. A non-local block (or
    self-attention on the positions) builds an `(H W) × (H W)` affinity
    matrix, `O((H W)² C)`; Poly-NL costs `O(H W C²)` and never forms an
    `(H W) × (H W)` tensor. Each output is a 3rd-order polynomial of the
    whole map. `H` and `W` may be unknown until call time. With a `mask`,
    masked positions are left out of the average,
    `φ(P) = Σ m_ij P_ij / max(1, Σ m_ij)`.

    `α = 1`, `β = 0` at initialisation (the non-local block convention),
    so the block starts as the identity; the `W_i` get no gradient until
    `β` leaves 0, which it does after the first step.

    Args:
        use_bias: bool, whether `W_1`, `W_2`, `W_3` have biases (as the
            1×1 convolutions of a non-local block usually do); with biases
            `P = (X W_1 + b_1) * (X W_2 + b_2)` and `Y = (φ(P) * X) W_3 +
            b_3`. Defaults to `False`, the survey's equation.
        alpha_initializer: initializer (or number) of `α`. Defaults to
            `"ones"`.
        beta_initializer: initializer (or number) of `β`. Defaults to
            `"zeros"`.
        kernel_initializer: initializer of `W_1`, `W_2`, `W_3`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of the biases. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of the kernels.
        bias_regularizer: optional regularizer of the biases.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(batch, H, W, C)`.
        mask: optional boolean tensor of shape `(batch, H, W)`, True at
            valid positions (e.g. the unpadded part of images of different
            sizes). Masked positions do not enter the average; their own
            outputs are computed as for any other position. The mask
            passes through to the next layer.

    Returns:
        Tensor of shape `(batch, H, W, C)`. Under mixed precision the
        average accumulates in float32.

    Weights:
        `w1_kernel`, `w2_kernel`, `w3_kernel` `(C, C)` (and `w1_bias` ..
        `w3_bias` `(C,)` with `use_bias`); scalars `alpha`, `beta`.

    Example:

    >>> import numpy as np
    >>> layer = PolyNL(use_bias=True)
    >>> x = np.random.default_rng(0).normal(size=(2, 7, 5, 8))
    >>> tuple(layer(x.astype("float32")).shape)
    (2, 7, 5, 8)

    Reference:
        Babiloni et al., "Poly-NL: Linear Complexity Non-local Layers with
        3rd Order Polynomials", ICCV 2021;
        Chrysos et al., "Hadamard product in deep learning", Eq. 9.
    """

    _input_rank = 4
    _input_layout = "(batch, H, W, channels)"

    def __init__(
        self,
        use_bias=False,
        alpha_initializer="ones",
        beta_initializer="zeros",
        **kwargs,
    ):
        super().__init__(
            use_bias=use_bias,
            alpha_initializer=alpha_initializer,
            beta_initializer=beta_initializer,
            **kwargs,
        )
