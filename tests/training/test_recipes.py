import re

import pytest

from hadamard_zoo.training import RECIPES
from hadamard_zoo.training import get_recipe


def test_names_follow_the_preset_convention():
    for name, recipe in RECIPES.items():
        assert re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", name), name
        # The dataset is a word of the name: last, or before a variant
        # (`lstm_ptb_small`, Zaremba et al.'s name for the configuration).
        assert re.search(rf"(^|_){recipe.dataset}(_[a-z0-9]+)?$", name), name
        if recipe.ship:
            assert recipe.baseline_of is None
        else:
            assert RECIPES[recipe.baseline_of].ship


def test_unknown_recipe_lists_close_names():
    with pytest.raises(ValueError, match="pinet_ccp_mnist"):
        get_recipe("pinet_ccp_mnst")


def test_baselines_differ_from_their_preset_by_the_model_only():
    for recipe in RECIPES.values():
        if recipe.ship:
            continue
        preset = RECIPES[recipe.baseline_of].to_dict()
        baseline = recipe.to_dict()
        assert type(recipe) is type(RECIPES[recipe.baseline_of])
        # A GAN's model is its generator and that generator's optimizer
        # settings (`ImageGenerationRecipe.MODEL_FIELDS`).
        model = {"backbone", *getattr(type(recipe), "MODEL_FIELDS", ())}
        for key in set(baseline) - {"name", "description", *model}:
            if key not in ("ship", "baseline_of"):
                assert baseline[key] == preset[key], key


def test_a_seed_override_replaces_the_seed_and_is_in_the_command():
    from hadamard_zoo.training import runs

    recipe = get_recipe("lstm_ptb_small")
    assert runs.with_seed(recipe, None) is recipe
    assert runs.with_seed(recipe, 3).seed == 3
    assert runs.with_seed(recipe, 3).learning_rate == recipe.learning_rate
    command = runs.train_command("lstm_ptb_small", seed=3)
    assert command.endswith("hadamard-zoo train lstm_ptb_small --seed 3")
    assert "--seed" not in runs.train_command("lstm_ptb_small")


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_a_bad_seed_override_is_named(seed):
    from hadamard_zoo.training import runs

    with pytest.raises(ValueError, match=r"`seed` must be an integer >= 0"):
        runs.with_seed(get_recipe("lstm_ptb_small"), seed)


def test_an_epochs_override_counts_epochs_or_steps():
    from hadamard_zoo.training import runs

    recipe = get_recipe("lstm_ptb_small")
    assert runs.with_epochs(recipe, None) is recipe
    assert runs.with_epochs(recipe, 2).epochs == 2
    # Recipes counted in steps get whole epochs of steps.
    gan = get_recipe("stylegan_mnist")
    shorter = runs.with_epochs(gan, 2)
    assert shorter.steps == 2 * gan.steps_per_epoch and shorter.epochs == 2
    kge = get_recipe("rotate_countries_s1")
    assert runs.with_epochs(kge, 1).steps == kge.steps_per_epoch


@pytest.mark.parametrize("epochs", [0, -2, 1.5, "3", True])
def test_a_bad_epochs_override_is_named(epochs):
    from hadamard_zoo.training import runs

    with pytest.raises(ValueError, match=r"`epochs` must be an integer >= 1"):
        runs.with_epochs(get_recipe("lstm_ptb_small"), epochs)


def test_resolve_run_applies_every_override_and_picks_directories(
    tmp_path, monkeypatch
):
    from hadamard_zoo.training import runs

    monkeypatch.setenv("HADAMARD_ZOO_CHECKPOINTS", str(tmp_path / "ckpt"))
    recipe, output_dir, checkpoint_dir = runs.resolve_run(
        "stylegan_mnist", seed=4, epochs=1, overrides={"fid_samples": 64}
    )
    assert (recipe.seed, recipe.fid_samples) == (4, 64)
    assert recipe.steps == recipe.steps_per_epoch
    assert output_dir == runs.default_output_dir(recipe)
    assert checkpoint_dir == tmp_path / "ckpt" / "stylegan_mnist"
    _, output_dir, checkpoint_dir = runs.resolve_run(
        "lstm_ptb_small", output_dir=tmp_path / "out", checkpoint_dir="c"
    )
    assert output_dir == tmp_path / "out"
    assert checkpoint_dir == runs.pathlib.Path("c")
