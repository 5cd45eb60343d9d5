import keras
import numpy as np
import pytest
from harness import LayerCase
from harness import layer_tests

from hadamard_zoo.layers.fusion.kge.dist_mult import DistMult


def dist_mult_reference(inputs, weights):
    """sum_k h_k r_k t_k, broadcasting over the leading axes."""
    head, relation, tail = (x.astype("float64") for x in inputs)
    return np.einsum("...k,...k,...k->...", head, relation, tail)


def case(name, shapes):
    return LayerCase(
        name=name,
        layer_cls=DistMult,
        init_kwargs={},
        input_shapes=shapes,
        reference=dist_mult_reference,
    )


CASES = [
    case("dist_mult_single", [(4, 1, 5)] * 3),
    case("dist_mult_head_batch", [(3, 6, 5), (3, 1, 5), (3, 1, 5)]),
    case("dist_mult_tail_batch", [(3, 1, 4), (3, 1, 4), (3, 6, 4)]),
    case("dist_mult_rank2", [(4, 6)] * 3),
]

# DistMult has no weights: the training check, which trains the layer
# alone and requires the loss to fall, has nothing to train. Gradients to
# the three inputs are checked by test_gradients_reach_every_input instead.
test_harness = layer_tests(CASES, skip=("training",))


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


def _uniform(shape, seed):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype("f4")


def test_symmetric_in_head_and_tail():
    layer = DistMult()
    head, relation, tail = (_uniform((3, 1, 5), s) for s in range(3))
    np.testing.assert_allclose(
        _numpy(layer([head, relation, tail])),
        _numpy(layer([tail, relation, head])),
        rtol=1e-6,
        atol=1e-6,
    )


def test_linear_in_each_input():
    layer = DistMult()
    inputs = [_uniform((3, 4, 5), s) for s in range(3)]
    base = _numpy(layer(inputs))
    for position in range(3):
        scaled = list(inputs)
        scaled[position] = -1.5 * inputs[position]
        np.testing.assert_allclose(
            _numpy(layer(scaled)), -1.5 * base, rtol=1e-5, atol=1e-6
        )


def test_head_batch_form_agrees_with_multiplying_every_head():
    layer = DistMult()
    heads = _uniform((3, 5, 4), 3)
    relation, tail = _uniform((3, 1, 4), 4), _uniform((3, 1, 4), 5)
    # (B, K) heads against one tail: the reference's h * (r * t).
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


@pytest.mark.parametrize("candidate", ["head", "tail"])
def test_gradients_reach_every_input(candidate):
    init = keras.initializers.RandomUniform(-1.0, 1.0, seed=1)
    model, tables, x = _embedded_model(DistMult(), 4, candidate, init)
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
        ([(2, 1, 4), (2, 1, 4), (2, 1, 5)], "same width"),
        ([(2, 1, 3), (2, 1, 4), (2, 1, 4)], "same width"),
        ([(2, 4), (2, 4), (2, 1, 4)], "same rank"),
        ([(2, 1, 1, 4)] * 3, "same rank"),
        ([(2, 3, 4), (2, 1, 4), (2, 2, 4)], "broadcast"),
        ([(2, 4), (2, 4)], "list of 3 tensors"),
    ],
)
def test_inconsistent_inputs_rejected(shapes, match):
    inputs = [np.zeros(shape, "float32") for shape in shapes]
    with pytest.raises(ValueError, match=match):
        DistMult()(inputs)


def test_single_tensor_rejected():
    with pytest.raises(ValueError, match="list of 3 tensors"):
        DistMult()(np.zeros((2, 4), "float32"))
