import keras
import numpy as np
import pytest

from hadamard_zoo.datasets import load_mnist
from hadamard_zoo.evaluation.fid import classifier_feature_model
from hadamard_zoo.evaluation.fid import classifier_features
from hadamard_zoo.evaluation.fid import classifier_features_and_logits
from hadamard_zoo.evaluation.fid import classifier_fid
from hadamard_zoo.evaluation.fid import feature_statistics
from hadamard_zoo.evaluation.fid import frechet_distance
from hadamard_zoo.evaluation.fid import real_vs_real_floor
from hadamard_zoo.evaluation.fid import to_classifier_images


def eig_frechet(mu1, sigma1, mu2, sigma2):
    """The equation with Tr((Σ1 Σ2)^{1/2}) = Σ sqrt(eigenvalues of Σ1 Σ2).

    Eigenvalues of the non-symmetric product, in complex numbers, so
    round-off that makes one slightly negative does not become a NaN.
    """
    eigenvalues = np.linalg.eigvals(sigma1 @ sigma2).astype(complex)
    trace_root = np.sum(np.sqrt(eigenvalues)).real
    return (
        np.sum((mu1 - mu2) ** 2)
        + np.trace(sigma1)
        + np.trace(sigma2)
        - 2 * trace_root
    )


def scipy_frechet(mu1, sigma1, mu2, sigma2):
    """The reference FID code's computation, with `scipy.linalg.sqrtm`."""
    linalg = pytest.importorskip("scipy.linalg")
    root = linalg.sqrtm(sigma1 @ sigma2)
    return (
        np.sum((mu1 - mu2) ** 2)
        + np.trace(sigma1)
        + np.trace(sigma2)
        - 2 * np.trace(root).real
    )


def random_gaussian(rng, dim=16, rank=None):
    factor = rng.normal(size=(dim, rank or 2 * dim))
    return rng.normal(size=dim), factor @ factor.T / factor.shape[1]


@pytest.mark.parametrize("reference", [scipy_frechet, eig_frechet])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_psd_against_reference(reference, seed):
    rng = np.random.default_rng(seed)
    mu1, sigma1 = random_gaussian(rng)
    mu2, sigma2 = random_gaussian(rng)
    sigma2 = sigma2 * (seed + 1)  # covariances of different scales
    expected = reference(mu1, sigma1, mu2, sigma2)
    got = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert got == pytest.approx(expected, rel=1e-4)


def test_covariance_term_alone_against_scipy():
    # Equal means: the whole distance is the trace term, the part the
    # eigendecompositions compute.
    rng = np.random.default_rng(7)
    mu, sigma1 = random_gaussian(rng)
    _, sigma2 = random_gaussian(rng)
    expected = scipy_frechet(mu, sigma1, mu, sigma2)
    assert frechet_distance(mu, sigma1, mu, sigma2) == pytest.approx(
        expected, rel=1e-4
    )


def test_diagonal_covariances_closed_form():
    # (Σ1 Σ2)^{1/2} = diag(sqrt(a b)): d² = ||Δμ||² + Σ (sqrt(a) - sqrt(b))².
    rng = np.random.default_rng(4)
    a, b = rng.uniform(0.1, 5.0, 16), rng.uniform(0.1, 5.0, 16)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    expected = sum((m - n) ** 2 for m, n in zip(mu1, mu2, strict=True)) + sum(
        (np.sqrt(x) - np.sqrt(y)) ** 2 for x, y in zip(a, b, strict=True)
    )
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    assert got == pytest.approx(expected, rel=1e-5)


def test_singular_diagonal_covariances_closed_form():
    # Zero variances make exact zero eigenvalues, which round-off may push
    # slightly negative: the clamp keeps the square roots real.
    a = np.array([0.0, 1.0, 4.0, 0.0])
    b = np.array([9.0, 0.0, 1.0, 0.0])
    expected = 9.0 + 1.0 + 1.0  # (0 - 3)² + (1 - 0)² + (2 - 1)²
    got = frechet_distance(np.zeros(4), np.diag(a), np.zeros(4), np.diag(b))
    assert got == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("rank", [16, 5])
