"""Recipes that reproduce the presets, and the code that runs them.

Backend-specific gradient code, when a family needs it (GAN, KGE), lives in
one small file per backend here (DESIGN.md §3); image classification needs
none: it is plain `model.fit`.
"""

from hadamard_zoo.training.image_classification import train
from hadamard_zoo.training.recipes import RECIPES
from hadamard_zoo.training.recipes import ImageClassificationRecipe
from hadamard_zoo.training.recipes import get_recipe
