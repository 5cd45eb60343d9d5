"""The Poly-SA text backbone: NumPy parity, masks, causality, arguments."""

import inspect
import json
import warnings

import keras
import numpy as np
import pytest
from harness import assert_outputs_close
from polysa_references import TEXT_CASES
from polysa_references import golden_text_classifier
from polysa_references import load_text_golden
from polysa_references import text_classifier_reference

from hadamard_zoo.models.polysa_transformer import PolySATextClassifier
from hadamard_zoo.models.polysa_transformer import PolySATransformerBackbone

CASE_IDS = [c.name for c in TEXT_CASES]
TINY = dict(
    vocabulary_size=20,
    num_layers=2,
    hidden_dim=8,
    intermediate_dim=12,
    max_sequence_length=10,
    num_heads=2,
)


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _inputs(token_ids, lengths):
    token_ids = np.asarray(token_ids, "int32")
    mask = np.arange(token_ids.shape[1]) < np.asarray(lengths)[:, None]
    return {"token_ids": token_ids, "padding_mask": mask}


@pytest.mark.parametrize("case", TEXT_CASES, ids=CASE_IDS)
def test_golden(case):
    """Backbone and classifier on the golden weights == the NumPy forward."""
    token_ids, padding_mask, weights, outputs = load_text_golden(case)
    assert_outputs_close(
        list(
            text_classifier_reference(
                token_ids, padding_mask, weights, case.config
            )
        ),
        list(outputs),
        1e-6,
        1e-6,
        "the NumPy reference no longer reproduces the golden file",
    )
    classifier, inputs, _, outputs = golden_text_classifier(case)
    backend = keras.backend.backend()
    assert_outputs_close(
        [_np(classifier.backbone(inputs)), _np(classifier(inputs))],
        list(outputs),
        1e-5,
        1e-5,
        f"{backend} outputs differ from the golden outputs",
    )


@pytest.mark.parametrize("case", TEXT_CASES, ids=CASE_IDS)
def test_config_round_trip(case):
    """get_config names every argument; a JSON round trip rebuilds it."""
    classifier, inputs, _, _ = golden_text_classifier(case)
    backbone = classifier.backbone
    config = backbone.get_config()
    params = inspect.signature(PolySATransformerBackbone.__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self" and p.kind is not p.VAR_KEYWORD
        if name not in config
    ]
    assert not missing, f"get_config() lacks {missing}"
    clone = PolySATransformerBackbone.from_config(
        json.loads(json.dumps(config))
    )
    assert clone.get_config() == config
    clone.set_weights(backbone.get_weights())
    np.testing.assert_array_equal(_np(clone(inputs)), _np(backbone(inputs)))
    task_config = json.loads(
        json.dumps(keras.saving.serialize_keras_object(classifier))
    )
    with warnings.catch_warnings():
        # keras-hub Tasks override compile(): Keras warns that it cannot
        # restore the compile config; nothing here needs it.
        warnings.simplefilter("ignore", UserWarning)
        task_clone = keras.saving.deserialize_keras_object(task_config)
    assert isinstance(task_clone, PolySATextClassifier)
    task_clone.set_weights(classifier.get_weights())
    np.testing.assert_array_equal(
        _np(task_clone(inputs)), _np(classifier(inputs))
    )


@pytest.mark.parametrize("case", TEXT_CASES[:2], ids=CASE_IDS[:2])
def test_mixed_bfloat16(case):
    classifier, inputs, _, outputs = golden_text_classifier(
        case, dtype="mixed_bfloat16"
    )
    for variable in classifier.weights:
        assert variable.dtype == "float32", (variable.path, variable.dtype)
    sequence = classifier.backbone(inputs)
    assert keras.backend.standardize_dtype(sequence.dtype) == "bfloat16"
    sequence = _np(sequence).astype("float32")
    assert np.all(np.isfinite(sequence))
    # The final LN makes the outputs O(1); bfloat16 keeps ~3 digits.
    np.testing.assert_allclose(sequence, outputs[0], atol=0.15, rtol=0)


@pytest.mark.parametrize("mixer", ["poly_sa", "attention"])
@pytest.mark.parametrize("causal", [False, True])
def test_padding_does_not_reach_valid_tokens(mixer, causal):
    """Other ids (and huge embeddings) at padded tokens: same valid outputs."""
    backbone = PolySATransformerBackbone(mixer=mixer, causal=causal, **TINY)
    rng = np.random.default_rng(0)
    lengths = [7, 3, 5]
    token_ids = rng.integers(1, 20, (3, 7))
    valid = _inputs(token_ids, lengths)["padding_mask"]
    other = np.where(valid, token_ids, rng.integers(1, 20, (3, 7)))
    assert np.any(other != token_ids)
    first = _np(backbone(_inputs(token_ids, lengths)))
    second = _np(backbone(_inputs(other, lengths)))
    np.testing.assert_allclose(second[valid], first[valid], atol=1e-6)
    # Padded outputs do change: the test would pass vacuously otherwise.
    assert not np.allclose(second[~valid], first[~valid])


