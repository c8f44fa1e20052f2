"""`cnn-tui validate`: check a recipe beyond the schema by building its model (no data needed)."""

from __future__ import annotations

from pathlib import Path

CHANNELS = {"mnist": 1, "fashion_mnist": 1, "lfw_faces": 1}
CLASSES = {"mnist": 10, "fashion_mnist": 10, "cifar10": 10, "cifar100": 100, "oxford_pet": 2, "lfw_faces": 2}


def expected_input(recipe) -> tuple[int, int, int]:
    """(channels, image size, classes) the data section will produce, without loading it."""
    data = recipe.data
    channels = 1 if data.grayscale else CHANNELS.get(data.dataset, 3)
    if recipe.kind != "scratch":
        channels = 3  # pretrained bases take RGB; grayscale is repeated
    classes = len(data.shapes.classes) if data.dataset == "shapes" else CLASSES.get(data.dataset, 2)
    return channels, data.image_size, classes


def describe_model(recipe) -> tuple[list[dict], int, int, str]:
    """(layer rows, total params, trainable params, model name) without downloading weights."""
    from cnn_tui.models.summary import count_params, layer_table

    channels, size, classes = expected_input(recipe)
    if recipe.kind == "scratch":
        from cnn_tui.models.build import build_model

        model, name = build_model(recipe.model, channels, size, classes), recipe.model.arch
    else:
        from cnn_tui.models.backbones.registry import build_base
        from cnn_tui.models.transfer import TransferNet

        model = TransferNet(build_base(recipe.backbone.name, "none"), classes, recipe.head.hidden,
                            recipe.head.dropout)
        if recipe.kind == "fine_tuning":
            model.set_trainable(recipe.phases[0].unfreeze)
        name = f"{recipe.backbone.name} + head"
    total, trainable = count_params(model)
    return layer_table(model, (channels, size, size)), total, trainable, name


def check_recipe(recipe, path: Path) -> str:
    from cnn_tui.models.summary import format_table

    rows, total, trainable, name = describe_model(recipe)
    return f"ok: {path} ({recipe.kind}, {name} on {recipe.data.dataset})\n{format_table(rows, total, trainable)}"
