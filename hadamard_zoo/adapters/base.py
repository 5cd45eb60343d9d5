"""Machinery shared by the Hadamard-product adapters (HiRA, LoHa).

An adapter turns a built Keras `Dense`, `EinsumDense` or `Conv2D` layer into
a layer whose kernel is `W = W0 + ΔW`, with the pre-trained `W0` frozen and
`ΔW` a function of a few small trainable factors. It mirrors what Keras does
for `layer.enable_lora(rank)`: the adapter variables are added to the layer
itself and the layer's `kernel` property returns the adapted kernel, which
`call` reads. Because Keras cannot be edited, the layer's class is swapped
for a registered subclass (`HiRADense`, `LoHaConv2D`, ...) that overrides
`kernel`; `merge_adapters` swaps it back.

Every kernel is seen as a matrix of shape `(in, out)` with
`in = prod(kernel.shape[:-1])` and `out = kernel.shape[-1]`, the convention
of Keras's LoRA: `(in, units)` for `Dense`, `(kh * kw * cin, filters)` for
`Conv2D`, all axes but the last flattened for `EinsumDense`.
"""

import math

import keras
from keras import ops

SUPPORTED_BASE_CLASSES = (
    keras.layers.Dense,
    keras.layers.EinsumDense,
    keras.layers.Conv2D,
)


def kernel_matrix_shape(kernel_shape):
    """The `(in, out)` matrix view of a kernel shape (see module docstring)."""
    shape = tuple(int(d) for d in kernel_shape)
    return math.prod(shape[:-1]), shape[-1]


def class_name(layer):
    """The class name to show for `layer` (`HiRADense`, not `Dense`)."""
    return getattr(layer, "adapter_class_name", None) or type(layer).__name__


def check_rank_fits(layer, rank, kernel_shape, argument="rank"):
    """Raises if `rank` exceeds `min(in, out)` of the layer's kernel."""
    fan_in, fan_out = kernel_matrix_shape(kernel_shape)
    limit = min(fan_in, fan_out)
    if rank > limit:
        raise ValueError(
            f"`{argument}`={rank} is larger than layer '{layer.name}' "
            f"({class_name(layer)}) allows: its kernel of shape "
            f"{tuple(int(d) for d in kernel_shape)} is a {fan_in}x{fan_out} "
            f"matrix, so the rank must be <= {limit}."
        )
    return rank


def factor_initializer():
    """PEFT's `kaiming_uniform_(a=sqrt(5))`: U(±1/sqrt(fan_in)).

    A new instance per weight: an unseeded Keras initializer instance draws
    the same values at every call.
    """
    return keras.initializers.VarianceScaling(
        scale=1.0 / 3.0, mode="fan_in", distribution="uniform"
    )


def named_like_base(cls):
    """Class decorator: gives an adapter class its base class's `__name__`.

    Keras addresses the layers of a functional model in weight files by
    their class name (`dense`, `dense_1`, ...). An adapted `Dense` must be
    saved under the same key as a plain one, so that the file also loads
    into a model rebuilt from its constructor arguments (keras-hub
    backbones and tasks, presets), where the layer comes back as a plain
    `Dense`. The adapter's own name stays in `adapter_class_name` and in
    the registry (`hadamard_zoo>HiRADense`), which `from_config` uses.
    """
    cls.adapter_class_name = cls.__name__
    cls.__name__ = cls.base_class.__name__
    return cls


