"""`GANTrainer`'s gradients on TensorFlow: tapes, nested for R1."""

import tensorflow as tf


def value_and_grad(loss_fn, variables):
    """`((loss, aux), ∂loss/∂variables)` of `loss_fn() -> (loss, aux)`."""
    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    return (loss, aux), tape.gradient(loss, variables)


def input_gradient(fn, x):
    """`∇_x fn(x)`, recorded by any enclosing tape (second order for R1)."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        value = fn(x)
    return tape.gradient(value, x)


def train_step(trainer, data):
    return trainer.gan_step(data, value_and_grad, input_gradient)