@pytest.mark.parametrize("mixer", ["poly_sa", "attention"])
def test_causal_future_does_not_reach_the_past(mixer):
    rng = np.random.default_rng(1)
    token_ids = rng.integers(1, 20, (2, 8))
    changed = token_ids.copy()
    changed[:, 5:] = (changed[:, 5:] + 1) % 20
    lengths = [8, 8]
    for causal in (True, False):
        backbone = PolySATransformerBackbone(mixer=mixer, causal=causal, **TINY)
        # Poly-SA starts with β = 0 (the identity); give it a real mixer.
        for v in backbone.weights:
            if v.path.endswith("mixer/beta"):
                v.assign(0.7)
        first = _np(backbone(_inputs(token_ids, lengths)))
        second = _np(backbone(_inputs(changed, lengths)))
        past_equal = np.allclose(first[:, :5], second[:, :5], atol=1e-6)
        assert past_equal == causal, (causal, mixer)


def test_one_flag_apart_parameter_counts():
    """Only the mixer's weights differ between the two backbones.

    Per block, Poly-SA has W_1, W_2, W_3 (d x d) and the scalars α, β:
    3 d² + 2 = 194 for d = 8; attention has Q, K, V and the output map
    with biases: 4 d² + 4 d = 288. Shared: embeddings (20 + 10) d = 240,
    per block two LNs 4 d = 32 and SwiGLU + output 2 (8·12 + 12) + 12·8
    + 8 = 320, the final LN 2 d = 16.
    """
    poly = PolySATransformerBackbone(mixer="poly_sa", **TINY)
    attention = PolySATransformerBackbone(mixer="attention", **TINY)
    assert poly.count_params() == 240 + 2 * (32 + 320 + 194) + 16 == 1348
    assert attention.count_params() == 240 + 2 * (32 + 320 + 288) + 16
    assert attention.count_params() == 1536

    def shared(model):
        return {
            v.path: tuple(v.shape)
            for v in model.weights
            if "/mixer/" not in v.path
        }

    assert shared(poly) == shared(attention)
    one_flag = poly.get_config() | {"mixer": "attention"}
    assert one_flag | {"name": None} == attention.get_config() | {"name": None}


def test_inputs_outputs_and_defaults():
    backbone = PolySATransformerBackbone(
        vocabulary_size=30, num_layers=1, hidden_dim=8, intermediate_dim=16
    )
    assert sorted(backbone.input) == ["padding_mask", "token_ids"]
    assert tuple(backbone.output.shape) == (None, None, 8)
    config = backbone.get_config()
    assert config["max_sequence_length"] == 512
    assert config["mixer"] == "poly_sa"
    assert (config["num_heads"], config["causal"]) == (4, False)
    assert (config["dropout"], config["layer_norm_epsilon"]) == (0.0, 1e-5)
    # int and bool padding masks are the same mask.
    inputs = _inputs(np.ones((2, 6)), [6, 2])
    as_int = dict(inputs, padding_mask=inputs["padding_mask"].astype("int32"))
    np.testing.assert_array_equal(_np(backbone(inputs)), _np(backbone(as_int)))
    assert backbone.token_embedding.input_dim == 30


def test_sequence_longer_than_position_embedding():
    backbone = PolySATransformerBackbone(**TINY)
    backbone(_inputs(np.ones((1, 10)), [10]))  # exactly max: fine
    with pytest.raises(ValueError, match="longer than the position embedding"):
        backbone(_inputs(np.ones((1, 11)), [11]))
    with pytest.raises(ValueError, match="max_sequence_length=10"):
        backbone.predict(_inputs(np.ones((2, 12)), [12, 3]), verbose=0)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vocabulary_size=0), "vocabulary_size"),
        (dict(num_layers=0), "num_layers"),
        (dict(num_layers=1.0), "num_layers"),
        (dict(hidden_dim=-8), "hidden_dim"),
        (dict(intermediate_dim=0), "intermediate_dim"),
        (dict(max_sequence_length=0), "max_sequence_length"),
        (dict(mixer="linear"), "mixer"),
        (dict(num_heads=0), "num_heads"),
        (dict(mixer="attention", num_heads=3), "divisible by `num_heads`"),
        (dict(causal=1), "causal"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=-0.1), "dropout"),
        (dict(layer_norm_epsilon=0.0), "layer_norm_epsilon"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PolySATransformerBackbone(**{**TINY, **kwargs})


def test_poly_sa_ignores_num_heads():
    """`num_heads` is only checked against `hidden_dim` for attention."""
    backbone = PolySATransformerBackbone(**{**TINY, "num_heads": 3})
    assert backbone.num_heads == 3
