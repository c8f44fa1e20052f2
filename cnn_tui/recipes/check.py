"""`cnn-tui validate`: check a recipe beyond the schema by building its model (no data needed)."""

from __future__ import annotations

from pathlib import Path

CHANNELS = {"mnist": 1, "fashion_mnist": 1}
CLASSES = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10, "cifar100": 100, "oxford_pet": 2}


def expected_input(recipe) -> tuple[int, int, int]:
    """(channels, image size, classes) the data section will produce, without loading it."""
    data = recipe.data
    channels = 1 if data.grayscale else CHANNELS.get(data.dataset, 3)
    classes = len(data.shapes.classes) if data.dataset == "shapes" else CLASSES.get(data.dataset, 2)
    return channels, data.image_size, classes


def check_recipe(recipe, path: Path) -> str:
    from cnn_tui.models.build import build_model
    from cnn_tui.models.summary import count_params, format_table, layer_table

    channels, size, classes = expected_input(recipe)
    model = build_model(recipe.model, channels, size, classes)
    total, trainable = count_params(model)
    table = format_table(layer_table(model, (channels, size, size)), total, trainable)
    return f"ok: {path} ({recipe.kind}, {recipe.model.arch} on {recipe.data.dataset})\n{table}"
