import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.kge.compl_ex import ComplEx
from hadamard_zoo.layers.fusion.kge.dist_mult import DistMult


def complex_parts(x):
    d = x.shape[-1] // 2
    return x[..., :d] + 1j * x[..., d:]


def compl_ex_reference(inputs, weights):
    """Re(sum_k h_k r_k conj(t_k)) in complex numbers."""
    h, r, t = (complex_parts(x.astype("float64")) for x in inputs)
    return np.real(np.sum(h * r * np.conj(t), axis=-1))


def case(name, shapes):
    return LayerCase(
        name=name,
        layer_cls=ComplEx,
        init_kwargs={},
        input_shapes=shapes,
        reference=compl_ex_reference,
    )


CASES = [
    case("compl_ex_single", [(4, 1, 6)] * 3),
    case("compl_ex_head_batch", [(3, 5, 8), (3, 1, 8), (3, 1, 8)]),
    case("compl_ex_tail_batch", [(3, 1, 4), (3, 1, 4), (3, 6, 4)]),
    case("compl_ex_rank2", [(4, 10)] * 3),
]

# ComplEx has no weights: the training check, which trains the layer
# alone and requires the loss to fall, has nothing to train. Gradients to
# the three inputs are checked by test_gradients_reach_every_input instead.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _uniform(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("f4")


def _real_part_only(x):
    d = x.shape[-1] // 2
    return np.concatenate([x[..., :d], np.zeros_like(x[..., d:])], axis=-1)


def test_real_relation_is_symmetric_imaginary_antisymmetric():
    layer = ComplEx()
    head, relation, tail = (_uniform((3, 1, 8), s) for s in range(3))
    real = _real_part_only(relation)
    imaginary = relation - real
    for rel, sign in ((real, 1.0), (imaginary, -1.0)):
        forward = _numpy(layer([head, rel, tail]))
        backward = _numpy(layer([tail, rel, head]))
        np.testing.assert_allclose(backward, sign * forward, atol=1e-6)
    # A general relation mixes both, so the order of h and t matters.
    assert not np.allclose(
        _numpy(layer([head, relation, tail])),
        _numpy(layer([tail, relation, head])),
    )


def test_real_embeddings_reduce_to_dist_mult():
    head, relation, tail = (
        _real_part_only(_uniform((3, 2, 8), s)) for s in range(3)
    )
    real = [x[..., :4] for x in (head, relation, tail)]
    np.testing.assert_allclose(
        _numpy(ComplEx()([head, relation, tail])),
        _numpy(DistMult()(real)),
        rtol=1e-6,
        atol=1e-6,
    )


def test_head_batch_form_agrees_with_multiplying_every_head():
    layer = ComplEx()
    heads = _uniform((3, 5, 6), 3)
    relation, tail = _uniform((3, 1, 6), 4), _uniform((3, 1, 6), 5)
    # (B, K) heads against one tail: Re(h conj(conj(r) t)), the reference's.
    grouped = _numpy(layer([heads, relation, tail]))
    broadcast = [np.broadcast_to(x, (3, 5, 6)) for x in (relation, tail)]
    direct = _numpy(layer([heads, *broadcast]))
    np.testing.assert_allclose(grouped, direct, rtol=1e-5, atol=1e-6)
    expected = compl_ex_reference([heads, relation, tail], {})
    np.testing.assert_allclose(grouped, expected, rtol=1e-5, atol=1e-6)


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


@pytest.mark.parametrize("candidate", ["head", "tail"])
def test_gradients_reach_every_input(candidate):
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=1)
    model, tables, x = _embedded_model(ComplEx(), 6, candidate, init)
    y = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    before = [_numpy(t.embeddings).copy() for t in tables]
    first = model.evaluate(x, y, verbose=0)
    for _ in range(3):
        model.train_on_batch(x, y)
    assert model.evaluate(x, y, verbose=0) < first
    for name, table, old in zip(NAMES, tables, before, strict=True):
        assert not np.array_equal(old, _numpy(table.embeddings)), name


@pytest.mark.parametrize(
    "shapes, match",
    [
        ([(2, 1, 5), (2, 1, 5), (2, 1, 5)], "even width"),
        ([(2, 1, 4), (2, 1, 4), (2, 1, 6)], "same even width"),
        ([(2, 1, 4), (2, 1, 2), (2, 1, 4)], "same even width"),
        ([(2, 4), (2, 4), (2, 1, 4)], "same rank"),
        ([(4,), (4,), (4,)], "same rank"),
        ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], "broadcast"),
        ([(2, 4), (2, 4)], "list of 3 tensors"),
    ],
)
def test_inconsistent_inputs_rejected(shapes, match):
    inputs = [np.zeros(shape, "float32") for shape in shapes]
    with pytest.raises(ValueError, match=match):
        ComplEx()(inputs)


def test_single_tensor_rejected():
    with pytest.raises(ValueError, match="list of 3 tensors"):
        ComplEx()(np.zeros((2, 4), "float32"))
