import keras
import numpy as np
import pytest

from hadamard_zoo.training import gan_losses


def softplus(x):
    return np.logaddexp(0.0, x)


def scale_mean(per_element, outputs):
    """Mean over scales of the mean over each scale's logits, by loops."""
    if not isinstance(outputs, list):
        outputs = [outputs]
    means = []
    for scale in outputs:
        logits = scale[-1] if isinstance(scale, list) else scale
        flat = np.asarray(logits, "float64").ravel()
        means.append(sum(per_element(v) for v in flat) / flat.size)
    return sum(means) / len(means)


def numpy_loss(name, real, fake):
    if name == "discriminator_logistic_loss":
        return scale_mean(lambda v: softplus(-v), real) + scale_mean(
            softplus, fake
        )
    if name == "generator_nonsaturating_loss":
        return scale_mean(lambda v: softplus(-v), fake)
    if name == "discriminator_hinge_loss":
        return scale_mean(lambda v: max(0.0, 1.0 - v), real) + scale_mean(
            lambda v: max(0.0, 1.0 + v), fake
        )
    assert name == "generator_hinge_loss"
    return scale_mean(lambda v: -v, fake)


def random_outputs(form, rng):
    """A discriminator output of each of the three accepted forms."""
    if form == "tensor":
        return rng.normal(size=(4, 1)).astype("float32") * 3
    patches = [
        rng.normal(size=(4, 3, 3, 1)).astype("float32") * 3,
        rng.normal(size=(4, 2, 2, 1)).astype("float32") * 3,
    ]
    if form == "scales":
        return patches
    return [
        [rng.normal(size=(4, 3, 3, 2)).astype("float32"), p] for p in patches
    ]


def to_numpy(value):
    return float(keras.ops.convert_to_numpy(value))


@pytest.mark.parametrize("form", ["tensor", "scales", "features"])
@pytest.mark.parametrize(
    "name",
    [
        "discriminator_logistic_loss",
        "generator_nonsaturating_loss",
        "discriminator_hinge_loss",
        "generator_hinge_loss",
    ],
)
def test_adversarial_losses_match_numpy(name, form):
    rng = np.random.default_rng(len(name) + len(form))
    real, fake = random_outputs(form, rng), random_outputs(form, rng)
    loss = getattr(gan_losses, name)
    if name.startswith("discriminator"):
        value = loss(real, fake)
    else:
        value = loss(fake)
    np.testing.assert_allclose(
        to_numpy(value), numpy_loss(name, real, fake), rtol=1e-5, atol=1e-6
    )


def test_loss_table_pairs_the_functions():
    assert set(gan_losses.GAN_LOSSES) == {"nonsaturating", "hinge"}
    d_loss, g_loss = gan_losses.GAN_LOSSES["hinge"]
    assert d_loss is gan_losses.discriminator_hinge_loss
    assert g_loss is gan_losses.generator_hinge_loss


def test_r1_penalty_matches_numpy():
    rng = np.random.default_rng(0)
    gradients = rng.normal(size=(3, 4, 4, 2)).astype("float32")
    expected = 0.0
    for sample in gradients:
        expected += sum(g * g for g in sample.ravel().astype("float64"))
    expected = 2.5 / 2 * expected / len(gradients)
    np.testing.assert_allclose(
        to_numpy(gan_losses.r1_penalty(gradients, 2.5)), expected, rtol=1e-5
    )


def test_feature_matching_matches_numpy():
    rng = np.random.default_rng(1)
    real = random_outputs("features", rng)
    fake = random_outputs("features", rng)
    # A second feature at the first scale: layers are summed, scales
    # averaged (SPADE's GAN_Feat_loss).
    extra = rng.normal(size=(4, 5)).astype("float32")
    real[0].insert(0, extra)
    fake[0].insert(0, extra + 2.0)
    expected = 0.0
    for real_scale, fake_scale in zip(real, fake, strict=True):
        for r, f in zip(real_scale[:-1], fake_scale[:-1], strict=True):
            expected += np.abs(r.astype("float64") - f).mean()
    expected /= len(real)
    np.testing.assert_allclose(
        to_numpy(gan_losses.feature_matching_loss(real, fake)),
        expected,
        rtol=1e-5,
    )


def test_feature_matching_needs_features():
    logits = [np.zeros((2, 1), "float32")]
    with pytest.raises(ValueError, match="intermediate features"):
        gan_losses.feature_matching_loss(logits, logits)


def test_split_scales_forms():
    a, b = np.zeros((2, 1)), np.ones((2, 3))
    assert gan_losses.split_scales(a)[0][1] is a
    assert [len(f) for f, _ in gan_losses.split_scales([a, a])] == [0, 0]
    ((features, logits),) = gan_losses.split_scales([[b, b, a]])
    assert len(features) == 2 and logits is a
    for bad in ([], [a, [b, a]], [[]]):
        with pytest.raises(ValueError, match="discriminator must return"):
            gan_losses.split_scales(bad)
