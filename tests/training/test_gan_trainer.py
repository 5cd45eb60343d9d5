import keras
import numpy as np
import pytest

from hadamard_zoo.training.gan_trainer import GANTrainer

LATENT = 3
IMAGE = (4, 4, 1)
CLASSES = 2
BATCH = 4


def softplus(x):
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def arrays(seed=0, n=4 * BATCH):
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (n,) + IMAGE).astype("float32")
    labels = rng.integers(0, CLASSES, (n,) + IMAGE[:2])
    conditions = np.eye(CLASSES, dtype="float32")[labels]
    return images, conditions


def tiny_generator(conditional):
    """z (and a one-hot label map) -> a 4x4 image; a few hundred weights."""
    z = keras.Input((LATENT,))
    image = keras.layers.Reshape(IMAGE)(keras.layers.Dense(16)(z))
    if not conditional:
        return keras.Model(z, image)
    condition = keras.Input(IMAGE[:2] + (CLASSES,))
    mixed = keras.layers.Concatenate()([image, condition])
    image = keras.layers.Conv2D(1, 3, padding="same")(mixed)
    return keras.Model([condition, z], image)


def tiny_discriminator(conditional, output):
    """A PatchGAN of one or two scales.

    `output`: "tensor" (one logits map), "scales" (a list of per-scale
    logits) or "features" (per scale, [features, logits]).
    """
    image = keras.Input(IMAGE)
    inputs, h = image, image
    if conditional:
        condition = keras.Input(IMAGE[:2] + (CLASSES,))
        inputs = [image, condition]
        h = keras.layers.Concatenate()([image, condition])
    scales = []
    for pooled in (h, keras.layers.AveragePooling2D(2)(h)):
        features = keras.layers.Conv2D(3, 3, padding="same")(pooled)
        features = keras.layers.LeakyReLU(0.2)(features)
        scales.append([features, keras.layers.Conv2D(1, 1)(features)])
    if output == "tensor":
        outputs = scales[0][1]
    elif output == "scales":
        outputs = [logits for _, logits in scales]
    else:
        outputs = scales
    return keras.Model(inputs, outputs)


def weights_of(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def fit_data(conditional, seed=0):
    images, conditions = arrays(seed)
    return (images, conditions) if conditional else (images, None)


CONFIGS = {
    "unconditional_nonsaturating_r1_ema": dict(
        conditional=False,
        output="tensor",
        kwargs=dict(r1_gamma=1.0, r1_interval=2, ema_decay=0.9),
        frozen="generator",
    ),
    "conditional_hinge_feature_matching": dict(
        conditional=True,
        output="features",
        kwargs=dict(loss="hinge", feature_matching_weight=10.0),
        frozen="discriminator",
    ),
    "conditional_nonsaturating_r1_multiscale": dict(
        conditional=True,
        output="scales",
        kwargs=dict(r1_gamma=0.5, r1_interval=1, ema_decay=0.5),
        frozen=None,
    ),
    "unconditional_hinge_multiscale": dict(
        conditional=False,
        output="scales",
        kwargs=dict(loss="hinge"),
        frozen="discriminator",
    ),
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_fit_updates_each_model_only_with_its_optimizer(name):
    config = CONFIGS[name]
    conditional = config["conditional"]
    generator = tiny_generator(conditional)
    discriminator = tiny_discriminator(conditional, config["output"])
    trainer = GANTrainer(
        generator,
        discriminator,
        conditional=conditional,
        seed=1,
        **config["kwargs"],
    )
    # A learning rate of 0 freezes one model: its weights must not move,
    # whatever the other model's optimizer does.
    frozen = config["frozen"]
    trainer.compile(
        generator_optimizer=keras.optimizers.Adam(
            0.0 if frozen == "generator" else 1e-2
        ),
        discriminator_optimizer=keras.optimizers.Adam(
            0.0 if frozen == "discriminator" else 1e-2
        ),
    )
    if keras.backend.backend() == "jax":
        assert trainer.jit_compile
    before = {
        "generator": weights_of(generator),
        "discriminator": weights_of(discriminator),
    }
    x, y = fit_data(conditional)
    history = trainer.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)

    expected = {"d_loss", "g_loss"}
    if config["kwargs"].get("r1_gamma"):
        expected.add("r1_penalty")
    assert set(history.history) == expected
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    for model_name, model in (
        ("generator", generator),
        ("discriminator", discriminator),
    ):
        for old, new in zip(before[model_name], weights_of(model), strict=True):
            if model_name == frozen:
                np.testing.assert_array_equal(new, old)
            else:
                assert not np.allclose(new, old), f"{model_name} did not move"
    # Four steps: each optimizer applied once per step.
    for optimizer in (
        trainer.generator_optimizer,
        trainer.discriminator_optimizer,
    ):
        assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 4
    if trainer.ema_generator is not None:
        ema = weights_of(trainer.ema_generator)
        for average, weight in zip(ema, weights_of(generator), strict=True):
            if frozen == "generator":
                np.testing.assert_allclose(average, weight, atol=1e-6)
            else:
                assert not np.allclose(average, weight)
    # The trainer samples with the EMA generator when there is one.
    z = np.random.default_rng(2).normal(size=(2, LATENT)).astype("float32")
    inputs = [arrays()[1][:2], z] if conditional else z
    sampler = trainer.ema_generator or generator
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(trainer(inputs)),
        keras.ops.convert_to_numpy(sampler(inputs)),
        atol=1e-6,
    )


