"""HiRA: Hadamard high-rank adaptation, `W = W0 + W0 * (A B)`."""

import keras
from keras import ops

from hadamard_zoo.adapters.base import HadamardAdapter
from hadamard_zoo.adapters.base import factor_initializer
from hadamard_zoo.adapters.base import named_like_base
from hadamard_zoo.utils.validation import check_int

HIRA_DOC = """{summary}

    HiRA (Hadamard high-rank adaptation) modulates the frozen pre-trained
    kernel `W0` element-wise with a low-rank matrix:

    ```
    W = W0 + W0 * (A B)        A: (in, r),  B: (r, out)
    ```

    where `*` is the Hadamard product and the kernel is seen as an
    `(in, out)` matrix ({view}). `A B` has rank at most `r`, but
    `W0 * (A B)` does not: its rank can reach `rank(W0) · r`, so HiRA
    updates are high-rank for the `r (in + out)` trainable parameters of a
    rank-`r` LoRA. `A` starts as PEFT's LoRA `A` (Kaiming-uniform) and `B`
    at zero, so `W = W0` at the start.

    Build it with `hadamard_zoo.adapters.enable_hira(layer_or_model, rank)`,
    which swaps a built `{base}` for this class; constructed directly (or
    from a config) it creates `W0`, the bias and the factors in `build()`.
    `W0` and the bias are frozen: only `hira_kernel_a` and `hira_kernel_b`
    train. Saving the layer stores the merged kernel in `{base}`'s own
    format (as Keras LoRA does); `save_adapter_weights` saves the factors.

    Args:
        hira_rank: int >= 1, the rank `r` of `A B`, at most `min(in, out)`.
        **kwargs: the arguments of `keras.layers.{base}`.

    Call arguments:
        inputs: as `keras.layers.{base}`.

    Returns:
        As `keras.layers.{base}`, computed with the adapted kernel.

    Example:

    >>> import numpy as np
    >>> {example}

    Reference:
        Huang et al., "HiRA: Parameter-Efficient Hadamard High-Rank
        Adaptation for Large Language Models", ICLR 2025.
    """


class HiRAAdapter(HadamardAdapter):
    """HiRA's factors and kernel update; mixed into the Keras classes."""

    adapter_method = "hira"
    rank_config_key = "hira_rank"
    adapter_variable_names = ("hira_kernel_a", "hira_kernel_b")

    def __init__(self, *args, hira_rank, **kwargs):
        super().__init__(*args, **kwargs)
        self.hira_rank = check_int("hira_rank", hira_rank)

    def _config_keys(self):
        return ("hira_rank",)

    def _create_adapter_weights(self):
        fan_in, fan_out = self.kernel_matrix_shape
        self.hira_kernel_a = self._add_factor(
            "hira_kernel_a", (fan_in, self.hira_rank), factor_initializer()
        )
        self.hira_kernel_b = self._add_factor(
            "hira_kernel_b", (self.hira_rank, fan_out), "zeros"
        )

    @property
    def adapter_variables(self):
        return [self.hira_kernel_a, self.hira_kernel_b]

    def _zero_adapter_factor(self):
        self.hira_kernel_b.assign(ops.zeros(self.hira_kernel_b.shape))

    def _kernel_update(self, base):
        ab = self._factor_product(
            self.hira_kernel_a, self.hira_kernel_b, base.dtype
        )
        return ops.multiply(base, ab)


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="HiRADense"
)
@named_like_base
class HiRADense(HiRAAdapter, keras.layers.Dense):
    base_class = keras.layers.Dense
    __doc__ = HIRA_DOC.format(
        summary="A `Dense` layer with a HiRA adapter on its kernel.",
        view="the kernel itself, `(input_dim, units)`",
        base="Dense",
        example="layer = HiRADense(units=3, hira_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 5), "float32")).shape)\n'
        "    (2, 3)\n"
        "    >>> [w.name for w in layer.trainable_weights]\n"
        "    ['hira_kernel_a', 'hira_kernel_b']",
    )


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="HiRAEinsumDense"
)
@named_like_base
class HiRAEinsumDense(HiRAAdapter, keras.layers.EinsumDense):
    base_class = keras.layers.EinsumDense
    __doc__ = HIRA_DOC.format(
        summary="An `EinsumDense` layer with a HiRA adapter on its kernel.",
        view="every axis but the last flattened, as Keras LoRA does",
        base="EinsumDense",
        example='layer = HiRAEinsumDense("abc,cde->abde", (None, 2, 4),\n'
        "    ...                         hira_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 3, 5), "float32")).shape)\n'
        "    (2, 3, 2, 4)",
    )


@keras.saving.register_keras_serializable(
    package="hadamard_zoo", name="HiRAConv2D"
)
@named_like_base
class HiRAConv2D(HiRAAdapter, keras.layers.Conv2D):
    base_class = keras.layers.Conv2D
    __doc__ = HIRA_DOC.format(
        summary="A `Conv2D` layer with a HiRA adapter on its kernel.",
        view="`(kh * kw * in_channels, filters)`",
        base="Conv2D",
        example="layer = HiRAConv2D(filters=4, kernel_size=3, hira_rank=2)\n"
        '    >>> tuple(layer(np.ones((2, 6, 6, 3), "float32")).shape)\n'
        "    (2, 4, 4, 4)",
    )