class HadamardAdapter:
    """Mixin of the adapter classes; listed before the Keras base class.

    Subclasses (one per method) set `adapter_method`, `rank_config_key` and
    implement `_create_adapter_weights()`, `adapter_variables`,
    `_zero_adapter_factor()` and `_kernel_update(base)`, which returns
    `ΔW` in the kernel's own shape and dtype. Concrete classes set
    `base_class` to the Keras class they adapt.
    """

    adapter_method = None
    rank_config_key = None
    base_class = None
    adapter_class_name = None

    def __repr__(self):
        return (
            f"<{self.adapter_class_name} name={self.name}, built={self.built}>"
        )

    # --------------------------------------------------------- construction

    def build(self, input_shape):
        super().build(input_shape)
        self._add_adapter_weights()

    @property
    def adapter_rank(self):
        return getattr(self, self.rank_config_key)

    def _add_adapter_weights(self):
        """Creates the adapter variables and freezes the base weights."""
        check_rank_fits(
            self, self.adapter_rank, self._kernel.shape, self.rank_config_key
        )
        self._tracker.unlock()
        try:
            self._create_adapter_weights()
        finally:
            self._tracker.lock()
        self._freeze_base()

    def _add_factor(self, name, shape, initializer):
        # Adapter factors are float32 whatever the layer's policy (as Keras
        # LoRA): they are small, and bfloat16 factors would underflow.
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=initializer,
            dtype="float32",
            trainable=True,
        )

    def enable_lora(self, *args, **kwargs):
        # The adapted `kernel` property would silently ignore LoRA factors.
        raise ValueError(
            f"Layer '{self.name}' already has a {self.adapter_method} "
            "adapter; LoRA cannot be added on top. Merge it first "
            "(`hadamard_zoo.adapters.merge_adapters`)."
        )

    @property
    def kernel_matrix_shape(self):
        """`(in, out)`: the kernel seen as a matrix."""
        return kernel_matrix_shape(self._kernel.shape)

    def _base_variables(self):
        bias = getattr(self, "bias", None)
        return [self._kernel] + ([bias] if bias is not None else [])

    def _freeze_base(self):
        """Freezes the kernel `W0` and the bias: only adapters train."""
        for variable in self._base_variables():
            variable.trainable = False

    # `layer.trainable = True` (e.g. `model.trainable = True`) would unfreeze
    # every variable of the layer, `W0` included: re-freeze it after.
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        keras.layers.Layer.trainable.fset(self, value)
        if getattr(self, "_kernel", None) is not None:
            self._freeze_base()

    # --------------------------------------------------------------- kernel

    def _factor_product(self, a, b, dtype):
        """`a @ b` in `dtype`, reshaped to the kernel's shape."""
        product = ops.matmul(ops.cast(a, dtype), ops.cast(b, dtype))
        return ops.reshape(product, tuple(self._kernel.shape))

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError(
                "You must build the layer before accessing `kernel`."
            )
        base = ops.cast(self._kernel, self.compute_dtype)
        return ops.add(base, self._kernel_update(base))

    def adapted_kernel(self, dtype="float32"):
        """`W0 + ΔW` computed in `dtype` (float32 by default)."""
        base = ops.cast(self._kernel, dtype)
        return ops.add(base, self._kernel_update(base))

    # ---------------------------------------------------------------- merge

    def _merge_and_remove(self):
        """Folds `ΔW` into `W0`, deletes the adapters, restores the class."""
        merged = self.adapted_kernel("float32")
        self._kernel.assign(ops.cast(merged, self._kernel.dtype))
        base_variables = self._base_variables()
        for variable_name in self.adapter_variable_names:
            delattr(self, variable_name)  # untracks the variable
        for key in self._config_keys():
            self.__dict__.pop(key, None)
        self.__class__ = self.base_class
        for variable in base_variables:
            variable.trainable = self.trainable

    # --------------------------------------------------------- save / load

    # As Keras LoRA does, a saved model (`.keras`, `.weights.h5`, a keras-hub
    # preset) holds the merged kernel in the base layer's own format. It thus
    # loads into a plain layer too: keras-hub backbones and custom layers
    # (e.g. ProdPolyBlock) rebuild their sublayers as plain Keras layers
    # from their own config. Adapter factors are saved apart, with
    # `save_adapter_weights`.

    def save_own_variables(self, store):
        if not self.built:
            return
        merged = self.adapted_kernel("float32")
        store["0"] = ops.convert_to_numpy(ops.cast(merged, self._kernel.dtype))
        bias = getattr(self, "bias", None)
        if bias is not None:
            store["1"] = bias

    def load_own_variables(self, store):
        if not self.built:
            return
        targets = self._base_variables()
        if len(store.keys()) != len(targets):
            raise ValueError(
                f"Layer '{self.name}' ({self.adapter_class_name}) expected "
                f"{len(targets)} saved variables (the merged kernel"
                f"{' and the bias' if len(targets) == 2 else ''}), but the "
                f"file holds {len(store.keys())} for it."
            )
        for index, variable in enumerate(targets):
            variable.assign(store[str(index)])
        # The loaded kernel already contains ΔW: restart from ΔW = 0.
        self._zero_adapter_factor()

    # --------------------------------------------------------------- config

    def _config_keys(self):
        raise NotImplementedError

    def adapter_config(self):
        """The adapter's settings (method, rank, ...) as a dict."""
        return {"method": self.adapter_method} | {
            key: getattr(self, key) for key in self._config_keys()
        }

    def get_config(self):
        config = super().get_config()
        config.update({key: getattr(self, key) for key in self._config_keys()})
        return config
