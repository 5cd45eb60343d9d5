"""Adversarial losses of GANs: logistic, hinge, R1 and feature matching.

A discriminator's output takes one of three forms, all accepted here:

- one logits tensor (`(B, 1)`, or `(B, h, w, 1)` for a PatchGAN);
- a list with one logits tensor per scale (multi-scale PatchGAN);
- a list with, per scale, a list of intermediate features whose last
  element is that scale's logits (what feature matching needs).

`split_scales` reduces the three to `[(features, logits), ...]`. Every
adversarial loss averages over all the elements of a scale's logits
(batch and patches), then over the scales. Losses are computed in
float32, so that `softplus` of bfloat16 logits does not lose the loss.
"""

from keras import ops


def split_scales(outputs):
    """A discriminator's output as a list of `(features, logits)` pairs.

    Args:
        outputs: a tensor, a list of tensors (one per scale) or a list of
            lists of tensors (per scale: features, then logits).

    Returns:
        A list with one `(features, logits)` pair per scale; `features` is
        a (possibly empty) list of tensors.

    Example:

    >>> import numpy as np
    >>> scales = split_scales([[np.zeros((2, 4)), np.zeros((2, 1))]])
    >>> len(scales), len(scales[0][0])
    (1, 1)
    """
    if not isinstance(outputs, (list, tuple)):
        return [([], outputs)]
    nested = [isinstance(scale, (list, tuple)) for scale in outputs]
    if outputs and not any(nested):
        return [([], logits) for logits in outputs]
    if outputs and all(nested) and all(len(scale) for scale in outputs):
        return [(list(scale[:-1]), scale[-1]) for scale in outputs]
    raise ValueError(
        "A discriminator must return a logits tensor, a list of per-scale "
        "logits, or a list of per-scale lists [features..., logits]. "
        f"Received: {describe_outputs(outputs)}."
    )


def describe_outputs(value):
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(describe_outputs(v) for v in value) + "]"
    return f"tensor of shape {tuple(value.shape)}"


def _logits(outputs):
    return [ops.cast(logits, "float32") for _, logits in split_scales(outputs)]


def _mean_over_scales(loss, outputs):
    """mean over scales s of mean(loss(logits_s))."""
    per_scale = [ops.mean(loss(logits)) for logits in _logits(outputs)]
    return ops.mean(ops.stack(per_scale))


