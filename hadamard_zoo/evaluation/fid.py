"""Fréchet distance of classifier features (this project's "classifier FID").

The Fréchet distance between two Gaussians fitted to the features that a
network extracts from real and from generated images is the FID of Heusel
et al. Here the network is one of this project's own MNIST / Fashion-MNIST
classifier presets, not Inception-v3: the numbers rank generators measured
with the same classifier and say nothing next to published FIDs.
"""

import warnings

import keras
import numpy as np
from keras import ops

from hadamard_zoo.utils.precision import full_float32_precision
from hadamard_zoo.utils.validation import check_int
from hadamard_zoo.utils.validation import check_int_tuple


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein) distance between two Gaussians, squared.

    For `N(μ1, Σ1)` and `N(μ2, Σ2)` (Dowson & Landau),

    ```
    d² = ||μ1 - μ2||² + Tr(Σ1 + Σ2 - 2 (Σ1 Σ2)^{1/2})
    ```

    `Σ1 Σ2` is not symmetric, but it is similar to the symmetric positive
    semi-definite `Σ1^{1/2} Σ2 Σ1^{1/2}`, so both have the same eigenvalues
    `λ_i ≥ 0` and

    ```
    Tr((Σ1 Σ2)^{1/2}) = Tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}) = Σ_i sqrt(λ_i)
    ```

    which needs only two symmetric eigendecompositions
    (`keras.ops.linalg.eigh`), whose real eigenvalues avoid the complex
    round-off of a general `sqrtm`. Eigenvalues that round-off makes
    slightly negative are clamped to 0, as is a final distance of order
    `-1e-12`: the distance is never negative.

    On a GPU, whose backend would compute float32 products in TF32, the
    algebra runs in full precision (`hadamard_zoo.utils.precision`).
    It runs in float64 where the backend keeps float64 through
    `keras.ops.matmul` (TensorFlow), else in float32: Keras's type
    promotion turns 64-bit results into 32-bit ones on JAX and PyTorch, to
    match JAX's default. In float32 the trace term of full-rank
    covariances is good to about 1e-6 relative, but each eigenvalue near 0
    (a singular covariance, e.g. fewer samples than dimensions) adds an
    error up to `sqrt(1e-7 ||Σ||)`: the square root halves the digits
    there.

    Args:
        mu1: array of shape `(d,)`, the first mean.
        sigma1: array of shape `(d, d)`, the first covariance (symmetric
            positive semi-definite).
        mu2: array of shape `(d,)`, the second mean.
        sigma2: array of shape `(d, d)`, the second covariance.

    Returns:
        The squared distance `d²`, a Python float >= 0.

    Raises:
        ValueError: if an argument is not finite, a mean is not 1-D, a
            covariance is not a square (or not a symmetric) matrix, or the
            dimensions differ.

    Example:

    >>> import numpy as np
    >>> # Diagonal covariances: Σ_i (sqrt(a_i) - sqrt(b_i))², plus the means.
    >>> d = frechet_distance(
    ...     np.zeros(2), np.diag([1.0, 4.0]), np.array([3.0, 0.0]),
    ...     np.diag([4.0, 9.0]),
    ... )
    >>> round(d, 6)  # 9 + (1 - 2)² + (2 - 3)²
    11.0

    Reference:
        Dowson & Landau, "The Fréchet distance between multivariate normal
        distributions", Journal of Multivariate Analysis 12(3), 1982;
        Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
        Converge to a Local Nash Equilibrium", NeurIPS 2017.
    """
    mu1, sigma1, mu2, sigma2 = _check_gaussians(mu1, sigma1, mu2, sigma2)
    dtype = _compute_dtype()
    with full_float32_precision():  # not TF32 on a GPU
        mu1, sigma1, mu2, sigma2 = (
            ops.convert_to_tensor(x.astype(dtype))
            for x in (mu1, sigma1, mu2, sigma2)
        )
        root1 = _psd_sqrt(sigma1)
        product = ops.matmul(ops.matmul(root1, sigma2), root1)
        eigenvalues, _ = ops.linalg.eigh(_symmetrize(product))
        trace_root = ops.sum(ops.sqrt(ops.maximum(eigenvalues, 0.0)))
        difference = mu1 - mu2
        distance = (
            ops.sum(difference * difference)
            + ops.trace(sigma1)
            + ops.trace(sigma2)
            - 2.0 * trace_root
        )
        return max(float(ops.convert_to_numpy(distance)), 0.0)


def feature_statistics(features):
    """Mean and unbiased covariance of a set of feature vectors.

    For `N` rows `x_n` of `features`,

    ```
    μ = (1/N) Σ_n x_n,     Σ = (1/(N-1)) Σ_n (x_n - μ)(x_n - μ)^T
    ```

    as `numpy.cov(features, rowvar=False)` and the reference FID code.
    Computed with `keras.ops`, in float64 on TensorFlow and float32
    elsewhere (see `frechet_distance`).

    Args:
        features: array of shape `(N, d)` with `N >= 2` finite rows.

    Returns:
        A tuple `(mu, sigma)` of NumPy arrays of shapes `(d,)` and `(d, d)`.

    Raises:
        ValueError: if `features` is not 2-D, has fewer than 2 rows or
            holds NaN or infinite values.

    Example:

    >>> mu, sigma = feature_statistics([[0.0, 1.0], [2.0, 1.0], [4.0, 4.0]])
    >>> mu.tolist(), sigma.tolist()
    ([2.0, 2.0], [[4.0, 3.0], [3.0, 3.0]])

    Reference:
        Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
        Converge to a Local Nash Equilibrium", NeurIPS 2017.
    """
    features = _as_float_array("features", features)
    if features.ndim != 2:
        raise ValueError(
            "`features` must be a 2-D array of shape (num_samples, dim). "
            f"Received: features.shape={features.shape}."
        )
    count = features.shape[0]
    if count < 2:
        raise ValueError(
            "`features` must hold at least 2 rows: a covariance needs two "
            f"samples. Received: features.shape={features.shape}."
        )
    with full_float32_precision():  # not TF32 on a GPU
        x = ops.convert_to_tensor(features.astype(_compute_dtype()))
        mu = ops.mean(x, axis=0)
        centered = x - mu
        sigma = ops.matmul(ops.transpose(centered), centered) / (count - 1)
        return ops.convert_to_numpy(mu), ops.convert_to_numpy(sigma)


def to_classifier_images(images, image_size=(28, 28)):
    """Converts generated images in [-1, 1] to classifier input pixels.

    Generators end in `tanh` and may work at 32x32; the MNIST and
    Fashion-MNIST classifier presets take `uint8` pixels at 28x28, as
    stored in the datasets. The images are resized (bilinear,
    `keras.ops.image.resize`), then mapped and quantised:

    ```
    pixel = round(clip((x + 1) * 127.5, 0, 255))
    ```

    The rounding gives generated images the 256 grey levels of the real
    ones, so quantisation noise does not count in the distance. The
    resizing blurs: real images taken through 28 -> 32 -> 28 are farther
    from the originals than two real halves are, so the floor of a 32x32
    generator trained on up-sampled images is the FID of real images put
    through the same round trip.

    Args:
        images: array of shape `(N, H, W, C)` or `(N, H, W)` (one channel
            added), channels last, values in [-1, 1] (clipped outside).
        image_size: int or `(height, width)`, the output size. Defaults to
            `(28, 28)`.

    Returns:
        A `uint8` NumPy array of shape `(N, height, width, C)`.

    Raises:
        ValueError: if `images` is not of rank 3 or 4, or holds NaN or
            infinite values.

    Example:

    >>> import numpy as np
    >>> fake = np.stack([-np.ones((32, 32)), np.ones((32, 32))])
    >>> pixels = to_classifier_images(fake)
    >>> pixels.shape, pixels.dtype, int(pixels.min()), int(pixels.max())
    ((2, 28, 28, 1), dtype('uint8'), 0, 255)
    """
    image_size = check_int_tuple("image_size", image_size, 2)
    images = _as_float_array("images", images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            "`images` must have shape (N, H, W, C) or (N, H, W). "
            f"Received: images.shape={images.shape}."
        )
    x = ops.convert_to_tensor(images.astype("float32"))
    if tuple(images.shape[1:3]) != image_size:
        x = ops.image.resize(
            x, image_size, interpolation="bilinear", data_format="channels_last"
        )
    x = ops.round(ops.clip((x + 1.0) * 127.5, 0.0, 255.0))
    return ops.convert_to_numpy(ops.cast(x, "uint8"))


def classifier_feature_model(classifier, layer_name=None):
    """A `keras.Model` from a classifier's inputs to its feature layer.

    By default the features are the input of the classifier's final
    logits `Dense` layer (the penultimate features: the pooled backbone
    output of a keras-hub `ImageClassifier`). That layer is the task's
    `output_dense` when it has one, else the last `Dense` layer of the
    functional graph.

    Args:
        classifier: a functional `keras.Model`, e.g. a classifier preset
            from `hadamard_zoo.load_classifier`.
        layer_name: `None` or the name of a layer of `classifier` whose
            output are the features. Defaults to `None` (the input of the
            final `Dense` layer).

    Returns:
        A functional `keras.Model` sharing the classifier's weights.

    Raises:
        ValueError: if `classifier` is not a functional model, has no
            `Dense` layer (with `layer_name=None`), or has no layer named
            `layer_name`.

    Example:

    >>> import keras
    >>> inputs = keras.Input((28, 28, 1))
    >>> hidden = keras.layers.Dense(8)(keras.layers.Flatten()(inputs))
    >>> classifier = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    >>> classifier_feature_model(classifier).output.shape
    (None, 8)
    """
    if not isinstance(classifier, keras.Model) or not getattr(
        classifier, "inputs", None
    ):
        raise ValueError(
            "`classifier` must be a functional `keras.Model` (e.g. from "
            "`hadamard_zoo.load_classifier`). Received: "
            f"classifier={classifier!r} (type {type(classifier).__name__})."
        )
    if layer_name is not None:
        names = [layer.name for layer in classifier.layers]
        if layer_name not in names:
            raise ValueError(
                f"`layer_name` must name a layer of {classifier.name!r}, "
                f"one of {names}. Received: layer_name={layer_name!r}."
            )
        features = classifier.get_layer(layer_name).output
    else:
        head = getattr(classifier, "output_dense", None)
        if not isinstance(head, keras.layers.Dense):
            dense = [
                layer
                for layer in classifier.layers
                if isinstance(layer, keras.layers.Dense)
            ]
            if not dense:
                raise ValueError(
                    f"`classifier` ({classifier.name!r}) has no Dense "
                    "layer whose input could serve as features; pass "
                    "`layer_name`."
                )
            head = dense[-1]
        features = head.input
    # `input` keeps the structure the classifier was built with (a single
    # tensor, a list or a dict), so batches are passed to both alike.
    return keras.Model(classifier.input, features)


def classifier_features(classifier, images, layer_name=None, batch_size=256):
    """Features of images from a classifier's penultimate layer.

    Each batch goes through the classifier's `preprocessor` when it has
    one (as in `classifier.predict`), then through
    `classifier_feature_model(classifier, layer_name)`. Features of rank
    above 2 (a `layer_name` with a feature map) are flattened.

    Args:
        classifier: a functional `keras.Model`, e.g.
            `hadamard_zoo.load_classifier("pinet_prodpoly_fashion_mnist")`.
        images: array of shape `(N, H, W, C)` or `(N, H, W)` (one channel
            added) of raw pixel values in [0, 255], like the datasets'
            `uint8` images; convert generated images with
            `to_classifier_images` first.
        layer_name: `None` or the name of the feature layer (see
            `classifier_feature_model`). Defaults to `None`.
        batch_size: int, images per forward pass. Defaults to `256`.

    Returns:
        A float32 NumPy array of shape `(N, d)`.

    Raises:
        ValueError: if `images` is empty, not of rank 3 or 4, or holds
            values outside [0, 255] (such as generated images in [-1, 1]),
            or for the errors of `classifier_feature_model`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> inputs = keras.Input((28, 28, 1))
    >>> hidden = keras.layers.Dense(8)(keras.layers.Flatten()(inputs))
    >>> classifier = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    >>> images = np.zeros((5, 28, 28), "uint8")
    >>> classifier_features(classifier, images).shape
    (5, 8)
    """
    batch_size = check_int("batch_size", batch_size)
    images = _check_pixels("images", images)
    model = classifier_feature_model(classifier, layer_name)
    return _extract(classifier, model, images, batch_size)


def classifier_features_and_logits(
    classifier, images, layer_name=None, batch_size=256
):
    """Features and logits of images from one pass through a classifier.

    What `classifier_features` and `classifier.predict` return, computed
    together: measuring a generator's FID and its class accuracy on the
    same images then costs one forward pass instead of two.

    Args:
        classifier: a functional `keras.Model` (see `classifier_features`).
        images: array of shape `(N, H, W, C)` or `(N, H, W)` of raw pixel
            values in [0, 255] (see `classifier_features`).
        layer_name: `None` or the name of the feature layer (see
            `classifier_feature_model`). Defaults to `None`.
        batch_size: int, images per forward pass. Defaults to `256`.

    Returns:
        `(features, logits)`: float32 NumPy arrays of shapes `(N, d)` and
        `(N, classes)` (the classifier's own output).

    Raises:
        ValueError: as `classifier_features`.

    Example:

    Features of a linear classifier on 8x8 images are its flattened
    pixels:

    >>> import keras
    >>> import numpy as np
    >>> pixels = keras.Input((8, 8))
    >>> flat = keras.layers.Flatten()(pixels)
    >>> linear = keras.Model(pixels, keras.layers.Dense(3)(flat))
    >>> images = np.full((4, 8, 8), 255, "uint8")
    >>> features, logits = classifier_features_and_logits(linear, images)
    >>> features.shape, logits.shape, float(features.max())
    ((4, 64), (4, 3), 255.0)
    """
    batch_size = check_int("batch_size", batch_size)
    images = _check_pixels("images", images)
    features = classifier_feature_model(classifier, layer_name).output
    model = keras.Model(classifier.input, [features, classifier.output])
    return _extract(classifier, model, images, batch_size)


def classifier_fid(
    classifier, real_images, fake_images, layer_name=None, batch_size=256
):
    """FID with this project's classifier features instead of Inception.

    With `(μ_r, Σ_r)` and `(μ_f, Σ_f)` the `feature_statistics` of the
    `classifier_features` of real and fake images,

    ```
    FID = ||μ_r - μ_f||² + Tr(Σ_r + Σ_f - 2 (Σ_r Σ_f)^{1/2})
    ```

    This is *not* the Inception FID and is not comparable to published
    FIDs: the features are those of an MNIST / Fashion-MNIST classifier
    preset. It is comparable only between models measured with the same
    classifier (same preset, same `layer_name`) and the same numbers of
    images, since the estimate is biased upwards by small samples. Its
    floor is the FID between two held-out halves of real data
    (`real_vs_real_floor`), which no generator can be expected to beat.

    Args:
        classifier: a functional `keras.Model`, e.g.
            `hadamard_zoo.load_classifier("pinet_prodpoly_fashion_mnist")`.
        real_images: at least 2 real images, pixels in [0, 255] (see
            `classifier_features`).
        fake_images: at least 2 generated images, pixels in [0, 255]:
            convert a generator's [-1, 1] output with
            `to_classifier_images`.
        layer_name: `None` or the name of the feature layer (see
            `classifier_feature_model`). Defaults to `None`.
        batch_size: int, images per forward pass. Defaults to `256`.

    Returns:
        The FID, a Python float >= 0.

    Raises:
        ValueError: if either set of images has fewer than 2 images or
            pixels outside [0, 255], or for the errors of
            `classifier_feature_model`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> inputs = keras.Input((28, 28, 1))
    >>> pixels = keras.layers.Rescaling(1 / 255)(inputs)
    >>> hidden = keras.layers.Dense(8)(keras.layers.Flatten()(pixels))
    >>> classifier = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    >>> rng = np.random.default_rng(0)
    >>> real = rng.integers(0, 256, (64, 28, 28), dtype="uint8")
    >>> fake = to_classifier_images(rng.uniform(-1, -0.5, (64, 32, 32)))
    >>> round(classifier_fid(classifier, real, real), 3)
    0.0
    >>> floor = classifier_fid(classifier, real[:32], real[32:])
    >>> classifier_fid(classifier, real[:32], fake[:32]) > floor
    True

    Reference:
        Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
        Converge to a Local Nash Equilibrium", NeurIPS 2017.
    """
    batch_size = check_int("batch_size", batch_size)
    real_images = _check_pixels("real_images", real_images, minimum=2)
    fake_images = _check_pixels("fake_images", fake_images, minimum=2)
    model = classifier_feature_model(classifier, layer_name)
    real = _extract(classifier, model, real_images, batch_size)
    fake = _extract(classifier, model, fake_images, batch_size)
    return frechet_distance(
        *feature_statistics(real), *feature_statistics(fake)
    )


def real_vs_real_floor(
    classifier, images, seed=0, layer_name=None, batch_size=256
):
    """The classifier FID between two random halves of real images.

    The images are shuffled with `seed` and split into two halves of
    `N // 2` images each (an odd last image is left out); their
    `classifier_fid` is what sampling noise alone gives, the floor of a
    generator's FID. Compare it with a generator's FID measured on as many
    images as one half holds (against held-out real images), since the
    estimate shrinks as the sample grows.

    Args:
        classifier: a functional `keras.Model`, e.g. a classifier preset.
        images: at least 4 real images, pixels in [0, 255] (see
            `classifier_features`).
        seed: int >= 0, the seed of the shuffle. Defaults to `0`.
        layer_name: `None` or the name of the feature layer (see
            `classifier_feature_model`). Defaults to `None`.
        batch_size: int, images per forward pass. Defaults to `256`.

    Returns:
        The FID of the two halves, a Python float >= 0.

    Raises:
        ValueError: if `images` holds fewer than 4 images or pixels
            outside [0, 255], `seed` is not an int >= 0, or for the errors
            of `classifier_feature_model`.

    Example:

    >>> import keras
    >>> import numpy as np
    >>> inputs = keras.Input((28, 28, 1))
    >>> hidden = keras.layers.Dense(8)(keras.layers.Flatten()(inputs))
    >>> classifier = keras.Model(inputs, keras.layers.Dense(10)(hidden))
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (64, 28, 28), dtype="uint8")
    >>> real_vs_real_floor(classifier, images, seed=1) > 0
    True

    Reference:
        Heusel et al., "GANs Trained by a Two Time-Scale Update Rule
        Converge to a Local Nash Equilibrium", NeurIPS 2017.
    """
    seed = check_int("seed", seed, minimum=0)
    images = _check_pixels("images", images, minimum=4)
    order = np.random.default_rng(seed).permutation(len(images))
    half = len(images) // 2
    return classifier_fid(
        classifier,
        images[order[:half]],
        images[order[half : 2 * half]],
        layer_name=layer_name,
        batch_size=batch_size,
    )


def _extract(classifier, model, images, batch_size):
    """`model`'s outputs (one array, or a list of them) for all `images`,
    each flattened to `(N, -1)` float32."""
    preprocessor = getattr(classifier, "preprocessor", None)
    several = isinstance(model.output, (list, tuple))
    batches = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        if preprocessor is not None:
            batch = preprocessor(batch)
        outputs = model.predict_on_batch(batch)
        outputs = outputs if several else [outputs]
        arrays = [ops.convert_to_numpy(out) for out in outputs]
        batches.append([a.reshape(len(a), -1) for a in arrays])
    arrays = [
        np.concatenate(parts).astype("float32")
        for parts in zip(*batches, strict=True)
    ]
    return arrays if several else arrays[0]


def _compute_dtype():
    # Mixing float64 eigendecompositions with float32 products would be no
    # better than float32 throughout, so probe the op that downcasts: Keras
    # maps 64-bit results to 32-bit ones outside TensorFlow, and JAX
    # without `jax_enable_x64` has no float64 arrays at all (it warns).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe = ops.convert_to_tensor(np.zeros((1, 1)), "float64")
        probe = ops.matmul(probe, probe)
    return keras.backend.standardize_dtype(probe.dtype)


def _symmetrize(matrix):
    # eigh reads one triangle only; averaging keeps round-off asymmetry of
    # products from biasing it.
    return 0.5 * (matrix + ops.transpose(matrix))


def _psd_sqrt(matrix):
    eigenvalues, eigenvectors = ops.linalg.eigh(_symmetrize(matrix))
    roots = ops.sqrt(ops.maximum(eigenvalues, 0.0))
    return ops.matmul(
        eigenvectors * roots[None, :], ops.transpose(eigenvectors)
    )


def _as_float_array(name, value):
    if not isinstance(value, (np.ndarray, list, tuple)):
        value = ops.convert_to_numpy(value)
    array = np.asarray(value)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"`{name}` must hold real numbers. "
            f"Received: {name}.dtype={array.dtype}."
        )
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise ValueError(
            f"`{name}` must hold finite numbers. Received "
            f"{array.size - np.isfinite(array).sum()} NaN or infinite "
            "value(s)."
        )
    return array


def _check_gaussians(mu1, sigma1, mu2, sigma2):
    mu1, sigma1 = _as_float_array("mu1", mu1), _as_float_array("sigma1", sigma1)
    mu2, sigma2 = _as_float_array("mu2", mu2), _as_float_array("sigma2", sigma2)
    for name, mu in (("mu1", mu1), ("mu2", mu2)):
        if mu.ndim != 1 or mu.size == 0:
            raise ValueError(
                f"`{name}` must be a non-empty 1-D array (a mean). "
                f"Received: {name}.shape={mu.shape}."
            )
    for name, sigma, mu in (("sigma1", sigma1, mu1), ("sigma2", sigma2, mu2)):
        if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
            raise ValueError(
                f"`{name}` must be a square matrix (a covariance). "
                f"Received: {name}.shape={sigma.shape}."
            )
        if sigma.shape[0] != mu.shape[0]:
            raise ValueError(
                f"`{name}` must have shape ({mu.shape[0]}, {mu.shape[0]}) "
                f"to match the mean's dimension. Received: "
                f"{name}.shape={sigma.shape}."
            )
        scale = np.max(np.abs(sigma), initial=0.0)
        if np.max(np.abs(sigma - sigma.T)) > 1e-5 * scale:
            raise ValueError(
                f"`{name}` must be a symmetric matrix (a covariance). "
                "Received a matrix whose largest asymmetry is "
                f"{np.max(np.abs(sigma - sigma.T)):.3g}."
            )
    if mu1.shape != mu2.shape:
        raise ValueError(
            "`mu1` and `mu2` must have the same dimension. Received: "
            f"mu1.shape={mu1.shape}, mu2.shape={mu2.shape}."
        )
    return mu1, sigma1, mu2, sigma2


def _check_pixels(name, images, minimum=1):
    images = np.asarray(
        images
        if isinstance(images, np.ndarray)
        else ops.convert_to_numpy(images)
    )
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(
            f"`{name}` must have shape (N, H, W, C) or (N, H, W). "
            f"Received: {name}.shape={images.shape}."
        )
    if len(images) < minimum:
        raise ValueError(
            f"`{name}` must hold at least {minimum} image(s). "
            f"Received: {name}.shape={images.shape}."
        )
    if images.dtype == bool or not np.issubdtype(images.dtype, np.number):
        raise ValueError(
            f"`{name}` must hold pixel values. "
            f"Received: {name}.dtype={images.dtype}."
        )
    low, high = float(images.min()), float(images.max())
    if not (0.0 <= low and high <= 255.0):
        raise ValueError(
            f"`{name}` must hold pixel values in [0, 255], like the "
            f"datasets' uint8 images. Received values in [{low}, {high}]; "
            "convert generated images in [-1, 1] with "
            "`to_classifier_images`."
        )
    return images
