"""`GANTrainer`'s gradients on JAX: the step as a pure function of state.

Keras's JAX trainer jits `train_step(state, data) -> (logs, state)`: the
state holds the values of the trainer's trainable, non-trainable, optimizer
and metric variables (both optimizers: `_OptimizerPair`), and the variables
themselves hold nothing during `fit()`. The shared step reads and assigns
variables, so it runs inside a `keras.StatelessScope` that maps every
variable to its value in the state; the new state is read back from the
scope. A gradient re-runs its loss in a nested scope where the
differentiated variables map to the arguments of `jax.value_and_grad`;
the other variables' updates made there (spectral-norm vectors, moving
statistics) come back as auxiliary outputs and are assigned in the outer
scope.
"""

import jax
import keras


def _state_variables(trainer):
    return (
        trainer.trainable_variables,
        trainer.non_trainable_variables,
        trainer.optimizer.variables,
        trainer.metrics_variables,
    )


def _value_and_grad(scope, variables, loss_fn, targets):
    target_ids = {id(v) for v in targets}
    others = [v for v in variables if id(v) not in target_ids]
    before = [scope.get_current_value(v) for v in others]

    def loss_of(target_values):
        mapping = list(zip(others, before, strict=True))
        mapping += list(zip(targets, target_values, strict=True))
        with keras.StatelessScope(state_mapping=mapping) as inner:
            loss, aux = loss_fn()
        return loss, (aux, [inner.get_current_value(v) for v in others])

    start = [scope.get_current_value(v) for v in targets]
    (loss, (aux, after)), grads = jax.value_and_grad(loss_of, has_aux=True)(
        start
    )
    for variable, old, new in zip(others, before, after, strict=True):
        if new is not old:
            variable.assign(new)
    return (loss, aux), grads


def input_gradient(fn, x):
    """`∇_x fn(x)`; `fn` must not assign variables (D runs in inference)."""
    return jax.grad(fn)(x)


def train_step(trainer, state, data):
    groups = _state_variables(trainer)
    variables = [v for group in groups for v in group]
    values = [value for group in state for value in group]
    with keras.StatelessScope(
        state_mapping=list(zip(variables, values, strict=True))
    ) as scope:

        def value_and_grad(loss_fn, targets):
            return _value_and_grad(scope, variables, loss_fn, targets)

        logs = trainer.gan_step(data, value_and_grad, input_gradient)
    new_state = tuple(
        [scope.get_current_value(v) for v in group] for group in groups
    )
    return logs, new_state
