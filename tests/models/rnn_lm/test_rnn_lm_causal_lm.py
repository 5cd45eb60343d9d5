"""The recurrent causal LM: framing, cached steps, greedy decoding, scores."""

import warnings

import keras
import keras_hub
import numpy as np
import pytest
from rnn_lm_references import CELLS
from rnn_lm_references import assign_weights
from rnn_lm_references import draw_weights
from rnn_lm_references import golden_backbone
from rnn_lm_references import log_softmax
from rnn_lm_references import logits_of
from rnn_lm_references import make_backbone
from rnn_lm_references import to_numpy

import hadamard_zoo  # noqa: F401  (registers the classes with keras-hub)
from hadamard_zoo.models.rnn_lm import RNNLMBackbone
from hadamard_zoo.models.rnn_lm import RNNLMCausalLM
from hadamard_zoo.models.rnn_lm import RNNLMCausalLMPreprocessor
from hadamard_zoo.models.rnn_lm import RNNLMTokenizer

# Twelve words: the vocabulary size of the golden backbones.
WORDS = [
    "<unk>",
    "<eos>",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    "a",
    "dog",
    "ran",
    "n't",
    ".",
]
EOS, UNK = 1, 0
PROMPTS = ["the cat", "a dog ran on the", "", "mat"]
# Weights (uniform ±1.5, seeded NumPy) under which greedy decoding of
# PROMPTS is varied: some continuations stop at <eos> at once, some after
# a few words, some run to max_length (checked in the test).
GREEDY_SEEDS = {"lstm": 31, "hgrn": 4}


def _ids(words):
    return [WORDS.index(w) for w in words.split()]


def _preprocessor(sequence_length=8):
    return RNNLMCausalLMPreprocessor(
        RNNLMTokenizer(WORDS), sequence_length=sequence_length
    )


def _lm(backbone, sequence_length=8):
    lm = RNNLMCausalLM(backbone, preprocessor=_preprocessor(sequence_length))
    lm.compile(sampler="greedy")
    return lm


def _seeded_lm(cell, seed=None, sequence_length=8):
    seed = GREEDY_SEEDS[cell] if seed is None else seed
    backbone = make_backbone(cell)
    assign_weights(
        backbone, draw_weights(backbone, np.random.default_rng(seed), 1.5)
    )
    return _lm(backbone, sequence_length)


# ------------------------------------------------------------ preprocessor


def test_preprocessor_frames_next_word_examples():
    preprocessor = _preprocessor(sequence_length=7)
    x, y, weights = preprocessor(["the cat sat", "The DOG ran on a mat ."])
    token_ids = to_numpy(x["token_ids"])
    mask = to_numpy(x["padding_mask"])
    first = [EOS, *_ids("the cat sat"), EOS, UNK, UNK]
    np.testing.assert_array_equal(token_ids[0], first)
    np.testing.assert_array_equal(mask[0], [1, 1, 1, 1, 1, 0, 0])
    # y is x shifted by one: position t predicts token t + 1.
    np.testing.assert_array_equal(to_numpy(y)[0], first[1:] + [UNK])
    np.testing.assert_array_equal(to_numpy(weights)[0], [1, 1, 1, 1, 0, 0, 0])
    # A text longer than sequence_length is cut (lower-cased first); the
    # <eos> it starts with stays, so does the closing <eos> in y.
    second = [EOS, *_ids("the dog ran on a mat")]
    np.testing.assert_array_equal(token_ids[1], second)
    np.testing.assert_array_equal(to_numpy(y)[1], second[1:] + [EOS])
    assert to_numpy(weights)[1].all() and mask[1].all()
    # The override of the call.
    x, y, _ = preprocessor(["the cat sat"], sequence_length=3)
    np.testing.assert_array_equal(to_numpy(x["token_ids"]), [[EOS, 2, 3]])


def test_generate_preprocess_has_no_end_token():
    preprocessor = _preprocessor(sequence_length=6)
    x = preprocessor.generate_preprocess(["the cat", ""])
    np.testing.assert_array_equal(
        to_numpy(x["token_ids"]), [[EOS, 2, 3, 0, 0, 0], [EOS, 0, 0, 0, 0, 0]]
    )
    np.testing.assert_array_equal(
        to_numpy(x["padding_mask"]),
        [[1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0]],
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sequence_length=0), "sequence_length"),
        (dict(add_start_token=1), "add_start_token"),
        (dict(add_end_token="yes"), "add_end_token"),
    ],
)
def test_preprocessor_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RNNLMCausalLMPreprocessor(RNNLMTokenizer(WORDS), **kwargs)


