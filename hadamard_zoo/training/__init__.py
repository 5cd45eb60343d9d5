"""Recipes that reproduce the presets, and the code that runs them.

Backend-specific gradient code, when a family needs it (GAN, KGE), lives in
one small file per backend here (DESIGN.md §3); image and text
classification need none: they are plain `model.fit`.
"""

from hadamard_zoo.training.gan_trainer import GANTrainer
from hadamard_zoo.training.recipes import RECIPES
from hadamard_zoo.training.recipes import ImageClassificationRecipe
from hadamard_zoo.training.recipes import ImageGenerationRecipe
from hadamard_zoo.training.recipes import LanguageModelRecipe
from hadamard_zoo.training.recipes import LinkPredictionRecipe
from hadamard_zoo.training.recipes import TextClassificationRecipe
from hadamard_zoo.training.recipes import get_recipe


def train(name, **kwargs):
    """Trains recipe `name` into its preset directory; returns its metrics.

    Dispatches on the recipe's kind: see
    `hadamard_zoo.training.image_classification.train` and
    `hadamard_zoo.training.text_classification.train` and
    `hadamard_zoo.training.link_prediction.train` and
    `hadamard_zoo.training.language_modeling.train` and
    `hadamard_zoo.training.image_generation.train` for the arguments
    (`output_dir`, `checkpoint_dir`, `epochs`, `max_train_examples`,
    `resume`, `data_parallel`, `data_dir`, `verbose`).
    """
    from hadamard_zoo.training import image_classification
    from hadamard_zoo.training import image_generation
    from hadamard_zoo.training import language_modeling
    from hadamard_zoo.training import link_prediction
    from hadamard_zoo.training import text_classification

    recipe = get_recipe(name)
    if isinstance(recipe, TextClassificationRecipe):
        return text_classification.train(name, **kwargs)
    if isinstance(recipe, LanguageModelRecipe):
        return language_modeling.train(name, **kwargs)
    if isinstance(recipe, LinkPredictionRecipe):
        return link_prediction.train(name, **kwargs)
    if isinstance(recipe, ImageGenerationRecipe):
        return image_generation.train(name, **kwargs)
    return image_classification.train(name, **kwargs)
