"""`GANTrainer`: adversarial training of a generator and a discriminator.

The step (sampling, losses, lazy R1, EMA, metrics) is written once here,
with variable reads and assignments only. What differs per backend is how
a gradient is taken; `gan_step_<backend>.py` supplies two functions:

- `value_and_grad(loss_fn, variables) -> ((loss, aux), grads)`, where
  `loss_fn()` takes no argument and returns `(loss, aux)`;
- `input_gradient(fn, x) -> ∇_x fn(x)` for a scalar `fn`, kept
  differentiable with respect to the weights (R1 needs a second order).

and calls `GANTrainer.gan_step(data, value_and_grad, input_gradient)` from
its `train_step`.
"""

import importlib

import keras
from keras import ops

from hadamard_zoo.training import gan_losses
from hadamard_zoo.utils.validation import check_bool
from hadamard_zoo.utils.validation import check_choice
from hadamard_zoo.utils.validation import check_float
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_optional_int

BACKENDS = ("tensorflow", "jax", "torch")
COMPILE_ARGUMENTS = ("run_eagerly", "jit_compile", "steps_per_execution")


def _step_module():
    backend = keras.backend.backend()
    if backend not in BACKENDS:
        raise RuntimeError(
            f"GANTrainer trains on {', '.join(BACKENDS)}. "
            f"Current backend: {backend}."
        )
    return importlib.import_module(f"hadamard_zoo.training.gan_step_{backend}")


class _OptimizerPair:
    """The two optimizers, seen by Keras's trainers as `model.optimizer`.

    Keras's JAX trainer threads `model.optimizer.variables` through its
    jitted step and writes them back after `fit()`; listing both
    optimizers' variables here keeps both states in that loop. Callbacks
    that find `.optimizers` (`LearningRateScheduler`) update both.
    """

    def __init__(self, trainer):
        self._trainer = trainer

    @property
    def optimizers(self):
        return [
            self._trainer.generator_optimizer,
            self._trainer.discriminator_optimizer,
        ]

    @property
    def variables(self):
        return [v for opt in self.optimizers for v in opt.variables]

    @property
    def iterations(self):
        return self._trainer.generator_optimizer.iterations

    @property
    def built(self):
        return all(opt.built for opt in self.optimizers)

    def build(self, variables=None):
        # Each optimizer owns one model's weights, whatever Keras passes.
        del variables
        for opt, model in zip(
            self.optimizers,
            (self._trainer.generator, self._trainer.discriminator),
            strict=True,
        ):
            if not opt.built:
                opt.build(model.trainable_variables)