def test_identical_distributions_give_zero(rank):
    rng = np.random.default_rng(rank)
    mu, sigma = random_gaussian(rng, rank=rank)
    got = frechet_distance(mu, sigma, mu, sigma)
    assert 0.0 <= got <= 1e-4 * np.trace(sigma)


def test_mean_shift_only():
    # Same covariance: the distance is the squared distance of the means.
    rng = np.random.default_rng(9)
    mu, sigma = random_gaussian(rng)
    shift = np.zeros(16)
    shift[3] = 2.0
    got = frechet_distance(mu, sigma, mu + shift, sigma)
    assert got == pytest.approx(4.0, abs=1e-4 * np.trace(sigma))


@pytest.mark.parametrize(
    "ranks, rel",
    [
        ((8, 24), 1e-5),
        # Singular covariances: in float32 (JAX, PyTorch) the square roots
        # of eigenvalues near 0 hold only about half the digits.
        ((2, 8), 1e-3),
    ],
)
def test_symmetric_and_non_negative(ranks, rel):
    rng = np.random.default_rng(11)
    for _ in range(5):
        first = random_gaussian(rng, dim=8, rank=int(rng.integers(*ranks)))
        second = random_gaussian(rng, dim=8, rank=int(rng.integers(*ranks)))
        forward = frechet_distance(*first, *second)
        backward = frechet_distance(*second, *first)
        assert forward >= 0.0
        assert forward == pytest.approx(backward, rel=rel)


def test_accepts_backend_tensors_and_lists():
    sigma = [[2.0, 0.0], [0.0, 8.0]]
    got = frechet_distance(
        keras.ops.convert_to_tensor([1.0, 0.0]),
        keras.ops.convert_to_tensor(sigma),
        [0.0, 0.0],
        sigma,
    )
    assert got == pytest.approx(1.0, abs=1e-5)


def test_feature_statistics_against_numpy():
    rng = np.random.default_rng(2)
    features = rng.normal(size=(100, 7)) * rng.uniform(0.5, 3.0, 7) + 4.0
    mu, sigma = feature_statistics(features)
    assert mu.shape == (7,) and sigma.shape == (7, 7)
    np.testing.assert_allclose(mu, np.mean(features, axis=0), rtol=1e-5)
    # Unbiased (N - 1), as numpy.cov.
    np.testing.assert_allclose(
        sigma, np.cov(features, rowvar=False), rtol=1e-5, atol=1e-6
    )


