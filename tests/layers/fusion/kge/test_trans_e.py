import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.kge.trans_e import TransE


def trans_e_reference(inputs, weights, gamma, norm=1):
    """gamma - ||h + r - t||_p."""
    head, relation, tail = (x.astype("float64") for x in inputs)
    distance = np.linalg.norm(head + relation - tail, ord=norm, axis=-1)
    return gamma - distance


def case(name, kwargs, shapes):
    return LayerCase(
        name=name,
        layer_cls=TransE,
        init_kwargs=kwargs,
        input_shapes=shapes,
        reference=lambda x, w: trans_e_reference(x, w, **kwargs),
    )


CASES = [
    case("trans_e_single_l1", dict(gamma=6.0), [(4, 1, 5)] * 3),
    case(
        "trans_e_head_batch_l2",
        dict(gamma=3.0, norm=2),
        [(3, 6, 5), (3, 1, 5), (3, 1, 5)],
    ),
    case(
        "trans_e_tail_batch_l1",
        dict(gamma=12.0, norm=1),
        [(3, 1, 4), (3, 1, 4), (3, 6, 4)],
    ),
    case("trans_e_rank2_l2", dict(gamma=1.5, norm=2), [(4, 6)] * 3),
]

# TransE has no weights: the training check, which trains the layer alone
# and requires the loss to fall, has nothing to train. Gradients to the
# three inputs are checked by test_gradients_reach_every_input instead.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _uniform(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("f4")


@pytest.mark.parametrize("norm, distance", [(1, 7.0), (2, 5.0)])
def test_norm_orders(norm, distance):
    layer = TransE(gamma=10.0, norm=norm)
    head = np.array([[1.0, 1.0]], "float32")
    relation = np.array([[3.0, -4.0]], "float32")
    tail = np.array([[1.0, 1.0]], "float32")
    scores = _numpy(layer([head, relation, tail]))
    np.testing.assert_allclose(scores, [10.0 - distance])


def test_exact_translation_scores_gamma():
    layer = TransE(gamma=4.0, norm=2)
    head, relation = _uniform((3, 1, 6), 0), _uniform((3, 1, 6), 1)
    others = _uniform((3, 2, 6), 2)
    tails = np.concatenate([head + relation, others], axis=1)
    scores = _numpy(layer([head, relation, tails]))
    np.testing.assert_allclose(scores[:, 0], 4.0, atol=1e-6)
    assert np.all(scores[:, 1:] < 4.0)


@pytest.mark.parametrize("norm", [1, 2])
def test_head_batch_form_agrees_with_translating_every_head(norm):
    layer = TransE(gamma=2.0, norm=norm)
    heads = _uniform((3, 5, 4), 3)
    relation, tail = _uniform((3, 1, 4), 4), _uniform((3, 1, 4), 5)
    # (B, K) heads against one tail: the reference's h + (r - t).
    grouped = _numpy(layer([heads, relation, tail]))
    broadcast = [np.broadcast_to(x, (3, 5, 4)) for x in (relation, tail)]
    direct = _numpy(layer([heads, *broadcast]))
    np.testing.assert_allclose(grouped, direct, rtol=1e-6, atol=1e-6)


NAMES = ("head", "relation", "tail")


def _embedded_model(layer, width, candidate, initializer):
    """Three Embedding tables feed [head, relation, tail] of `layer`."""
    lengths = [4 if name == candidate else 1 for name in NAMES]
    inputs = [keras.Input((n,), dtype="int32") for n in lengths]
    tables = [
        keras.layers.Embedding(5, width, embeddings_initializer=initializer)
        for _ in NAMES
    ]
    scores = layer([table(x) for table, x in zip(tables, inputs, strict=True)])
    rng = np.random.default_rng(0)
    indices = [rng.integers(0, 5, (6, n)) for n in lengths]
    model = keras.Model(inputs, scores)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model, tables, indices


@pytest.mark.parametrize("norm", [1, 2])
@pytest.mark.parametrize("candidate", ["head", "tail"])
def test_gradients_reach_every_input(candidate, norm):
    layer = TransE(gamma=2.0, norm=norm)
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=1)
    model, tables, x = _embedded_model(layer, 4, candidate, init)
    y = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    before = [_numpy(t.embeddings).copy() for t in tables]
    first = model.evaluate(x, y, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, y)
    assert model.evaluate(x, y, verbose=0) < first
    for name, table, old in zip(NAMES, tables, before, strict=True):
        assert not np.array_equal(old, _numpy(table.embeddings)), name


def test_zero_distance_keeps_gradients_finite():
    # All-zero embeddings put ||h + r - t||_2 at 0, where the slope of the
    # square root is infinite.
    layer = TransE(gamma=2.0, norm=2)
    model, tables, x = _embedded_model(layer, 4, "tail", "zeros")
    model.train_on_batch(x, np.ones((6, 4), "float32"))
    for table in tables:
        assert np.all(np.isfinite(_numpy(table.embeddings)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gamma=0.0), "gamma"),
        (dict(gamma=-2.0), "gamma"),
        (dict(gamma="12"), "gamma"),
        (dict(gamma=None), "gamma"),
        (dict(gamma=12.0, norm=3), "norm"),
        (dict(gamma=12.0, norm=0), "norm"),
        (dict(gamma=12.0, norm=True), "norm"),
        (dict(gamma=12.0, norm=2.0), "norm"),
        (dict(gamma=12.0, norm="l2"), "norm"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransE(**kwargs)


@pytest.mark.parametrize(
    "shapes, match",
    [
        ([(2, 1, 4), (2, 1, 4), (2, 1, 5)], "same width"),
        ([(2, 1, 4), (2, 1, 3), (2, 1, 4)], "same width"),
        ([(2, 4), (2, 1, 4), (2, 1, 4)], "same rank"),
        ([(4,), (4,), (4,)], "same rank"),
        ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], "broadcast"),
        ([(2, 4), (2, 4)], "list of 3 tensors"),
    ],
)
def test_inconsistent_inputs_rejected(shapes, match):
    inputs = [np.zeros(shape, "float32") for shape in shapes]
    with pytest.raises(ValueError, match=match):
        TransE(gamma=1.0)(inputs)


def test_single_tensor_rejected():
    with pytest.raises(ValueError, match="list of 3 tensors"):
        TransE(gamma=1.0)(np.zeros((2, 4), "float32"))