def linear_models(rng):
    """G(z) = b for every z; D(x) = Σ w·x, so ‖∇_x D‖² = ‖w‖².

    G's first layer is a frozen zero map, so the trainable layer after it
    sees zeros: its output is its bias `b` and its kernel gets no gradient.
    """
    z = keras.Input((LATENT,))
    zeros = keras.layers.Dense(
        16, use_bias=False, kernel_initializer="zeros", trainable=False
    )(z)
    image = keras.layers.Reshape(IMAGE)(keras.layers.Dense(16)(zeros))
    generator = keras.Model(z, image)
    generator.set_weights(
        [
            np.zeros((LATENT, 16), "float32"),
            rng.normal(size=(16, 16)).astype("float32"),
            rng.normal(0, 0.5, 16).astype("float32"),
        ]
    )
    x = keras.Input(IMAGE)
    flat = keras.layers.Flatten()(x)
    logits = keras.layers.Dense(1, use_bias=False)(flat)
    discriminator = keras.Model(x, logits)
    discriminator.set_weights([rng.normal(0, 0.3, (16, 1)).astype("float32")])
    return generator, discriminator


def numpy_step(loss, w, b, real, step, lr, gamma, interval):
    """One D then one G SGD step of the linear models, by hand."""
    real_scores, fake_score = real @ w, b @ w
    if loss == "nonsaturating":
        d_loss = softplus(-real_scores).mean() + softplus(fake_score)
        grad = -(sigmoid(-real_scores)[:, None] * real).mean(0)
        grad += sigmoid(fake_score) * b
    else:
        d_loss = np.maximum(0, 1 - real_scores).mean()
        d_loss += max(0.0, 1 + fake_score)
        grad = -((1 - real_scores > 0)[:, None] * real).mean(0)
        grad += float(1 + fake_score > 0) * b
    penalty = None
    if step % interval == 0:
        penalty = gamma / 2 * (w @ w)
        grad = grad + interval * gamma * w
    w = w - lr * grad
    fake_score = b @ w
    if loss == "nonsaturating":
        g_loss, grad = softplus(-fake_score), -sigmoid(-fake_score) * w
    else:
        g_loss, grad = -fake_score, -w
    b = b - lr * grad
    return w, b, dict(d_loss=d_loss, g_loss=g_loss, r1_penalty=penalty)


@pytest.mark.parametrize("loss", ["nonsaturating", "hinge"])
def test_steps_r1_and_ema_match_numpy(loss):
    rng = np.random.default_rng(3)
    generator, discriminator = linear_models(rng)
    gamma, interval, decay, lr = 0.7, 2, 0.5, 0.1
    trainer = GANTrainer(
        generator,
        discriminator,
        loss=loss,
        r1_gamma=gamma,
        r1_interval=interval,
        ema_decay=decay,
        seed=0,
    )
    trainer.compile(keras.optimizers.SGD(lr), keras.optimizers.SGD(lr))
    images = rng.uniform(0, 1, (BATCH,) + IMAGE).astype("float32")
    real = images.reshape(BATCH, -1).astype("float64")
    w = discriminator.get_weights()[0][:, 0].astype("float64")
    zeros, kernel, b = (a.astype("float64") for a in generator.get_weights())
    ema_b = b.copy()
    for step in range(3):
        # One step per fit(): each call restarts at the same batch.
        logs = trainer.fit(
            images, batch_size=BATCH, epochs=1, shuffle=False, verbose=0
        ).history
        w, b, expected = numpy_step(loss, w, b, real, step, lr, gamma, interval)
        ema_b = decay * ema_b + (1 - decay) * b
        np.testing.assert_allclose(
            discriminator.get_weights()[0][:, 0], w, rtol=1e-4, atol=1e-6
        )
        g_zeros, g_kernel, g_bias = generator.get_weights()
        np.testing.assert_allclose(g_bias, b, rtol=1e-4, atol=1e-6)
        np.testing.assert_array_equal(g_kernel, kernel.astype("float32"))
        np.testing.assert_array_equal(g_zeros, zeros.astype("float32"))
        e_zeros, e_kernel, e_bias = trainer.ema_generator.get_weights()
        np.testing.assert_allclose(e_bias, ema_b, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(e_kernel, kernel, rtol=1e-6)
        np.testing.assert_array_equal(e_zeros, g_zeros)
        for key in ("d_loss", "g_loss"):
            np.testing.assert_allclose(logs[key][0], expected[key], rtol=1e-4)
        if expected["r1_penalty"] is None:
            # Averaged over the steps that computed it: none in this epoch.
            assert logs["r1_penalty"][0] == 0.0
        else:
            np.testing.assert_allclose(
                logs["r1_penalty"][0], expected["r1_penalty"], rtol=1e-4
            )
    # EMA weights are state, not trained weights.
    assert len(trainer.trainable_variables) == len(
        generator.trainable_variables + discriminator.trainable_variables
    )


def test_saved_generator_and_trainer_reload(tmp_path):
    generator = tiny_generator(conditional=False)
    discriminator = tiny_discriminator(False, "tensor")
    trainer = GANTrainer(
        generator, discriminator, r1_gamma=1.0, ema_decay=0.9, seed=4
    )
    trainer.compile(keras.optimizers.Adam(1e-2), keras.optimizers.Adam(1e-2))
    images, _ = arrays()
    trainer.fit(images, batch_size=BATCH, epochs=1, verbose=0)
    z = np.random.default_rng(5).normal(size=(3, LATENT)).astype("float32")

    generator.save(tmp_path / "generator.keras")
    reloaded = keras.saving.load_model(tmp_path / "generator.keras")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(reloaded(z)),
        keras.ops.convert_to_numpy(generator(z)),
        atol=1e-6,
    )

    trainer.save(tmp_path / "trainer.keras")
    loaded = keras.saving.load_model(tmp_path / "trainer.keras")
    assert isinstance(loaded, GANTrainer)
    assert loaded.get_config()["r1_gamma"] == 1.0
    for name in ("generator", "discriminator", "ema_generator"):
        for old, new in zip(
            weights_of(getattr(trainer, name)),
            weights_of(getattr(loaded, name)),
            strict=True,
        ):
            np.testing.assert_array_equal(new, old)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(z)),
        keras.ops.convert_to_numpy(trainer(z)),
        atol=1e-6,
    )
    for name in ("generator_optimizer", "discriminator_optimizer"):
        for old, new in zip(
            getattr(trainer, name).variables,
            getattr(loaded, name).variables,
            strict=True,
        ):
            np.testing.assert_array_equal(
                keras.ops.convert_to_numpy(new),
                keras.ops.convert_to_numpy(old),
            )