def _input_shapes(model):
    """The shapes of a model's inputs, or `None` when it has none yet."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs:
        return None
    return [tuple(tensor.shape) for tensor in inputs]


def _as_declared(model, inputs):
    """`inputs` (a tensor or a list) in the structure `model` declares.

    Functional models with dict inputs (e.g. `{"segmap", "z"}`) get a dict:
    a latent is the rank-2 input, a condition or image the other one.
    """
    try:
        declared = model.input
    except (AttributeError, ValueError):  # a subclassed model
        return inputs
    if not isinstance(declared, dict):
        return inputs
    values = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if len(declared) != len(values):
        return inputs
    if len(values) == 1:
        return {next(iter(declared)): values[0]}
    ranks = {key: len(spec.shape) for key, spec in declared.items()}
    packed = {}
    for value in values:
        rank = len(value.shape)
        key = next(
            (k for k, r in ranks.items() if r == rank and k not in packed),
            None,
        )
        if key is None:
            return inputs
        packed[key] = value
    return packed


def _same_shape(a, b):
    return len(a) == len(b) and all(
        x is None or y is None or x == y for x, y in zip(a, b, strict=True)
    )


@keras.saving.register_keras_serializable(package="hadamard_zoo")
class GANTrainer(keras.Model):
    """Trains a generator `G` and a discriminator `D` with `fit()`.

    Each step, on a batch of real images `x` (and conditions `c` when
    `conditional=True`), with `z ~ N(0, I)` drawn in the step:

    ```
    discriminator update, on D's weights only:
      nonsaturating: L_D = E[softplus(D(G(z)))] + E[softplus(-D(x))]
      hinge:         L_D = E[relu(1 + D(G(z)))] + E[relu(1 - D(x))]
      + r1_interval · γ/2 · E[‖∇_x D(x)‖²]   every r1_interval-th step
    generator update, on G's weights only (a fresh z):
      nonsaturating: L_G = E[softplus(-D(G(z)))]
      hinge:         L_G = -E[D(G(z))]
      + λ_FM · 1/S Σ_s Σ_l mean|D_s^l(x) - D_s^l(G(z))|
    EMA, after the generator update:
      G_ema ← decay · G_ema + (1 - decay) · G
    ```

    The R1 penalty is lazy, as in StyleGAN2: computed on the steps where
    the discriminator optimizer's iteration count is a multiple of
    `r1_interval` (the first step included) and scaled by `r1_interval`,
    so its average weight stays `γ/2`. `D(x)` in `∇_x D(x)` is the sum of
    the logits over scales and patches, with `D` in inference mode: R1 is
    a per-sample penalty, so it neither uses batch statistics nor updates
    state (spectral-norm vectors, moving averages). With
    `conditional=True`, `G` takes `[c, z]` and `D` takes `[image, c]`
    (SPADE: `c` a one-hot label map).

    The discriminator may return one logits tensor, a list of per-scale
    logits (multi-scale PatchGAN; losses average over scales), or, for
    feature matching, a list of per-scale lists `[features..., logits]`
    (see `hadamard_zoo.training.gan_losses`).

    `fit()` reports `d_loss` (the adversarial part of `L_D`), `g_loss`
    (all of `L_G`) and, when `r1_gamma > 0`, `r1_penalty` (`γ/2 ·
    E‖∇_x D(x)‖²`, averaged over the steps that computed it). Calling the
    trainer runs the EMA generator when there is one, else `G`.

    Gradients are taken per backend (`gan_step_jax.py`, `..._tensorflow`,
    `..._torch`); the JAX step is a pure function of the trainer's state
    and is jitted like any Keras `fit()` (`jit_compile=True` by default).

    Args:
        generator: a built `keras.Model`: `z -> image`, or `[c, z] ->
            image` when `conditional`.
        discriminator: a built `keras.Model`: `image -> logits`, or
            `[image, c] -> logits` when `conditional` (see above for the
            output forms).
        latent_dim: optional int, the size of `z`. Defaults to `None`:
            read from the generator's latent input.
        loss: `"nonsaturating"` (logistic) or `"hinge"`. Defaults to
            `"nonsaturating"`.
        r1_gamma: float >= 0, the R1 weight `γ`; `0` disables R1.
            Defaults to `0.0`.
        r1_interval: int >= 1, discriminator steps between R1 penalties
            (StyleGAN2 uses 16). Defaults to `16`.
        ema_decay: optional float in [0, 1), the decay of
            `ema_generator`, a non-trainable copy of `G` (rebuilt from its
            config, same class) saved with the trainer: trainable weights
            averaged, the others copied.
            Defaults to `None` (no EMA).
        feature_matching_weight: float >= 0, `λ_FM`. Defaults to `0.0`.
        conditional: bool, whether batches are `(images, conditions)`.
            Defaults to `False`.
        seed: optional int >= 0, the seed of the latent draws. Defaults to
            `None`.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Example:

    >>> import keras
    >>> import numpy as np
    >>> z = keras.Input((8,))
    >>> image = keras.layers.Reshape((4, 4, 1))(keras.layers.Dense(16)(z))
    >>> generator = keras.Model(z, image)
    >>> x = keras.Input((4, 4, 1))
    >>> logits = keras.layers.Dense(1)(keras.layers.Flatten()(x))
    >>> discriminator = keras.Model(x, logits)
    >>> trainer = GANTrainer(
    ...     generator, discriminator, r1_gamma=1.0, ema_decay=0.999, seed=0
    ... )
    >>> trainer.compile(
    ...     generator_optimizer=keras.optimizers.Adam(2e-4),
    ...     discriminator_optimizer=keras.optimizers.Adam(2e-4),
    ... )
    >>> images = np.random.rand(8, 4, 4, 1).astype("float32")
    >>> history = trainer.fit(images, batch_size=8, verbose=0)
    >>> sorted(history.history)
    ['d_loss', 'g_loss', 'r1_penalty']
    >>> tuple(trainer(np.zeros((2, 8), "float32")).shape)
    (2, 4, 4, 1)

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014;
        Mescheder et al., "Which Training Methods for GANs do actually
        Converge?", ICML 2018 (R1);
        Karras et al., "Analyzing and Improving the Image Quality of
        StyleGAN", CVPR 2020 (lazy R1, EMA of G);
        Wang et al., "High-Resolution Image Synthesis and Semantic
        Manipulation with Conditional GANs", CVPR 2018 and Park et al.,
        "Semantic Image Synthesis with Spatially-Adaptive Normalization",
        CVPR 2019 (hinge loss, multi-scale feature matching).
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim=None,
        loss="nonsaturating",
        r1_gamma=0.0,
        r1_interval=16,
        ema_decay=None,
        feature_matching_weight=0.0,
        conditional=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, model in (
            ("generator", generator),
            ("discriminator", discriminator),
        ):
            if not isinstance(model, keras.Model) or not model.built:
                raise ValueError(
                    f"`{name}` must be a built keras.Model. "
                    f"Received: {name}={model!r}."
                )
        self.conditional = check_bool("conditional", conditional)
        self.adversarial_loss = check_choice(
            "loss", loss, tuple(gan_losses.GAN_LOSSES)
        )
        self.r1_gamma = check_float("r1_gamma", r1_gamma, minimum=0.0)
        self.r1_interval = check_int("r1_interval", r1_interval)
        if ema_decay is not None:
            ema_decay = check_float("ema_decay", ema_decay, 0.0, 1.0)
            if ema_decay == 1.0:
                raise ValueError(
                    "`ema_decay` must be in [0, 1) (1 never moves the "
                    "average). Received: ema_decay=1.0."
                )
        self.ema_decay = ema_decay
        self.feature_matching_weight = check_float(
            "feature_matching_weight", feature_matching_weight, minimum=0.0
        )
        self.seed = check_optional_int("seed", seed, minimum=0)
        self.latent_dim = self._check_models(
            generator,
            discriminator,
            check_optional_int("latent_dim", latent_dim),
        )
        self.generator = generator
        self.discriminator = discriminator
        self.ema_generator = None
        if self.ema_decay is not None:
            # A round trip through the config keeps the generator's class
            # (its sampling methods); `clone_model` would not.
            self.ema_generator = keras.saving.deserialize_keras_object(
                keras.saving.serialize_keras_object(generator)
            )
            self.ema_generator.trainable = False
            # A copy: JAX would otherwise let both variables hold one
            # buffer, which `fit()` then donates twice.
            for average, weight in self._ema_pairs():
                average.assign(ops.copy(weight.value))
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.r1_tracker = None
        if self.r1_gamma > 0:
            self.r1_tracker = keras.metrics.Mean(name="r1_penalty")
        self.generator_optimizer = None
        self.discriminator_optimizer = None
        # Every weight exists already; nothing for `fit()` to build.
        self.built = True

    def _check_models(self, generator, discriminator, latent_dim):
        """Checks the models' inputs against `conditional`; returns `z`'s size.

        Subclassed models without `inputs` skip the shape checks.
        """
        g_shapes = _input_shapes(generator)
        d_shapes = _input_shapes(discriminator)
        arity = 2 if self.conditional else 1
        form = {
            1: ("`z`", "`image`"),
            2: ("`[condition, z]`", "`[image, condition]`"),
        }[arity]
        for name, shapes, expected in (
            ("generator", g_shapes, form[0]),
            ("discriminator", d_shapes, form[1]),
        ):
            if shapes is not None and len(shapes) != arity:
                raise ValueError(
                    f"With conditional={self.conditional}, the {name} must "
                    f"take {expected}. Received a {name} with "
                    f"{len(shapes)} input(s): {shapes}."
                )
        if g_shapes is not None:
            z_shape = g_shapes[-1]
            if len(z_shape) != 2 or z_shape[-1] is None:
                raise ValueError(
                    "The generator's latent input must have shape "
                    f"(batch, latent_dim). Received: {z_shape}."
                )
            if latent_dim is not None and latent_dim != z_shape[-1]:
                raise ValueError(
                    f"`latent_dim` must match the generator's latent input "
                    f"{z_shape}. Received: latent_dim={latent_dim}."
                )
            latent_dim = int(z_shape[-1])
        if latent_dim is None:
            raise ValueError(
                "`latent_dim` must be given when the generator has no "
                "`inputs` to read it from. Received: latent_dim=None."
            )
        outputs = getattr(generator, "outputs", None)
        if outputs and d_shapes is not None:
            image_shape = tuple(outputs[0].shape)
            if len(outputs) != 1 or not _same_shape(image_shape, d_shapes[0]):
                raise ValueError(
                    "The generator's images and the discriminator's image "
                    f"input differ: generator outputs "
                    f"{[tuple(o.shape) for o in outputs]}, discriminator "
                    f"input {d_shapes[0]}."
                )
        if self.conditional and g_shapes is not None and d_shapes is not None:
            if not _same_shape(g_shapes[0], d_shapes[1]):
                raise ValueError(
                    "The generator's and the discriminator's condition "
                    f"inputs differ: {g_shapes[0]} and {d_shapes[1]}."
                )
        if self.feature_matching_weight > 0 and d_shapes is not None:
            spec = discriminator.compute_output_spec(
                discriminator.inputs
                if self.conditional
                else discriminator.inputs[0]
            )
            if not any(f for f, _ in gan_losses.split_scales(spec)):
                raise ValueError(
                    "`feature_matching_weight` > 0 needs a discriminator "
                    "that returns, per scale, a list [features..., logits]."
                    f" Received feature_matching_weight="
                    f"{self.feature_matching_weight} and a discriminator "
                    f"returning {gan_losses.describe_outputs(spec)}."
                )
        return latent_dim

    def compile(self, generator_optimizer, discriminator_optimizer, **kwargs):
        """Sets the two optimizers (each updates one model's weights).

        Args:
            generator_optimizer: an optimizer (or its name) for `G`.
            discriminator_optimizer: another one for `D`.
            **kwargs: `run_eagerly`, `jit_compile`, `steps_per_execution`
                as in `keras.Model.compile`.
        """
        unknown = sorted(set(kwargs) - set(COMPILE_ARGUMENTS))
        if unknown:
            raise ValueError(
                f"GANTrainer.compile takes {', '.join(COMPILE_ARGUMENTS)} "
                f"besides the two optimizers. Received: {unknown}."
            )
        optimizers = {}
        for name, value in (
            ("generator_optimizer", generator_optimizer),
            ("discriminator_optimizer", discriminator_optimizer),
        ):
            try:
                optimizer = keras.optimizers.get(value)
            except ValueError:
                optimizer = None
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                raise ValueError(
                    f"`{name}` must be a keras optimizer or its name. "
                    f"Received: {name}={value!r}."
                )
            optimizers[name] = optimizer
        if (
            optimizers["generator_optimizer"]
            is optimizers["discriminator_optimizer"]
        ):
            raise ValueError(
                "`generator_optimizer` and `discriminator_optimizer` must "
                "be two optimizer instances (each keeps its own state)."
            )
        super().compile(optimizer=None, **kwargs)
        self.generator_optimizer = optimizers["generator_optimizer"]
        self.discriminator_optimizer = optimizers["discriminator_optimizer"]
        self.optimizer = _OptimizerPair(self)
        self.optimizer.build()

    def get_compile_config(self):
        if not self.compiled or self.generator_optimizer is None:
            return {}
        config = {
            name: keras.saving.serialize_keras_object(getattr(self, name))
            for name in ("generator_optimizer", "discriminator_optimizer")
        }
        config.update(
            {
                "run_eagerly": self.run_eagerly,
                "jit_compile": self.jit_compile,
                "steps_per_execution": self.steps_per_execution,
            }
        )
        return config

    def compile_from_config(self, config):
        config = dict(config)
        for name in ("generator_optimizer", "discriminator_optimizer"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        self.compile(**config)

    @property
    def metrics(self):
        trackers = [self.d_loss_tracker, self.g_loss_tracker]
        if self.r1_tracker is not None:
            trackers.append(self.r1_tracker)
        return trackers

    def call(self, inputs, training=False):
        generator = self.ema_generator
        if generator is None:
            generator = self.generator
        return generator(inputs, training=training)

    def train_step(self, *args):
        # (data) on TensorFlow and PyTorch, (state, data) on JAX.
        return _step_module().train_step(self, *args)

    def _unpack(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if not self.conditional:
            return x, None
        if y is None and isinstance(x, (list, tuple)) and len(x) == 2:
            x, y = x
        if y is None:
            raise ValueError(
                "With conditional=True, batches must be "
                "(images, conditions). Received images only."
            )
        return x, y

    def _sample_latent(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def _generate(self, condition, z):
        inputs = [condition, z] if self.conditional else z
        return self.generator(
            _as_declared(self.generator, inputs), training=True
        )

    def _discriminate(self, images, condition, training=True):
        inputs = [images, condition] if self.conditional else images
        return self.discriminator(
            _as_declared(self.discriminator, inputs), training=training
        )

    def _r1_penalty(self, real, condition, input_gradient):
        def total_logits(images):
            outputs = self._discriminate(images, condition, training=False)
            sums = [
                ops.sum(ops.cast(logits, "float32"))
                for _, logits in gan_losses.split_scales(outputs)
            ]
            return ops.sum(ops.stack(sums))

        gradients = input_gradient(total_logits, real)
        return gan_losses.r1_penalty(gradients, self.r1_gamma)

    def gan_step(self, data, value_and_grad, input_gradient):
        """One discriminator update, then one generator update; logs.

        Backend-agnostic: `value_and_grad` and `input_gradient` come from
        `gan_step_<backend>.py` (see the module docstring).
        """
        real, condition = self._unpack(data)
        if not keras.backend.is_float_dtype(real.dtype):
            real = ops.cast(real, keras.config.floatx())
        batch_size = ops.shape(real)[0]
        d_loss_fn, g_loss_fn = gan_losses.GAN_LOSSES[self.adversarial_loss]

        fake = ops.stop_gradient(
            self._generate(condition, self._sample_latent(batch_size))
        )
        zero = ops.zeros((), "float32")
        r1_due = None
        if self.r1_gamma > 0:
            iterations = self.discriminator_optimizer.iterations
            r1_due = ops.equal(ops.mod(iterations, self.r1_interval), 0)

        def discriminator_loss():
            adversarial = d_loss_fn(
                self._discriminate(real, condition),
                self._discriminate(fake, condition),
            )
            if r1_due is None:
                return adversarial, (adversarial, zero)
            if self.r1_interval == 1:
                penalty = self._r1_penalty(real, condition, input_gradient)
            else:
                penalty = ops.cond(
                    r1_due,
                    lambda: self._r1_penalty(real, condition, input_gradient),
                    lambda: zero,
                )
            total = adversarial + self.r1_interval * penalty
            return total, (adversarial, penalty)

        d_variables = self.discriminator.trainable_variables
        (_, (d_loss, penalty)), grads = value_and_grad(
            discriminator_loss, d_variables
        )
        self.discriminator_optimizer.apply(
            _fill_gradients(grads, d_variables), d_variables
        )

        z = self._sample_latent(batch_size)

        def generator_loss():
            fake_outputs = self._discriminate(
                self._generate(condition, z), condition
            )
            loss = g_loss_fn(fake_outputs)
            if self.feature_matching_weight > 0:
                real_outputs = self._discriminate(real, condition)
                loss = loss + self.feature_matching_weight * (
                    gan_losses.feature_matching_loss(real_outputs, fake_outputs)
                )
            return loss, ()

        g_variables = self.generator.trainable_variables
        (g_loss, _), grads = value_and_grad(generator_loss, g_variables)
        self.generator_optimizer.apply(
            _fill_gradients(grads, g_variables), g_variables
        )
        self._update_ema()

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        if self.r1_tracker is not None:
            self.r1_tracker.update_state(
                penalty, sample_weight=ops.cast(r1_due, "float32")
            )
        return {metric.name: metric.result() for metric in self.metrics}

    def _update_ema(self):
        if self.ema_generator is None:
            return
        decay = self.ema_decay
        for average, weight in self._ema_pairs():
            if weight.trainable:
                average.assign(
                    decay * average.value + (1 - decay) * weight.value
                )
            else:
                # Buffers (moving statistics, style averages) are copied.
                average.assign(weight.value)

    def _ema_pairs(self):
        """`(ema weight, generator weight)` pairs, matched by path.

        A rebuilt model may list its layers in another order, so position
        alone does not pair the weights.
        """
        averages = {w.path: w for w in self.ema_generator.weights}
        weights = self.generator.weights
        if len(averages) != len(weights) or any(
            w.path not in averages or averages[w.path].shape != w.shape
            for w in weights
        ):
            raise ValueError(
                "The EMA copy of the generator does not have the "
                "generator's weights (paths and shapes differ); the "
                "generator must rebuild identically from its config."
            )
        return [(averages[w.path], w) for w in weights]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(
                    self.generator
                ),
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "latent_dim": self.latent_dim,
                "loss": self.adversarial_loss,
                "r1_gamma": self.r1_gamma,
                "r1_interval": self.r1_interval,
                "ema_decay": self.ema_decay,
                "feature_matching_weight": self.feature_matching_weight,
                "conditional": self.conditional,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator", "discriminator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)


def _fill_gradients(grads, variables):
    """Zeros for the weights a loss does not reach (TensorFlow gives None)."""
    return [
        ops.zeros(v.shape, v.dtype) if g is None else g
        for g, v in zip(grads, variables, strict=True)
    ]
