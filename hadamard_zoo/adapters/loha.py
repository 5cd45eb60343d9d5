"""LoHa: low-rank Hadamard product adaptation, `ΔW = (A1 B1) * (A2 B2)`."""

import keras
from keras import ops

from hadamard_zoo.adapters.base import HadamardAdapter
from hadamard_zoo.adapters.base import factor_initializer
from hadamard_zoo.adapters.base import named_like_base
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int

LOHA_DOC = """{summary}

    LoHa (FedPara's low-rank Hadamard product) adds to the frozen kernel
    `W0` the Hadamard product of two rank-`r` matrices:

    ```
    W = W0 + (α / r) · (A1 B1) * (A2 B2)     A_i: (in, r),  B_i: (r, out)
    ```

    where `*` is the Hadamard product and the kernel is seen as an
    `(in, out)` matrix ({view}). The product of two rank-`r` matrices has
    rank up to `r²`, for the `2 r (in + out)` parameters of a rank-`2r`
    LoRA. As in PEFT, `A1`, `B1` and `B2` start Kaiming-uniform and `A2`
    at zero, so `W = W0` at the start.

    Build it with `hadamard_zoo.adapters.enable_loha(layer_or_model, rank)`,
    which swaps a built `{base}` for this class; constructed directly (or
    from a config) it creates `W0`, the bias and the factors in `build()`.
    `W0` and the bias are frozen: only the four `loha_kernel_*` factors
    train. Saving the layer stores the merged kernel in `{base}`'s own
    format (as Keras LoRA does); `save_adapter_weights` saves the factors.

    Args:
        loha_rank: int >= 1, the rank `r` of each factor pair, at most
            `min(in, out)`.
        loha_alpha: optional float > 0, the numerator of the scale
            `α / r`. Defaults to `None` (`α = r`, a scale of 1).
        **kwargs: the arguments of `keras.layers.{base}`.

    Call arguments:
        inputs: as `keras.layers.{base}`.

    Returns:
        As `keras.layers.{base}`, computed with the adapted kernel.

    Example:

    >>> import numpy as np
    >>> {example}

    Reference:
        Hyeon-Woo et al., "FedPara: Low-Rank Hadamard Product for
        Communication-Efficient Federated Learning", ICLR 2022 (LoHa as
        implemented in LyCORIS and PEFT).
    """


class LoHaAdapter(HadamardAdapter):
    """LoHa's factors and kernel update; mixed into the Keras classes."""

    adapter_method = "loha"
    rank_config_key = "loha_rank"
    adapter_variable_names = (
        "loha_kernel_a1",
        "loha_kernel_b1",
        "loha_kernel_a2",
        "loha_kernel_b2",
    )

    def __init__(self, *args, loha_rank, loha_alpha=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.loha_rank = check_int("loha_rank", loha_rank)
        self.loha_alpha = check_loha_alpha(
            "loha_alpha", loha_alpha, self.loha_rank
        )

    def _config_keys(self):
        return ("loha_rank", "loha_alpha")

    def _create_adapter_weights(self):
        fan_in, fan_out = self.kernel_matrix_shape
        rank = self.loha_rank
        self.loha_kernel_a1 = self._add_factor(
            "loha_kernel_a1", (fan_in, rank), factor_initializer()
        )
        self.loha_kernel_b1 = self._add_factor(
            "loha_kernel_b1", (rank, fan_out), factor_initializer()
        )
        self.loha_kernel_a2 = self._add_factor(
            "loha_kernel_a2", (fan_in, rank), "zeros"
        )
        self.loha_kernel_b2 = self._add_factor(
            "loha_kernel_b2", (rank, fan_out), factor_initializer()
        )

    @property
    def adapter_variables(self):
        return [
            self.loha_kernel_a1,
            self.loha_kernel_b1,
            self.loha_kernel_a2,
            self.loha_kernel_b2,
        ]

    def _zero_adapter_factor(self):
        self.loha_kernel_a2.assign(ops.zeros(self.loha_kernel_a2.shape))

    def _kernel_update(self, base):
        dtype = base.dtype
        first = self._factor_product(
            self.loha_kernel_a1, self.loha_kernel_b1, dtype
        )
        second = self._factor_product(
            self.loha_kernel_a2, self.loha_kernel_b2, dtype
        )
        scale = ops.cast(self.loha_alpha / self.loha_rank, dtype)
        return ops.multiply(scale, ops.multiply(first, second))


def check_loha_alpha(name, alpha, rank):
    """`alpha` as a float > 0; `None` gives `rank` (a scale of 1)."""
    if alpha is None:
        return float(rank)
    alpha = check_float(name, alpha)
    if alpha <= 0:
        raise ValueError(
            f"`{name}` must be a number > 0. Received: {name}={alpha}."
        )
    return alpha


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="LoHaDense"
)
@named_like_base
class LoHaDense(LoHaAdapter, keras.layers.Dense):
    base_class = keras.layers.Dense
    __doc__ = LOHA_DOC.format(
        summary="A `Dense` layer with a LoHa adapter on its kernel.",
        view="the kernel itself, `(input_dim, units)`",
        base="Dense",
        example="layer = LoHaDense(units=3, loha_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 5), "float32")).shape)\n'
        "    (2, 3)\n"
        "    >>> len(layer.trainable_weights)\n"
        "    4",
    )


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="LoHaEinsumDense"
)
@named_like_base
class LoHaEinsumDense(LoHaAdapter, keras.layers.EinsumDense):
    base_class = keras.layers.EinsumDense
    __doc__ = LOHA_DOC.format(
        summary="An `EinsumDense` layer with a LoHa adapter on its kernel.",
        view="every axis but the last flattened, as Keras LoRA does",
        base="EinsumDense",
        example='layer = LoHaEinsumDense("abc,cde->abde", (None, 2, 4),\n'
        "    ...                         loha_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 3, 5), "float32")).shape)\n'
        "    (2, 3, 2, 4)",
    )


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="LoHaConv2D"
)
@named_like_base
class LoHaConv2D(LoHaAdapter, keras.layers.Conv2D):
    base_class = keras.layers.Conv2D
    __doc__ = LOHA_DOC.format(
        summary="A `Conv2D` layer with a LoHa adapter on its kernel.",
        view="`(kh * kw * in_channels, filters)`",
        base="Conv2D",
        example="layer = LoHaConv2D(filters=4, kernel_size=3, loha_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 6, 6, 3), "float32")).shape)\n'
        "    (2, 4, 4, 4)",
    )
