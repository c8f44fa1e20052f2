"""`cnn-tui validate`: check a recipe beyond the schema by building its model (no data needed)."""

from __future__ import annotations

from pathlib import Path

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.kinds import optimises_an_image
from cnn_tui.data.expected import expected_input
from cnn_tui.engine.plugins import engine_for
from cnn_tui.models.classifier import build_classifier
from cnn_tui.models.transfer import TransferNet
from cnn_tui.recipes.schema import FineTuningRecipe


def describe_model(recipe) -> tuple[list[dict], int, int, str]:
    """(layer rows, total params, trainable params, model name) without downloading weights."""
    return engine_for(recipe.kind).describe(recipe)


MAX_CLASSES = 100_000  # ImageNet-21k has 21,841; a classifier for 10^11 classes asked 51 TB of memory


def check_recipe(recipe, path: Path, classes: int | None = None) -> str:
    """`cnn-tui validate`'s report: what the kind checks beyond the schema, and the layer table.
    `classes` sizes a classifier for that many classes instead of the data's (`--classes 1000`:
    the papers' ImageNet tables, e.g. VGG's Table 2)."""
    if classes is None:
        return engine_for(recipe.kind).check(recipe, path)
    if optimises_an_image(recipe.kind):
        raise UsageError(f"--classes: a {recipe.kind} recipe optimises an image and has no classifier to size")
    if not 1 <= classes <= MAX_CLASSES:  # above it the classifier alone would not fit in memory
        raise UsageError(f"--classes: {classes} is not allowed; allowed: a whole number >= 1 and <= "
                         f"{MAX_CLASSES} (e.g. 1000)")
    return check_classifier(recipe, path, classes)


def describe_classifier(recipe, classes: int | None = None) -> tuple[list[dict], int, int, str]:
    from cnn_tui.models.summary import count_params, layer_table

    channels, size, data_classes = expected_input(recipe)
    classes = classes or data_classes
    built = build_classifier(recipe, channels, size, classes)
    model, name = built.model, built.name
    if isinstance(recipe, FineTuningRecipe):
        assert isinstance(model, TransferNet)
        model.set_trainable(recipe.phases[0].unfreeze)
    check_view_layers(model, recipe.views)
    total, trainable = count_params(model)
    return layer_table(model, (channels, size, size)), total, trainable, name


def check_view_layers(model, views) -> None:
    """views.feature_maps names layers of this model (a recipe error lists the ones there are)."""
    from cnn_tui.insight.feature_maps import choose_layers, conv_layers

    if isinstance(views.feature_maps, list) and conv_layers(model):
        choose_layers(model, views.feature_maps)


def describe_feature_net(recipe) -> tuple[list[dict], int, int, str]:
    """The truncated feature net on a square image of image_size (random weights: no download)."""
    from cnn_tui.models.summary import count_params, layer_table
    from cnn_tui.style.feature_nets import FeatureExtractor, build_feature_net

    spec = recipe.feature_net
    net = build_feature_net(spec.name, "none", spec.pooling, recipe.seed)
    extractor = FeatureExtractor(net, list(dict.fromkeys(recipe.content_layers + recipe.style_layers)))
    rows = [{**row, "trainable": 0} for row in layer_table(extractor.layers, (3, recipe.image_size, recipe.image_size))]
    total, _ = count_params(extractor.layers)
    return rows, total, 0, f"{spec.name} features ({spec.weights} weights, frozen)"


def _check_images(recipe) -> str:
    from cnn_tui.style.images import load_image

    sizes = []
    for field in ("content_image", "style_image"):
        side = recipe.image_size if field == "content_image" else (recipe.style_size or recipe.image_size)
        image = load_image(getattr(recipe, field), side, field)
        sizes.append(f"{field} {getattr(recipe, field)} -> {image.shape[-1]}x{image.shape[-2]} px")
        if field == "content_image" and min(image.shape[-2:]) < 16:
            from cnn_tui.contract.errors import RecipeError

            raise RecipeError(f"content_image: {image.shape[-1]}x{image.shape[-2]} px at image_size "
                              f"{recipe.image_size} is too small; raise image_size")
    return "\n".join(sizes)


def check_style(recipe, path: Path) -> str:
    from cnn_tui.models.summary import format_table

    rows, total, trainable, name = describe_feature_net(recipe)
    return f"ok: {path} ({recipe.kind}, {name})\n{_check_images(recipe)}\n{format_table(rows, total, trainable)}"


def check_classifier(recipe, path: Path, classes: int | None = None) -> str:
    from cnn_tui.data.sources import preview
    from cnn_tui.models.summary import format_table

    rows, total, trainable, name = describe_classifier(recipe, classes)
    data = "\n".join(f"data: {line}" for line in preview(recipe.data, recipe.seed).splitlines())
    sized = f", sized for {classes:,} classes (--classes)" if classes else ""
    table = format_table(rows, total, trainable)
    init = _init_from(recipe, classes)
    return f"ok: {path} ({recipe.kind}, {name} on {recipe.data.dataset}{sized})\n{data}{init}\n{table}"


def _init_from(recipe, classes: int | None) -> str:
    """model.init_from: what a run would copy from the other run (a bad run directory fails here)."""
    init_from = getattr(getattr(recipe, "model", None), "init_from", None)
    if not init_from:
        return ""
    from cnn_tui.models.build import build_model
    from cnn_tui.models.init_from import copy_matching

    channels, size, data_classes = expected_input(recipe)
    model = build_model(recipe.model, channels, size, classes or data_classes)
    return "\n" + copy_matching(model, init_from).in_words()