def discriminator_logistic_loss(real_outputs, fake_outputs):
    """The discriminator's logistic loss (Goodfellow et al.).

    ```
    L_D = E_x[softplus(-D(x))] + E_z[softplus(D(G(z)))]
    ```

    i.e. the binary cross-entropy of "real" on `D(x)` and "fake" on
    `D(G(z))`, with `D` the logits.

    Args:
        real_outputs: the discriminator's output on real images.
        fake_outputs: its output on generated images (same structure).

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> loss = discriminator_logistic_loss(np.zeros((2, 1)), np.zeros((2, 1)))
    >>> round(float(loss), 4)  # 2 log 2
    1.3863

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    return _mean_over_scales(
        lambda real: ops.softplus(-real), real_outputs
    ) + _mean_over_scales(ops.softplus, fake_outputs)


def generator_nonsaturating_loss(fake_outputs):
    """The generator's non-saturating logistic loss (Goodfellow et al.).

    ```
    L_G = E_z[softplus(-D(G(z)))] = -E_z[log sigmoid(D(G(z)))]
    ```

    which keeps strong gradients when `D` confidently rejects the fakes
    (the minimax `-softplus(D(G(z)))` saturates there).

    Args:
        fake_outputs: the discriminator's output on generated images.

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> round(float(generator_nonsaturating_loss(np.zeros((2, 1)))), 4)
    0.6931

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """
    return _mean_over_scales(lambda fake: ops.softplus(-fake), fake_outputs)


def discriminator_hinge_loss(real_outputs, fake_outputs):
    """The discriminator's hinge loss (Lim & Ye; used by SPADE).

    ```
    L_D = E_x[relu(1 - D(x))] + E_z[relu(1 + D(G(z)))]
    ```

    Args:
        real_outputs: the discriminator's output on real images.
        fake_outputs: its output on generated images (same structure).

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> float(discriminator_hinge_loss(np.ones((2, 1)), -np.ones((2, 1))))
    0.0

    Reference:
        Lim & Ye, "Geometric GAN", 2017; Park et al., "Semantic Image
        Synthesis with Spatially-Adaptive Normalization", CVPR 2019.
    """
    return _mean_over_scales(
        lambda real: ops.relu(1.0 - real), real_outputs
    ) + _mean_over_scales(lambda fake: ops.relu(1.0 + fake), fake_outputs)


def generator_hinge_loss(fake_outputs):
    """The generator's loss paired with the hinge discriminator loss.

    ```
    L_G = -E_z[D(G(z))]
    ```

    Args:
        fake_outputs: the discriminator's output on generated images.

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> float(generator_hinge_loss(np.full((2, 1), 3.0)))
    -3.0

    Reference:
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019.
    """
    return _mean_over_scales(lambda fake: -fake, fake_outputs)


def r1_penalty(gradients, gamma):
    """The R1 gradient penalty on real images (Mescheder et al.).

    ```
    R1 = γ/2 · E_x[‖∇_x D(x)‖²]
    ```

    with the squared norm summed over every axis but the batch axis.

    Args:
        gradients: `∇_x D(x)`, a tensor `(B, ...)` shaped like the images.
        gamma: float, the penalty weight `γ`.

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> float(r1_penalty(np.full((2, 3), 2.0), gamma=0.5))  # 0.25 * 12
    3.0

    Reference:
        Mescheder et al., "Which Training Methods for GANs do actually
        Converge?", ICML 2018.
    """
    gradients = ops.cast(gradients, "float32")
    axes = tuple(range(1, len(gradients.shape)))
    squared_norms = ops.sum(ops.square(gradients), axis=axes)
    return 0.5 * gamma * ops.mean(squared_norms)


def feature_matching_loss(real_outputs, fake_outputs):
    """The discriminator feature-matching loss of pix2pixHD and SPADE.

    ```
    L_FM = 1/S · Σ_s Σ_l mean|D_s^l(x) - D_s^l(G(z))|
    ```

    over the `S` scales and the intermediate features `l` of each scale
    (the logits, the last element of each scale's list, excluded). The
    real features are targets: no gradient flows into them.

    Args:
        real_outputs: the discriminator's output on real images, a list of
            per-scale lists `[features..., logits]`.
        fake_outputs: its output on generated images (same structure).

    Returns:
        A float32 scalar.

    Example:

    >>> import numpy as np
    >>> real = [[np.ones((2, 3)), np.zeros((2, 1))]]
    >>> fake = [[np.zeros((2, 3)), np.zeros((2, 1))]]
    >>> float(feature_matching_loss(real, fake))
    1.0

    Reference:
        Wang et al., "High-Resolution Image Synthesis and Semantic
        Manipulation with Conditional GANs" (pix2pixHD), CVPR 2018;
        Park et al., "Semantic Image Synthesis with Spatially-Adaptive
        Normalization", CVPR 2019.
    """
    real_scales = split_scales(real_outputs)
    fake_scales = split_scales(fake_outputs)
    if len(real_scales) != len(fake_scales) or not any(
        features for features, _ in real_scales
    ):
        raise ValueError(
            "Feature matching needs a discriminator that returns, per "
            "scale, a list of intermediate features ending with the "
            f"logits. Received: {describe_outputs(real_outputs)} on real "
            f"images and {describe_outputs(fake_outputs)} on fakes."
        )
    total = 0.0
    for (real, _), (fake, _) in zip(real_scales, fake_scales, strict=True):
        for real_feature, fake_feature in zip(real, fake, strict=True):
            target = ops.stop_gradient(ops.cast(real_feature, "float32"))
            distance = ops.abs(ops.cast(fake_feature, "float32") - target)
            total = total + ops.mean(distance)
    return total / len(real_scales)


# The (discriminator, generator) losses of each `GANTrainer(loss=...)`.
GAN_LOSSES = {
    "nonsaturating": (
        discriminator_logistic_loss,
        generator_nonsaturating_loss,
    ),
    "hinge": (discriminator_hinge_loss, generator_hinge_loss),
}