# ------------------------------------------------------- cached decoding


@pytest.mark.parametrize("cell", CELLS)
def test_call_with_cache_steps_equal_the_full_forward(cell):
    backbone, _, _, _ = golden_backbone(cell)
    lm = RNNLMCausalLM(backbone)
    token_ids = np.random.default_rng(5).integers(0, 12, (2, 5))
    full = to_numpy(
        backbone(
            {
                "token_ids": token_ids.astype("int32"),
                "padding_mask": np.ones((2, 5), "int32"),
            }
        )
    )
    cache = lm.initial_cache(2)
    # One state per layer, two (h and c) for the LSTM.
    assert len(cache) == (4 if cell == "lstm" else 2)
    steps = []
    for t in range(5):
        step = token_ids[:, t : t + 1].astype("int32")
        logits, hidden, cache = lm.call_with_cache(step, cache)
        assert tuple(logits.shape) == (2, 1, 12)
        assert tuple(hidden.shape) == (2, 1, 6)
        steps.append(to_numpy(logits))
    np.testing.assert_allclose(
        np.concatenate(steps, axis=1), full, atol=1e-5, rtol=1e-5
    )


def _hand_greedy(backbone, prompts, max_length):
    """Greedy decoding from the backbone's full-sequence logits.

    Every step re-reads each whole sequence (right padded to max_length)
    and appends the argmax at its last real token, up to max_length
    tokens, <eos> start included; no stop token.
    """
    sequences = [[EOS, *_ids(p)] for p in prompts]
    while min(len(ids) for ids in sequences) < max_length:
        token_ids = np.zeros((len(prompts), max_length), "int32")
        mask = np.zeros((len(prompts), max_length), "int32")
        for row, ids in enumerate(sequences):
            token_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        logits = logits_of(
            backbone, {"token_ids": token_ids, "padding_mask": mask}
        )
        for row, ids in enumerate(sequences):
            if len(ids) < max_length:
                ids.append(int(np.argmax(logits[row, len(ids) - 1])))
    return sequences


def _text(ids):
    return " ".join(WORDS[i] for i in ids if i != EOS)


@pytest.mark.parametrize("cell", sorted(GREEDY_SEEDS))
def test_greedy_generate_equals_the_hand_loop(cell):
    max_length = 9
    lm = _seeded_lm(cell)
    unstopped = _hand_greedy(lm.backbone, PROMPTS, max_length)
    generated = []  # each continuation up to and including its <eos>
    for sequence, prompt in zip(unstopped, PROMPTS, strict=True):
        words = sequence[len(_ids(prompt)) + 1 :]
        generated.append(
            words[: words.index(EOS) + 1 if EOS in words else None]
        )
    # Not vacuous: some stop at <eos>, one after words of its own.
    assert any(g[-1] == EOS for g in generated), generated
    assert any(g[-1] == EOS and len(g) > 1 for g in generated), generated
    outputs = lm.generate(PROMPTS, max_length=max_length)
    expected = [
        f"{p} {_text(g)}".strip()
        for p, g in zip(PROMPTS, generated, strict=True)
    ]
    assert outputs == expected
    stripped = lm.generate(PROMPTS, max_length=max_length, strip_prompt=True)
    assert stripped == [_text(g) for g in generated]
    # Without stop tokens every sequence runs to max_length (the <eos>
    # tokens it meets are dropped from the text, being special).
    no_stop = lm.generate(PROMPTS, max_length=max_length, stop_token_ids=None)
    assert no_stop == [_text(s) for s in unstopped]
    assert no_stop != outputs
    # The empty prompt (only the start token) generates on its own too,
    # and a prompt alone gives what it gave in the mixed batch.
    alone = lm.generate("", max_length=max_length)
    assert isinstance(alone, str) and alone == outputs[2]
    assert lm.generate(PROMPTS[1], max_length=max_length) == outputs[1]


