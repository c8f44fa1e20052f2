"""A recipe type per kind family, for the signatures that take "any classification recipe"
or "any recipe" (instead of `Any`). `isinstance` on the member classes narrows a recipe to
its kind: no code compares kind names.
"""

from __future__ import annotations

from cnn_tui.recipes.schema import FeatureExtractionRecipe, FineTuningRecipe, Recipe
from cnn_tui.recipes.style_schema import StyleTransferRecipe

TransferRecipe = FeatureExtractionRecipe | FineTuningRecipe  # a pretrained base and a new head
ClassifierRecipe = Recipe | TransferRecipe  # trains a classifier on a dataset
ImageRecipe = StyleTransferRecipe  # optimises the pixels of one image
AnyRecipe = ClassifierRecipe | ImageRecipe
