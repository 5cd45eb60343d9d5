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

    with pytest.raises(ValueError, match="`seed` must be a non-negative"):
        runs.with_seed(get_recipe("lstm_ptb_small"), seed)