def test_feature_statistics_two_rows():
    mu, sigma = feature_statistics(np.array([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(mu, [2.0, 4.0])
    np.testing.assert_allclose(sigma, [[2.0, 4.0], [4.0, 8.0]])


def test_to_classifier_images_round_trips_pixels():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (3, 28, 28, 1), dtype=np.uint8)
    back = to_classifier_images(pixels / 127.5 - 1.0)
    assert back.dtype == np.uint8
    np.testing.assert_array_equal(back, pixels)


def test_to_classifier_images_clips_and_adds_channel():
    images = np.stack([np.full((28, 28), v) for v in (-3.0, -1.0, 1.0, 2.0)])
    out = to_classifier_images(images)
    assert out.shape == (4, 28, 28, 1)
    assert [int(v) for v in out[:, 0, 0, 0]] == [0, 0, 255, 255]


def bilinear_reference(image, size):
    """Separable linear interpolation with half-pixel centres, edges held."""

    def resize_axis(x, new, axis):
        old = x.shape[axis]
        out = []
        for j in range(new):
            src = min(max((j + 0.5) * old / new - 0.5, 0.0), old - 1.0)
            low = int(np.floor(src))
            high = min(low + 1, old - 1)
            w = src - low
            out.append(
                (1 - w) * np.take(x, low, axis) + w * np.take(x, high, axis)
            )
        return np.stack(out, axis=axis)

    return resize_axis(resize_axis(image, size, 0), size, 1)


def test_to_classifier_images_resizes_bilinear():
    rng = np.random.default_rng(5)
    images = rng.uniform(-1.0, 1.0, (2, 32, 32, 1))
    out = to_classifier_images(images)
    assert out.shape == (2, 28, 28, 1)
    for image, got in zip(images, out, strict=True):
        expected = (bilinear_reference(image[..., 0], 28) + 1.0) * 127.5
        # One grey level of slack for round-off at rounding boundaries.
        diff = np.abs(got[..., 0].astype(float) - np.round(expected))
        assert diff.max() <= 1.0


@pytest.fixture(scope="module")
def tiny_classifier():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    features = keras.layers.Dense(8, name="features")(flat)
    logits = keras.layers.Dense(10, name="logits")(features)
    return keras.Model(inputs, logits)


def test_features_are_first_dense_outputs(tiny_classifier):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (7, 28, 28, 1), dtype=np.uint8)
    kernel, bias = (
        np.asarray(w, np.float64)
        for w in tiny_classifier.get_layer("features").get_weights()
    )
    expected = np.array(
        [
            [
                sum(p * kernel[i, k] for i, p in enumerate(image.ravel()))
                + bias[k]
                for k in range(8)
            ]
            for image in images.astype(np.float64)
        ]
    )
    # batch_size=3: two full batches and a ragged one.
    got = classifier_features(tiny_classifier, images, batch_size=3)
    assert got.shape == (7, 8) and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-2)
    named = classifier_features(tiny_classifier, images[..., 0], "features")
    np.testing.assert_allclose(named, got, rtol=1e-5, atol=1e-4)


def test_layer_name_selects_that_layers_output(tiny_classifier):
    images = np.random.default_rng(2).integers(0, 256, (4, 28, 28, 1))
    logits = keras.ops.convert_to_numpy(
        tiny_classifier(images.astype("float32"))
    )
    got = classifier_features(tiny_classifier, images, layer_name="logits")
    np.testing.assert_allclose(got, logits, rtol=1e-5, atol=1e-3)


def test_output_dense_of_a_keras_hub_task():
    # A bundled classifier preset: the features are the input of its
    # `output_dense`, so the head maps them to the task's logits.
    import hadamard_zoo

    classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
    images, _ = load_mnist("test")
    images = images[:16, ..., None]
    features = classifier_features(classifier, images, batch_size=8)
    kernel, bias = classifier.output_dense.get_weights()
    assert features.shape == (16, kernel.shape[0])
    logits = keras.ops.convert_to_numpy(
        classifier(classifier.preprocessor(images))
    )
    np.testing.assert_allclose(
        features @ kernel + bias, logits, rtol=1e-4, atol=1e-4
    )


def test_features_and_logits_in_one_pass():
    # A bundled keras-hub task: its preprocessor scales the raw pixels,
    # and both outputs equal what the two separate calls return.
    import hadamard_zoo

    classifier = hadamard_zoo.load_classifier("pinet_ccp_mnist")
    images = load_mnist("test")[0][:11]
    features, logits = classifier_features_and_logits(
        classifier, images, batch_size=4
    )
    assert features.dtype == logits.dtype == np.float32
    np.testing.assert_allclose(
        features, classifier_features(classifier, images), rtol=1e-5, atol=1e-5
    )
    expected = classifier.predict(images[..., None], verbose=0)
    assert logits.shape == (11, 10)
    np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="images"):
        classifier_features_and_logits(classifier, images[:0])


@pytest.fixture(scope="module")
def mnist_images():
    images, _ = load_mnist("test")
    return images[:1200]


def test_real_vs_real_below_real_vs_noise(tiny_classifier, mnist_images):
    real_a, real_b = mnist_images[:600], mnist_images[600:]
    noise = np.random.default_rng(0).integers(0, 256, real_b.shape)
    real_vs_real = classifier_fid(tiny_classifier, real_a, real_b)
    real_vs_noise = classifier_fid(tiny_classifier, real_a, noise)
    assert 0.0 < real_vs_real < real_vs_noise / 10
    floor = real_vs_real_floor(tiny_classifier, mnist_images, seed=3)
    assert 0.0 < floor < real_vs_noise / 10
    assert real_vs_real_floor(
        tiny_classifier, mnist_images, seed=3
    ) == pytest.approx(floor)


