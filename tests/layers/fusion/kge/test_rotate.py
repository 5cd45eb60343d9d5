import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.kge.rotate import RotatE


def complex_parts(x, d):
    return x[..., :d] + 1j * x[..., d:]


def rotate_reference(inputs, weights, gamma, embedding_dim, epsilon=2.0):
    """gamma - sum_k |h_k exp(i phase_k) - t_k| in complex numbers."""
    head, relation, tail = (x.astype("float64") for x in inputs)
    h = complex_parts(head, embedding_dim)
    t = complex_parts(tail, embedding_dim)
    embedding_range = (gamma + epsilon) / embedding_dim
    r = np.exp(1j * relation / (embedding_range / np.pi))
    return gamma - np.sum(np.abs(h * r - t), axis=-1)


def case(name, kwargs, shapes, input_range=(-1.0, 1.0)):
    return LayerCase(
        name=name,
        layer_cls=RotatE,
        init_kwargs=kwargs,
        input_shapes=shapes,
        input_range=input_range,
        reference=lambda x, w: rotate_reference(x, w, **kwargs),
    )


# Each case's gamma, epsilon and input range give phases up to 2.4, 2.7,
# 4.2 and 5.0 radians, so the rotations cover more than a half-turn.
CASES = [
    case(
        "rotate_single",
        dict(gamma=6.0, embedding_dim=3),
        [(4, 1, 6), (4, 1, 3), (4, 1, 6)],
        input_range=(-2.0, 2.0),
    ),
    case(
        "rotate_head_batch",
        dict(gamma=1.0, embedding_dim=4),
        [(3, 5, 8), (3, 1, 4), (3, 1, 8)],
    ),
    case(
        "rotate_tail_batch",
        dict(gamma=12.0, embedding_dim=4),
        [(3, 1, 8), (3, 1, 4), (3, 5, 8)],
        input_range=(-3.0, 3.0),
    ),
    case(
        "rotate_rank2_eps0.5",
        dict(gamma=2.0, embedding_dim=4, epsilon=0.5),
        [(4, 8), (4, 4), (4, 8)],
    ),
]

# RotatE has no weights: the training check, which trains the layer alone
# and requires the loss to fall, has nothing to train. Gradients to the
# three inputs are checked by test_gradients_reach_every_input instead.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _uniform(shape, seed, low=-1.0, high=1.0):
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, shape).astype("float32")


def test_embedding_range():
    layer = RotatE(gamma=24.0, embedding_dim=1000, epsilon=2.0)
    assert layer.embedding_range == pytest.approx(26.0 / 1000)


def test_phase_zero_maps_head_to_itself():
    layer = RotatE(gamma=9.0, embedding_dim=5)
    head = _uniform((3, 1, 10), 0)
    relation = np.zeros((3, 1, 5), "float32")
    others = _uniform((3, 4, 10), 1)
    tails = np.concatenate([head, others], axis=1)
    scores = _numpy(layer([head, relation, tails]))
    np.testing.assert_array_equal(scores[:, 0], 9.0)
    assert np.all(scores[:, 1:] < 9.0)


def test_relation_of_embedding_range_is_a_half_turn():
    # phase = relation / (embedding_range / pi): a relation value of
    # embedding_range rotates by pi, mapping h to -h.
    layer = RotatE(gamma=3.0, embedding_dim=4)
    head = _uniform((2, 8), 2)
    relation = np.full((2, 4), layer.embedding_range, "float32")
    scores = _numpy(layer([head, relation, -head]))
    np.testing.assert_allclose(scores, 3.0, atol=1e-5)
    away = _numpy(layer([head, relation, head]))
    h = complex_parts(head, 4)
    np.testing.assert_allclose(away, 3.0 - 2 * np.abs(h).sum(-1), rtol=1e-5)