def test_config_round_trip():
    trainer = GANTrainer(
        tiny_generator(True),
        tiny_discriminator(True, "features"),
        loss="hinge",
        feature_matching_weight=10.0,
        conditional=True,
        r1_interval=4,
        seed=7,
    )
    config = trainer.get_config()
    rebuilt = GANTrainer.from_config(config)
    for key in (
        "latent_dim",
        "loss",
        "r1_gamma",
        "r1_interval",
        "ema_decay",
        "feature_matching_weight",
        "conditional",
        "seed",
    ):
        assert rebuilt.get_config()[key] == config[key], key
    assert config["latent_dim"] == LATENT


def test_conditional_batches_need_conditions():
    trainer = GANTrainer(
        tiny_generator(True),
        tiny_discriminator(True, "tensor"),
        conditional=True,
    )
    trainer.compile("adam", "adam", run_eagerly=True)
    with pytest.raises(ValueError, match="conditions"):
        trainer.fit(arrays()[0], batch_size=BATCH, verbose=0)


def bad_trainer(**kwargs):
    models = dict(
        generator=tiny_generator(False),
        discriminator=tiny_discriminator(False, "tensor"),
    )
    models.update(kwargs)
    return GANTrainer(**models)


def mismatched_discriminator():
    x = keras.Input((8, 8, 1))
    return keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(x)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="wasserstein"), "`loss`"),
        (dict(r1_gamma=-1.0), "r1_gamma"),
        (dict(r1_interval=0), "r1_interval"),
        (dict(r1_interval=2.0), "r1_interval"),
        (dict(ema_decay=1.0), "ema_decay"),
        (dict(ema_decay=-0.1), "ema_decay"),
        (dict(feature_matching_weight=-1.0), "feature_matching_weight"),
        (dict(feature_matching_weight=1.0), "feature_matching_weight"),
        (dict(conditional="yes"), "conditional"),
        (dict(conditional=True), "conditional"),
        (dict(seed=-1), "seed"),
        (dict(latent_dim=5), "latent_dim"),
        (dict(generator="dcgan"), "generator"),
        (dict(discriminator=keras.layers.Dense(1)), "discriminator"),
        (dict(discriminator=mismatched_discriminator()), "differ"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        bad_trainer(**kwargs)


def test_invalid_compile_arguments():
    trainer = bad_trainer()
    optimizer = keras.optimizers.Adam()
    with pytest.raises(ValueError, match="two optimizer instances"):
        trainer.compile(optimizer, optimizer)
    with pytest.raises(ValueError, match="generator_optimizer"):
        trainer.compile("no_such_optimizer", "adam")
    with pytest.raises(ValueError, match="discriminator_optimizer"):
        trainer.compile("adam", 3)
    with pytest.raises(ValueError, match="loss"):
        trainer.compile("adam", "adam", loss="mse")