def test_generate_from_token_ids_without_preprocessor():
    lm = _seeded_lm("hgrn")
    lm.preprocessor = None
    (sequence,) = _hand_greedy(lm.backbone, ["mat"], 6)
    prompt = {
        "token_ids": np.array([[EOS, WORDS.index("mat"), 0, 0, 0, 0]]),
        "padding_mask": np.array([[1, 1, 0, 0, 0, 0]], bool),
    }
    outputs = lm.generate(prompt, stop_token_ids=None)
    np.testing.assert_array_equal(to_numpy(outputs["token_ids"])[0], sequence)
    assert to_numpy(outputs["padding_mask"]).all()
    with pytest.raises(ValueError, match="preprocessor"):
        lm.generate(prompt)  # stop_token_ids="auto" needs the tokenizer


# ------------------------------------------------------------- perplexity


def test_perplexity_equals_numpy():
    lm = _seeded_lm("hgrn", seed=0, sequence_length=6)
    texts = ["the cat sat", "a", "the dog ran on the mat . a cat", ""]
    # <eos> words <eos>; a long text keeps its first sequence_length - 1
    # words and still ends in <eos> (keras-hub's start/end packing).
    framed = [[EOS, *_ids(t)[:5], EOS] for t in texts]
    token_ids = np.zeros((4, 6), "int32")
    mask = np.zeros((4, 6), "int32")
    for row, ids in enumerate(framed):
        token_ids[row, : len(ids) - 1] = ids[:-1]
        mask[row, : len(ids) - 1] = 1
    logits = to_numpy(
        lm.backbone({"token_ids": token_ids, "padding_mask": mask})
    )
    expected = []
    for row, ids in enumerate(framed):
        steps = np.arange(len(ids) - 1)
        log_p = log_softmax(logits[row])[steps, ids[1:]]
        expected.append(np.exp(-np.mean(log_p)))
    # batch_size=3: two batches, the second of one text.
    perplexity = lm.perplexity(texts, batch_size=3)
    assert perplexity.shape == (4,) and perplexity.dtype == np.float64
    np.testing.assert_allclose(perplexity, expected, rtol=1e-5)
    np.testing.assert_allclose(lm.perplexity(texts[3]), expected[3:], 1e-5)
    assert lm.perplexity([]).shape == (0,)


def test_perplexity_without_preprocessor_raises():
    lm = RNNLMCausalLM(make_backbone("lstm"))
    with pytest.raises(ValueError, match="preprocessor"):
        lm.perplexity(["the cat"])


# ------------------------------------------------ presets and training


def test_preset_round_trip(tmp_path):
    lm = _seeded_lm("lstm")
    preset = str(tmp_path / "preset")
    lm.save_to_preset(preset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loaded = keras_hub.models.CausalLM.from_preset(preset)
    assert type(loaded) is RNNLMCausalLM
    assert type(loaded.backbone) is RNNLMBackbone
    assert type(loaded.preprocessor) is RNNLMCausalLMPreprocessor
    assert loaded.preprocessor.sequence_length == 8
    assert loaded.preprocessor.tokenizer.get_vocabulary() == WORDS
    assert loaded.backbone.get_config() == lm.backbone.get_config()
    x, _, _ = lm.preprocessor(PROMPTS)
    np.testing.assert_array_equal(
        to_numpy(loaded.backbone(x)), to_numpy(lm.backbone(x))
    )
    loaded.compile(sampler="greedy")
    assert loaded.generate(PROMPTS) == lm.generate(PROMPTS)
    backbone = keras_hub.models.Backbone.from_preset(preset)
    assert type(backbone) is RNNLMBackbone


def _mean_loss(lm, texts):
    """The mean next-word cross-entropy over the real (weighted) targets."""
    x, y, weights = lm.preprocessor(texts)
    log_p = log_softmax(to_numpy(lm.backbone(x)))
    nll = -np.take_along_axis(log_p, to_numpy(y)[..., None], -1)[..., 0]
    weights = to_numpy(weights).astype("float64")
    return float((nll * weights).sum() / weights.sum())


def test_fit_on_raw_strings_lowers_the_loss():
    texts = ["the cat sat on the mat .", "a dog ran .", "the dog sat ."]
    keras.utils.set_random_seed(0)
    lm = RNNLMCausalLM(make_backbone("lstm"), preprocessor=_preprocessor())
    lm.compile(optimizer=keras.optimizers.Adam(0.1))
    before = _mean_loss(lm, texts)
    # Two fits: every tf.data pipeline reuses the tokenizer's lookup.
    for _ in range(2):
        history = lm.fit(texts, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
    after = _mean_loss(lm, texts)
    assert after < 0.95 * before, (before, after)