@pytest.mark.parametrize("candidate", ["head", "tail"])
def test_rotation_preserves_modulus(candidate):
    # Against zero candidates the distance is the modulus of the rotated
    # entity: sum_k |h_k r_k| = sum_k |h_k|, and |conj(r_k) t_k| = |t_k| in
    # the head-corrupted form, whatever the phases.
    layer = RotatE(gamma=5.0, embedding_dim=6)
    entity = _uniform((4, 1, 12), 3)
    zeros = np.zeros((4, 3, 12), "float32")
    relation = _uniform((4, 1, 6), 4, -10.0, 10.0)
    if candidate == "head":  # the layer rotates the tail
        inputs = [zeros, relation, entity]
    else:  # the layer rotates the head
        inputs = [entity, relation, zeros]
    scores = _numpy(layer(inputs))
    expected = 5.0 - np.abs(complex_parts(entity, 6)).sum(-1)
    np.testing.assert_allclose(
        scores, np.broadcast_to(expected, (4, 3)), rtol=1e-5, atol=1e-5
    )


def test_head_batch_form_agrees_with_rotating_every_head():
    layer = RotatE(gamma=2.0, embedding_dim=4)
    heads = _uniform((3, 5, 8), 5)
    relation = _uniform((3, 1, 4), 6, -3.0, 3.0)
    tail = _uniform((3, 1, 8), 7)
    # (B, K) heads against one tail: the reference's |h - conj(r) t|.
    conj_form = _numpy(layer([heads, relation, tail]))
    # Broadcast by hand, nothing marks the head as corrupted: |h r - t|.
    rotated = _numpy(
        layer(
            [
                heads,
                np.broadcast_to(relation, (3, 5, 4)),
                np.broadcast_to(tail, (3, 5, 8)),
            ]
        )
    )
    np.testing.assert_allclose(conj_form, rotated, rtol=1e-5, atol=1e-5)
    h, t = complex_parts(heads, 4), complex_parts(tail, 4)
    r = np.exp(1j * relation / (layer.embedding_range / np.pi))
    expected = 2.0 - np.abs(h - np.conj(r) * t).sum(-1)
    np.testing.assert_allclose(conj_form, expected, rtol=1e-5, atol=1e-5)


def test_one_layer_scores_every_kind_of_batch():
    # The backbone calls one layer on head-, tail-corrupted and single
    # triples with different numbers of candidates.
    layer = RotatE(gamma=4.0, embedding_dim=2)
    one, rel = np.zeros((3, 1, 4), "float32"), np.zeros((3, 1, 2), "float32")
    assert tuple(layer([np.zeros((3, 7, 4), "f4"), rel, one]).shape) == (3, 7)
    assert tuple(layer([one, rel, np.zeros((3, 5, 4), "f4")]).shape) == (3, 5)
    assert tuple(layer([one, rel, one]).shape) == (3, 1)
    flat = np.zeros((3, 4), "float32")
    assert tuple(layer([flat, np.zeros((3, 2), "f4"), flat]).shape) == (3,)


def test_unknown_number_of_candidates():
    layer = RotatE(gamma=4.0, embedding_dim=2)
    inputs = [keras.Input((1, 4)), keras.Input((1, 2)), keras.Input((None, 4))]
    assert tuple(layer(inputs).shape) == (None, None)
    shapes = [(None, None, 4), (None, 1, 2), (None, 1, 4)]
    assert layer.compute_output_shape(shapes) == (None, None)


NAMES = ("head", "relation", "tail")


def _embedded_model(layer, widths, candidate, initializer):
    """Three Embedding tables feed [head, relation, tail] of `layer`."""
    lengths = [4 if name == candidate else 1 for name in NAMES]
    inputs = [keras.Input((n,), dtype="int32") for n in lengths]
    tables = [
        keras.layers.Embedding(5, width, embeddings_initializer=initializer)
        for width in widths
    ]
    scores = layer([table(x) for table, x in zip(tables, inputs, strict=True)])
    rng = np.random.default_rng(0)
    indices = [rng.integers(0, 5, (6, n)) for n in lengths]
    model = keras.Model(inputs, scores)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    return model, tables, indices


@pytest.mark.parametrize("candidate", ["head", "tail"])
def test_gradients_reach_every_input(candidate):
    layer = RotatE(gamma=2.0, embedding_dim=3)
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=1)
    model, tables, x = _embedded_model(layer, (6, 3, 6), candidate, init)
    y = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    before = [_numpy(t.embeddings).copy() for t in tables]
    first = model.evaluate(x, y, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, y)
    assert model.evaluate(x, y, verbose=0) < first
    for name, table, old in zip(NAMES, tables, before, strict=True):
        assert not np.array_equal(old, _numpy(table.embeddings)), name


