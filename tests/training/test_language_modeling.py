"""Zaremba-style language-model training: windows, loss, schedule, eval."""

import math

import keras
import numpy as np
import pytest

from hadamard_zoo.models.rnn_lm import RNNLMBackbone
from hadamard_zoo.training import RECIPES
from hadamard_zoo.training import language_modeling as lm
from hadamard_zoo.training.recipes import LanguageModelRecipe


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_windows_continue_each_row():
    ids = np.arange(103)
    windows = lm.StreamWindows(ids, batch_size=4, num_steps=5)
    # 103 // 4 = 25 tokens a row (3 dropped); (25 - 1) // 5 = 4 windows.
    assert len(windows) == 4
    (x0, y0), (x1, _) = windows[0], windows[1]
    x0, x1 = x0["token_ids"], x1["token_ids"]
    np.testing.assert_array_equal(x0[:, 0], [0, 25, 50, 75])
    np.testing.assert_array_equal(y0, x0 + 1)  # targets: the next token
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # row goes on
    with pytest.raises(IndexError):
        windows[4]


def test_windows_reject_a_stream_too_short():
    with pytest.raises(ValueError, match="too short"):
        lm.StreamWindows(np.arange(20), batch_size=4, num_steps=5)


def test_window_loss_is_the_sum_over_positions():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 7, 11)).astype("float32")
    targets = rng.integers(0, 11, (3, 7))
    loss = _np(lm.window_loss(targets, logits))
    nll = -np.take_along_axis(_log_softmax(logits), targets[..., None], -1)
    np.testing.assert_allclose(loss, nll[..., 0].sum(-1), rtol=1e-5)


def test_zaremba_schedule():
    recipe = RECIPES["lstm_ptb_small"]
    rates = [recipe.learning_rate_at(e) for e in range(recipe.epochs)]
    assert rates[:4] == [1.0] * 4
    assert rates[4:] == [0.5**k for k in range(1, 10)]


def test_small_recipes_share_one_budget():
    names = ["lstm_ptb_small", "gru_ptb_small", "mgu_ptb_small"]
    names.append("hgrn_ptb_small")
    recipes = [RECIPES[n].to_dict() for n in names]
    cells = [r["backbone"].pop("cell") for r in recipes]
    assert cells == ["lstm", "gru", "mgu", "hgrn"]
    # Only the initial rate differs: Zaremba's 1.0 diverged for the MGU.
    rates = [r.pop("learning_rate") for r in recipes]
    assert rates == [1.0, 1.0, 0.5, 0.5]
    for recipe in recipes:
        recipe.pop("name")
        recipe.pop("description")
        assert recipe == recipes[0]
    assert recipes[0]["backbone"] == dict(
        hidden_dim=200, num_layers=2, dropout=0.0, init_scale=0.1
    )
    assert (recipes[0]["batch_size"], recipes[0]["num_steps"]) == (20, 20)
    assert (recipes[0]["epochs"], recipes[0]["clip_norm"]) == (13, 5.0)


@pytest.mark.parametrize("cell", ["lstm", "hgrn"])
def test_stream_perplexity_carries_the_state(cell):
    backbone = RNNLMBackbone(vocabulary_size=13, hidden_dim=6, cell=cell)
    ids = np.random.default_rng(1).integers(0, 13, 40).astype("int32")
    perplexity, count = lm.stream_perplexity(backbone, ids, window=7)
    # The whole stream in one stateless call: the same predictions.
    x = ids[None, :-1]
    logits = _np(backbone({"token_ids": x, "padding_mask": np.ones_like(x)}))
    log_p = _log_softmax(logits[0].astype("float64"))
    nll = -log_p[np.arange(39), ids[1:]].mean()
    assert count == 39
    assert perplexity == pytest.approx(math.exp(nll), rel=1e-5)


def test_fit_resets_states_and_sets_the_rate_each_epoch():
    recipe = LanguageModelRecipe(
        name="tiny_ptb",
        description="tiny",
        dataset="ptb",
        backbone=dict(hidden_dim=6, num_layers=1),
        batch_size=2,
        num_steps=4,
        epochs=3,
        decay_after=1,
    )
    model = RNNLMBackbone(
        vocabulary_size=9,
        hidden_dim=6,
        num_layers=1,
        stateful=True,
        batch_size=2,
    )
    model.compile(
        optimizer=keras.optimizers.SGD(recipe.learning_rate),
        loss=lm.window_loss,
    )
    ids = np.random.default_rng(2).integers(0, 9, 60)
    windows = lm.StreamWindows(ids, recipe.batch_size, recipe.num_steps)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                state = self.model.recurrent_layers[0].states[0]
                seen.append(
                    (
                        float(np.abs(_np(state)).max()),
                        float(_np(self.model.optimizer.learning_rate)),
                    )
                )

    history = model.fit(
        windows,
        epochs=recipe.epochs,
        shuffle=False,
        callbacks=[lm.EpochSchedule(recipe), Spy()],
        verbose=0,
    )
    # Each epoch starts from zero states, at the scheduled rate.
    assert [s for s, _ in seen] == [0.0, 0.0, 0.0]
    assert [r for _, r in seen] == pytest.approx([1.0, 0.5, 0.25])
    # And the states do carry within an epoch.
    final = model.recurrent_layers[0].states[0]
    assert np.abs(_np(final)).max() > 0
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.large
def test_train_writes_a_loadable_preset_and_resumes(tmp_path, capsys):
    import keras_hub

    import hadamard_zoo  # noqa: F401  (registers the classes)

    kwargs = dict(
        output_dir=tmp_path / "preset",
        checkpoint_dir=tmp_path / "checkpoints",
        max_train_examples=4000,
        verbose=0,
    )
    first = lm.train("lstm_ptb_small", epochs=2, **kwargs)
    # The same run again: it resumes from the last checkpoint, trains no
    # more and measures the same weights.
    metrics = lm.train("lstm_ptb_small", epochs=2, **kwargs)
    assert "Resuming lstm_ptb_small after epoch 2" in capsys.readouterr().out
    assert len(metrics["history"]) == 2
    assert metrics["history"] == first["history"]
    assert metrics["value"] == pytest.approx(first["value"], abs=0.01)
    assert metrics["examples"] == 82429  # 82430 test tokens, 1 not predicted
    # Two epochs on 4000 tokens: far from trained, but well below the
    # 10000 of a uniform guess (measured: 2632 on JAX).
    assert metrics["value"] < 5000
    model = keras_hub.models.CausalLM.from_preset(str(tmp_path / "preset"))
    assert model.preprocessor.tokenizer.vocabulary_size() == 10000
    assert isinstance(model.generate("the company", max_length=8), str)
