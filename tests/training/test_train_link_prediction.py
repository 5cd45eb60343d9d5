"""A link-prediction recipe trains, resumes and writes a loadable preset."""

import dataclasses
import json

import keras
import numpy as np
import pytest

import hadamard_zoo
from hadamard_zoo.datasets.knowledge_graph import load_knowledge_graph
from hadamard_zoo.models.kge import KnowledgeGraphLinkPredictor
from hadamard_zoo.training import link_prediction
from hadamard_zoo.training import recipes
from hadamard_zoo.training import runs
from hadamard_zoo.training import train


@pytest.fixture
def tiny_recipe(monkeypatch):
    """rotate_countries_s1 cut to 2 epochs of 4 steps at d = 8.

    Compiled with 2 steps per call (the gcd of 4 and
    `link_prediction.STEPS_PER_EXECUTION`) except on torch.
    """
    recipe = dataclasses.replace(
        recipes.get_recipe("rotate_countries_s1"),
        name="rotate_tiny_countries_s1",
        embedding_dim=8,
        steps=8,
        steps_per_epoch=4,
        learning_rate=0.01,
    )
    monkeypatch.setitem(recipes.RECIPES, recipe.name, recipe)
    return recipe


@pytest.fixture
def run(tmp_path, tiny_recipe):
    """`run(name)`: trains the tiny recipe into `tmp_path / name`."""

    def train_into(name):
        return train(
            tiny_recipe.name,
            output_dir=tmp_path / name / "out",
            checkpoint_dir=tmp_path / name / "ckpt",
            verbose=0,
        )

    return train_into


def test_smoke_run_writes_a_loadable_preset(tmp_path, tiny_recipe):
    output = tmp_path / "preset"
    metrics = train(
        tiny_recipe.name,
        output_dir=output,
        checkpoint_dir=tmp_path / "checkpoints",
        verbose=0,
    )
    assert metrics["metric"] == "auc_pr" and metrics["examples"] == 24
    assert 0.0 < metrics["value"] <= 1.0
    ranking = metrics["ranking"]
    assert ranking["num_queries"] == 48
    assert 0.0 < ranking["mrr"] <= 1.0 and ranking["mr"] >= 1.0
    assert len(metrics["history"]) == 2 and metrics["steps"] == 8
    saved = json.loads((output / "metrics.json").read_text())
    assert saved["value"] == metrics["value"]
    model = hadamard_zoo.load_classifier(str(output))
    assert isinstance(model, KnowledgeGraphLinkPredictor)
    vocabulary = model.preprocessor.tokenizer
    assert len(vocabulary.entities) == 271
    assert vocabulary.relations == ("neighbor", "locatedin")


def test_interrupted_run_resumes_to_the_same_result(
    tmp_path, run, monkeypatch, capsys
):
    whole = run("whole")

    class Interrupted(Exception):
        pass

    class CrashAfterFirstEpoch(runs.EpochCheckpoint):
        def on_epoch_end(self, epoch, logs=None):
            super().on_epoch_end(epoch, logs)
            raise Interrupted

    fit = runs.fit_remaining_epochs
    with monkeypatch.context() as patch:
        patch.setattr(
            runs,
            "fit_remaining_epochs",
            lambda *a, **k: fit(*a, checkpoint_cls=CrashAfterFirstEpoch, **k),
        )
        with pytest.raises(Interrupted):
            run("part")
    assert not (tmp_path / "part" / "out").exists()
    resumed = run("part")
    assert "after epoch 1" in capsys.readouterr().out
    losses = [[h["loss"] for h in r["history"]] for r in (resumed, whole)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert resumed["value"] == pytest.approx(whole["value"], abs=1e-6)
    assert resumed["ranking"]["mrr"] == pytest.approx(
        whole["ranking"]["mrr"], abs=1e-6
    )


def test_steps_per_call_do_not_change_the_result(run, monkeypatch):
    grouped = run("grouped")
    monkeypatch.setattr(link_prediction, "STEPS_PER_EXECUTION", 1)
    single = run("single")
    losses = [[h["loss"] for h in r["history"]] for r in (grouped, single)]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
    assert grouped["ranking"]["mrr"] == pytest.approx(
        single["ranking"]["mrr"], abs=1e-6
    )


def test_compiled_as_each_backend_runs_fastest(tiny_recipe):
    model = link_prediction.build_link_predictor(
        tiny_recipe, load_knowledge_graph("countries_s1")
    )
    link_prediction.compile_for_training(model, tiny_recipe)
    backend = keras.backend.backend()
    assert model.steps_per_execution == (1 if backend == "torch" else 2)
    assert model.jit_compile == (backend != "torch")


@pytest.mark.parametrize(
    "steps, warm_up, drops",
    [
        (1000, None, [500]),
        (14000, 10000, [10000]),
        (40000, 10000, [10000, 30000]),
        (100000, 10000, [10000, 30000, 90000]),
        (5000, 5000, [5000]),
    ],
)
def test_rate_drops_follow_rotates_tripling_warm_up(steps, warm_up, drops):
    recipe = dataclasses.replace(
        recipes.get_recipe("rotate_fb15k237"),
        steps=steps,
        warm_up_steps=warm_up,
    )
    assert link_prediction.rate_drops(recipe) == drops


def test_optimizer_divides_the_rate_by_ten_at_each_drop():
    recipe = dataclasses.replace(
        recipes.get_recipe("rotate_fb15k237"),
        learning_rate=0.01,
        steps=40000,
        warm_up_steps=10000,
    )
    schedule = link_prediction.learning_rate_schedule(recipe)
    rates = {
        step: float(keras.ops.convert_to_numpy(schedule(step)))
        for step in (0, 9999, 10001, 29999, 30001, 39999)
    }
    expected = [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001]
    np.testing.assert_allclose(list(rates.values()), expected, rtol=1e-6)
