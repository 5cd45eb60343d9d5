import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.modulation.drop_connect import DropConnectDense


def drop_connect_reference(inputs, weights, activation=None):
    """Inference: y = act(x W + b) (no mask, no rescaling)."""
    (x,) = inputs
    y = x.astype("float64") @ weights["kernel"] + weights.get("bias", 0.0)
    return y if activation is None else activation(y)


# The harness's golden, config, saving and bf16 checks run in inference
# mode; its training check runs `fit`, i.e. with weights dropped.
CASES = [
    LayerCase(
        name="drop_connect_dense",
        layer_cls=DropConnectDense,
        init_kwargs=dict(units=3, rate=0.5, seed=1),
        input_shapes=(4, 5),
        reference=drop_connect_reference,
    ),
    LayerCase(
        name="drop_connect_dense_tanh_nobias_rank3",
        layer_cls=DropConnectDense,
        init_kwargs=dict(units=4, rate=0.2, activation="tanh", use_bias=False),
        input_shapes=(2, 3, 5),
        reference=lambda x, w: drop_connect_reference(x, w, np.tanh),
    ),
    LayerCase(
        name="drop_connect_dense_rate0",
        layer_cls=DropConnectDense,
        init_kwargs=dict(units=2, rate=0.0),
        input_shapes=(4, 3),
        reference=drop_connect_reference,
    ),
]

test_harness = layer_tests(CASES)


def _layer(units=5, input_dim=6, rate=0.5, seed=7, weights_seed=0):
    layer = DropConnectDense(units, rate=rate, seed=seed, use_bias=False)
    layer.build((None, input_dim))
    rng = np.random.default_rng(weights_seed)
    # Kernel entries away from 0, so a zero in x W_eff is a dropped weight.
    kernel = rng.uniform(0.5, 1.5, (input_dim, units)) * rng.choice(
        [-1, 1], (input_dim, units)
    )
    layer.kernel.assign(kernel.astype("float32"))
    return layer, kernel


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def output_and_kernel_gradient(layer, x):
    """`layer(x, training=True)` and d sum(y) / d kernel, from one call."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            y = layer(x, training=True)
            loss = tf.reduce_sum(y)
        return _numpy(y), _numpy(tape.gradient(loss, layer.kernel.value))
    if backend == "jax":
        import jax

        trainable = [v.value for v in layer.trainable_variables]
        non_trainable = [v.value for v in layer.non_trainable_variables]
        paths = [v.path for v in layer.trainable_variables]
        index = paths.index(layer.kernel.path)

        def loss_fn(values):
            y, _ = layer.stateless_call(values, non_trainable, x, training=True)
            return jax.numpy.sum(y), y

        (_, y), grads = jax.value_and_grad(loss_fn, has_aux=True)(trainable)
        return _numpy(y), _numpy(grads[index])
    if backend == "torch":
        y = layer(x, training=True)
        y.sum().backward()
        return _numpy(y.detach()), _numpy(layer.kernel.value.grad)
    pytest.skip(f"no gradient helper for backend {backend}")


def test_training_masks_weights_and_rescales_the_kept_ones():
    rate = 0.25
    layer, kernel = _layer(units=40, input_dim=50, rate=rate)
    eye = np.eye(50, dtype="float32")  # x = I: the output is W_eff
    effective = _numpy(layer(eye, training=True))
    kept = effective != 0
    assert abs((1 - kept.mean()) - rate) < 0.05, kept.mean()
    np.testing.assert_allclose(
        effective[kept], kernel[kept] / (1 - rate), rtol=1e-6
    )
    again = _numpy(layer(eye, training=True)) != 0
    assert not np.array_equal(kept, again)  # a new mask at every call


def test_inference_is_the_plain_dense_layer():
    layer, kernel = _layer(rate=0.5)
    x = np.random.default_rng(1).normal(size=(3, 6)).astype("float32")
    for training in (None, False):
        np.testing.assert_allclose(
            _numpy(layer(x, training=training)), x @ kernel, rtol=1e-5
        )


def test_rate_zero_keeps_every_weight_in_training():
    layer, kernel = _layer(rate=0.0)
    x = np.eye(6, dtype="float32")
    np.testing.assert_allclose(
        _numpy(layer(x, training=True)), kernel, rtol=1e-6
    )


def test_masks_are_reproducible_with_a_seed():
    x = np.eye(6, dtype="float32")

    def masks(seed):
        layer, _ = _layer(seed=seed)
        return [_numpy(layer(x, training=True)) != 0 for _ in range(3)]

    first, again, other = masks(3), masks(3), masks(4)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b) for a, b in zip(first, other, strict=True)
    )


def test_gradients_reach_only_the_kept_weights():
    rate = 0.5
    layer, _ = _layer(units=5, input_dim=6, rate=rate)
    output, gradient = output_and_kernel_gradient(
        layer, np.eye(6, dtype="float32")
    )
    kept = (output != 0).astype("float32")
    assert 0 < kept.mean() < 1
    # d sum(I (W * M) / (1 - rate)) / dW = M / (1 - rate).
    np.testing.assert_allclose(gradient, kept / (1 - rate), rtol=1e-6)


def test_fit_uses_the_masks_and_predict_does_not():
    # The initial kernel comes from Keras' global seed; fixing it keeps the
    # test independent of the tests that ran before.
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), DropConnectDense(1, rate=0.5, seed=2)]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    # Training losses are measured through random masks, so they are noisy
    # epoch to epoch; the mask-free loss of `evaluate` is not.
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.5 * before
    kernel = _numpy(model.layers[0].kernel)
    bias = _numpy(model.layers[0].bias)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), x @ kernel + bias, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(units=0), "units"),
        (dict(units=2, rate=1.0), "rate"),
        (dict(units=2, rate=-0.1), "rate"),
        (dict(units=2, rate="half"), "rate"),
        (dict(units=2, seed=-1), "seed"),
        (dict(units=2, seed=1.5), "seed"),
        (dict(units=2, activation="nope"), "activation"),
        (dict(units=2, use_bias=None), "use_bias"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DropConnectDense(**kwargs)


def test_wrong_last_axis_at_call():
    layer = DropConnectDense(2)
    layer(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 6), "float32"))


def test_rank_one_input_rejected():
    with pytest.raises(ValueError, match="rank >= 2"):
        DropConnectDense(2)(np.zeros((5,), "float32"))
