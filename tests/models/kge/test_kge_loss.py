import keras
import numpy as np
import pytest
from kge_references import reference_loss

from hadamard_zoo.models.kge import SelfAdversarialNegativeSamplingLoss


@pytest.mark.parametrize("temperature", [0.0, 0.5, 1.0, 3.0])
def test_matches_the_reference(temperature):
    scores = np.random.default_rng(0).normal(0, 3, (6, 9)).astype("float32")
    loss = SelfAdversarialNegativeSamplingLoss(temperature)
    actual = keras.ops.convert_to_numpy(loss(np.zeros(6), scores))
    np.testing.assert_allclose(
        actual, reference_loss(scores, temperature).mean(), rtol=1e-5
    )


def test_sample_weights_average_as_rotate():
    # With weights of mean 1, Keras's weighted mean is Σ w L / Σ w.
    scores = np.random.default_rng(1).normal(0, 2, (5, 4)).astype("float32")
    w = np.array([0.5, 1.5, 1.0, 0.2, 1.8], "float32")
    loss = SelfAdversarialNegativeSamplingLoss(1.0)
    actual = keras.ops.convert_to_numpy(loss(np.zeros(5), scores, w))
    per_example = reference_loss(scores, 1.0)
    np.testing.assert_allclose(
        actual, (w * per_example).sum() / w.sum(), rtol=1e-5
    )


def test_adversarial_weights_carry_no_gradient():
    # d/ds_j of Σ_j p_j(-log σ(-s_j)) with p held constant is p_j σ(s_j);
    # a gradient through p would add the softmax's derivative.
    scores = np.array([[1.0, 0.5, -1.0, 2.0]], "float32")
    loss = SelfAdversarialNegativeSamplingLoss(1.0)
    variable = keras.Variable(scores)

    def value():
        return loss(np.zeros(1), variable)

    grads = _gradient(value, variable)
    p = np.exp(scores[0, 1:]) / np.exp(scores[0, 1:]).sum()
    sigmoid = 1 / (1 + np.exp(-scores[0]))
    expected = np.concatenate([[-(1 - sigmoid[0])], p * sigmoid[1:]]) / 2
    np.testing.assert_allclose(grads[0], expected, rtol=1e-5, atol=1e-6)


def _gradient(fn, variable):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            out = fn()
        return tape.gradient(out, variable.value).numpy()
    if backend == "torch":
        out = fn()
        out.backward()
        return variable.value.grad.cpu().numpy()
    import jax

    gradient = jax.grad(lambda v: _stateless(fn, variable, v))
    return np.asarray(gradient(variable.value))


def _stateless(fn, variable, value):
    from keras.src.backend import StatelessScope

    with StatelessScope(state_mapping=[(variable, value)]):
        return fn()


@pytest.mark.parametrize("temperature", [-1.0, "hot", None])
def test_bad_temperature(temperature):
    with pytest.raises(ValueError, match="adversarial_temperature"):
        SelfAdversarialNegativeSamplingLoss(temperature)


def test_config_round_trip():
    loss = SelfAdversarialNegativeSamplingLoss(0.5)
    clone = SelfAdversarialNegativeSamplingLoss.from_config(loss.get_config())
    assert clone.adversarial_temperature == 0.5
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(loss)
    )
    assert isinstance(restored, SelfAdversarialNegativeSamplingLoss)
