"""`GANTrainer`'s gradients on PyTorch: `torch.autograd.grad`."""

import torch


def value_and_grad(loss_fn, variables):
    """`((loss, aux), ∂loss/∂variables)` of `loss_fn() -> (loss, aux)`.

    Only `variables` receive gradients: the other model's weights are left
    without `.grad` (no `backward()` that would fill every leaf).
    """
    loss, aux = loss_fn()
    grads = torch.autograd.grad(
        loss, [v.value for v in variables], allow_unused=True
    )
    return (loss, aux), list(grads)


def input_gradient(fn, x):
    """`∇_x fn(x)` as a graph (`create_graph=True`): R1 backpropagates it."""
    x = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(fn(x), x, create_graph=True)
    return gradient


def train_step(trainer, data):
    return trainer.gan_step(data, value_and_grad, input_gradient)
