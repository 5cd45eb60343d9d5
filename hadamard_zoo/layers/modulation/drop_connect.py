"""DropConnect: a dense layer whose weights are dropped during training."""

import keras
from keras import ops

from hadamard_zoo.layers.base import DenseWeightsLayer
from hadamard_zoo.layers.base import get_activation
from hadamard_zoo.layers.base import serialize_activation
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class DropConnectDense(DenseWeightsLayer):
    """Dense layer with DropConnect: a Bernoulli mask on the weights.

    During training every call draws a fresh 0/1 mask `M` of the kernel's
    shape, each entry kept with probability `1 - rate`, and uses the masked
    kernel; at inference the layer is a plain dense layer:

    ```
    training:   y = act(x ((W * M) / (1 - rate)) + b),  M ~ Bernoulli(1 - rate)
    inference:  y = act(x W + b)
    ```

    where `*` is the Hadamard product. Dropout (the survey's Eq. 5) masks
    the activations; DropConnect masks the connections, so each output
    unit sees its own random subset of the inputs. The kept weights are
    scaled by `1 / (1 - rate)` ("inverted" scaling, as `keras.layers.Dropout`)
    so that `E[(W * M) / (1 - rate)] = W` and inference needs no rescaling
    nor sampling. Wan et al. instead train unscaled and approximate the
    expectation over masks at inference with a moment-matched Gaussian;
    the mean of their approximation is this layer's inference output.
    One mask is drawn per call and shared by the examples of the batch (as
    the weight-dropped LSTM of Merity et al.), not one per example: the
    per-example masks of the paper cost a kernel-sized tensor per example.
    The bias is not masked. Masked weights get zero gradient at that step.

    Args:
        units: int >= 1, the output width.
        rate: float in [0, 1), the probability of dropping each weight.
            Defaults to `0.5`, as Wan et al.
        activation: optional activation. Defaults to `None` (linear).
        seed: optional int >= 0, the seed of the layer's
            `keras.random.SeedGenerator`. With a seed, the sequence of masks
            is reproducible on one backend (backends differ from each
            other). Defaults to `None`.
        use_bias: bool, whether the layer has a bias `b`. Defaults to
            `True`.
        kernel_initializer: initializer of `W`. Defaults to
            `"glorot_uniform"`.
        bias_initializer: initializer of `b`. Defaults to `"zeros"`.
        kernel_regularizer: optional regularizer of `W`.
        bias_regularizer: optional regularizer of `b`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.
        training: bool, whether to drop weights. Defaults to `None`
            (Keras passes `True` inside `fit`, else `False`).

    Returns:
        Tensor of shape `(..., units)`.

    Weights:
        `kernel` `W` of shape `(d, units)`; `bias` `b` of shape `(units,)`.

    Example:

    >>> import numpy as np
    >>> layer = DropConnectDense(units=4, rate=0.5, seed=1)
    >>> x = np.ones((2, 8), "float32")
    >>> tuple(layer(x, training=True).shape)
    (2, 4)
    >>> inference = layer(x)  # no mask: x W + b
    >>> expected = x @ keras.ops.convert_to_numpy(layer.kernel)
    >>> bool(np.allclose(keras.ops.convert_to_numpy(inference), expected))
    True

    Reference:
        Wan et al., "Regularization of Neural Networks using DropConnect",
        ICML 2013;
        Chrysos et al., "Hadamard product in deep learning", Eq. 5
        (dropout as a Hadamard product with a Bernoulli mask).
    """

    def __init__(
        self,
        units,
        rate=0.5,
        activation=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_int("units", units)
        self.rate = check_float("rate", rate, minimum=0.0, maximum=1.0)
        if self.rate >= 1.0:
            raise ValueError(
                "`rate` must be in [0, 1) (1 would drop every weight). "
                f"Received: rate={rate}."
            )
        self.activation = get_activation(activation, "activation")
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
            )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs, training=None):
        kernel = self.kernel
        if training and self.rate > 0:
            # Inverted dropout of the kernel: kept weights / (1 - rate).
            kernel = keras.random.dropout(
                ops.convert_to_tensor(kernel),
                self.rate,
                seed=self.seed_generator,
            )
        outputs = self.dense(inputs, kernel, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "rate": self.rate,
                "activation": serialize_activation(self.activation),
                "seed": self.seed,
            }
        )
        return config
