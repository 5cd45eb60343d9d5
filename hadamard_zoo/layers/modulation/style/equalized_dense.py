"""Dense layer with an equalized learning rate (ProGAN, StyleGAN)."""

import keras

from hadamard_zoo.layers.modulation.style._equalized import _EqualizedLayer
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import last_axis


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class EqualizedDense(_EqualizedLayer):
    """Dense layer whose weights are scaled at run time (equalized LR).

    The kernel `W` is stored with the initialisation `N(0, 1 / λ)` and
    scaled at every call by the He constant, the bias by `λ`:

    ```
    y = act(x (c W) + λ b),    c = gain · λ / sqrt(fan_in),  fan_in = d
    ```

    where `λ` is `lr_multiplier`. At initialisation `c W ~ N(0, gain² /
    fan_in)`, the He initialisation; the scale lives in the graph instead
    of in the weights, so an adaptive optimizer moves every layer at the
    same relative speed, and `λ < 1` slows this layer down by `λ` (the
    StyleGAN mapping network uses `λ = 0.01`). The bias is stored as
    `bias_init / λ`, so the effective bias `λ b` starts at `bias_init`
    (StyleGAN2-ADA stores `bias_init` and starts at `λ · bias_init`; the
    two agree in every StyleGAN configuration, where `λ = 1` or
    `bias_init = 0`). With `activation="lrelu"` the bias and activation
    are StyleGAN2's fused `bias_act`: `leaky_relu(·, 0.2) * sqrt(2)`.

    Args:
        units: int >= 1, the output width.
        lr_multiplier: float > 0, the `λ` above. Defaults to `1.0`.
        gain: float > 0, the `gain` of the He constant. Defaults to `1.0`
            (StyleGAN2; StyleGAN used `sqrt(2)` before plain leaky ReLUs).
        bias_init: float, the initial effective bias. Defaults to `0.0`
            (the style affine maps `A` of StyleGAN2 use `1.0`).
        activation: `"lrelu"`, a Keras activation or `None`. Defaults to
            `None` (linear).
        use_bias: bool, whether the layer has a bias `b`. Defaults to
            `True`.
        kernel_regularizer: optional regularizer of the stored kernel.
        bias_regularizer: optional regularizer of the stored bias.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor of shape `(..., d)`.

    Returns:
        Tensor of shape `(..., units)`.

    Weights:
        `kernel` `W` of shape `(d, units)`; `bias` `b` of shape `(units,)`.

    Example:

    >>> import numpy as np
    >>> layer = EqualizedDense(4, lr_multiplier=0.01, bias_init=1.0)
    >>> y = keras.ops.convert_to_numpy(layer(np.zeros((2, 8), "float32")))
    >>> bool(np.allclose(y, 1.0))
    True
    >>> round(layer.weight_gain, 6)  # λ / sqrt(8): W itself is N(0, 100²)
    0.003536

    Reference:
        Karras et al., "Progressive Growing of GANs for Improved Quality,
        Stability, and Variation", ICLR 2018, section 4.1;
        Karras et al., "A Style-Based Generator Architecture for Generative
        Adversarial Networks", CVPR 2019;
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020.
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int("units", units)

    def build(self, input_shape):
        input_dim = last_axis(self, input_shape)
        self.add_equalized_weights((input_dim, self.units), fan_in=input_dim)
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs):
        outputs = keras.ops.matmul(inputs, self.kernel * self.weight_gain)
        return self.bias_act(outputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config