def test_generated_images_through_the_conversion(tiny_classifier):
    rng = np.random.default_rng(3)
    real = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    # The same pixels as generator output at 28x28 in [-1, 1]: FID ~ 0.
    same = to_classifier_images(real / 127.5 - 1.0)
    _, sigma = feature_statistics(classifier_features(tiny_classifier, real))
    # Round-off only: float32 on JAX and PyTorch.
    assert classifier_fid(tiny_classifier, real, same) < 1e-5 * np.trace(sigma)
    fake = to_classifier_images(rng.uniform(-1.0, -0.5, (40, 32, 32, 1)))
    assert classifier_fid(tiny_classifier, real, fake) > 1.0


MU, SIGMA = np.zeros(3), np.eye(3)


@pytest.mark.parametrize(
    "args, match",
    [
        ((MU, np.ones((3, 4)), MU, SIGMA), "sigma1"),
        ((MU, SIGMA, MU, np.ones((3, 3, 3))), "sigma2"),
        ((MU, SIGMA, MU, np.eye(4)), "sigma2"),
        ((np.zeros((3, 1)), SIGMA, MU, SIGMA), "mu1"),
        ((MU, SIGMA, np.zeros(4), np.eye(4)), "mu1"),
        ((MU, np.triu(np.ones((3, 3))), MU, SIGMA), "sigma1"),
        ((MU, SIGMA, np.array([0.0, np.nan, 0.0]), SIGMA), "mu2"),
        ((MU, SIGMA, MU, np.full((3, 3), np.inf)), "sigma2"),
        ((MU, SIGMA, MU, np.array([["a"] * 3] * 3)), "sigma2"),
    ],
)
def test_frechet_distance_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(*args)


@pytest.mark.parametrize(
    "features", [np.ones((1, 4)), np.ones(5), np.ones((3, 2, 2))]
)
def test_feature_statistics_bad_inputs(features):
    with pytest.raises(ValueError, match="features"):
        feature_statistics(features)


def test_classifier_bad_inputs(tiny_classifier):
    real = np.zeros((8, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="fake_images"):
        classifier_fid(tiny_classifier, real, real[:1])
    with pytest.raises(ValueError, match="fake_images.*to_classifier_images"):
        classifier_fid(tiny_classifier, real, np.full((8, 28, 28), -0.5))
    with pytest.raises(ValueError, match="real_images"):
        classifier_fid(tiny_classifier, np.zeros((8, 28)), real)
    with pytest.raises(ValueError, match="images"):
        classifier_features(tiny_classifier, real[:0])
    with pytest.raises(ValueError, match="batch_size"):
        classifier_features(tiny_classifier, real, batch_size=0)
    with pytest.raises(ValueError, match="layer_name"):
        classifier_features(tiny_classifier, real, layer_name="pooler")
    with pytest.raises(ValueError, match="images"):
        real_vs_real_floor(tiny_classifier, real[:3])
    with pytest.raises(ValueError, match="seed"):
        real_vs_real_floor(tiny_classifier, real, seed=-1)
    with pytest.raises(ValueError, match="images"):
        to_classifier_images(np.zeros((28, 28)))
    with pytest.raises(ValueError, match="image_size"):
        to_classifier_images(np.zeros((2, 28, 28)), image_size=(28,))


def test_classifier_without_dense_layer():
    inputs = keras.Input((28, 28, 1))
    model = keras.Model(inputs, keras.layers.Flatten()(inputs))
    with pytest.raises(ValueError, match="classifier.*layer_name"):
        classifier_feature_model(model)
    with pytest.raises(ValueError, match="classifier"):
        classifier_feature_model(lambda x: x)