def test_zero_distance_keeps_gradients_finite():
    # All-zero embeddings put every |h_k r_k - t_k| at 0, where the slope
    # of the square root is infinite.
    layer = RotatE(gamma=2.0, embedding_dim=3)
    model, tables, x = _embedded_model(layer, (6, 3, 6), "tail", "zeros")
    model.train_on_batch(x, np.ones((6, 4), "float32"))
    for table in tables:
        assert np.all(np.isfinite(_numpy(table.embeddings)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(gamma=0.0, embedding_dim=4), "gamma"),
        (dict(gamma=-1.0, embedding_dim=4), "gamma"),
        (dict(gamma="12", embedding_dim=4), "gamma"),
        (dict(gamma=True, embedding_dim=4), "gamma"),
        (dict(gamma=float("inf"), embedding_dim=4), "gamma"),
        (dict(gamma=12.0, embedding_dim=0), "embedding_dim"),
        (dict(gamma=12.0, embedding_dim=2.5), "embedding_dim"),
        (dict(gamma=12.0, embedding_dim=True), "embedding_dim"),
        (dict(gamma=12.0, embedding_dim=4, epsilon=-1.0), "epsilon"),
        (dict(gamma=12.0, embedding_dim=4, epsilon="2"), "epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RotatE(**kwargs)


def test_integer_arguments_become_floats():
    layer = RotatE(gamma=12, embedding_dim=4, epsilon=2)
    assert layer.get_config()["gamma"] == 12.0
    assert isinstance(layer.get_config()["gamma"], float)


@pytest.mark.parametrize(
    "shapes, match",
    [
        ([(2, 1, 8), (2, 1, 4), (2, 1, 6)], "same width"),
        ([(2, 1, 8), (2, 1, 8), (2, 1, 8)], r"2 \* embedding_dim=8"),
        ([(2, 1, 7), (2, 1, 4), (2, 1, 7)], r"2 \* embedding_dim=8"),
        ([(2, 1, 6), (2, 1, 3), (2, 1, 6)], "embedding_dim=4"),
        ([(2, 1, 8), (2, 4), (2, 1, 8)], "same rank"),
        ([(2, 8), (2, 4), (2, 5, 8)], "same rank"),
        ([(8,), (4,), (8,)], "same rank"),
        ([(2, 1, 1, 8), (2, 1, 1, 4), (2, 1, 1, 8)], "same rank"),
        ([(2, 3, 8), (2, 1, 4), (2, 5, 8)], "broadcast"),
        ([(2, 1, 8), (3, 1, 4), (2, 1, 8)], "broadcast"),
        ([(2, 1, 8), (2, 1, 4)], "list of 3 tensors"),
    ],
)
def test_inconsistent_inputs_rejected(shapes, match):
    inputs = [np.zeros(shape, "float32") for shape in shapes]
    with pytest.raises(ValueError, match=match):
        RotatE(gamma=12.0, embedding_dim=4)(inputs)


def test_single_tensor_rejected():
    with pytest.raises(ValueError, match="list of 3 tensors"):
        RotatE(gamma=12.0, embedding_dim=4)(np.zeros((2, 8), "float32"))


def test_wrong_width_after_build_rejected():
    layer = RotatE(gamma=12.0, embedding_dim=4)
    layer(
        [np.zeros((2, 8), "f4"), np.zeros((2, 4), "f4"), np.zeros((2, 8), "f4")]
    )
    with pytest.raises(ValueError, match="embedding_dim"):
        layer(
            [
                np.zeros((2, 6), "f4"),
                np.zeros((2, 3), "f4"),
                np.zeros((2, 6), "f4"),
            ]
        )


def test_undefined_embedding_axis_rejected():
    inputs = [keras.Input((1, 8)), keras.Input((1, None)), keras.Input((1, 8))]
    with pytest.raises(ValueError, match="defined"):
        RotatE(gamma=12.0, embedding_dim=4)(inputs)
