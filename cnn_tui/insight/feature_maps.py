"""Feature maps and filters: what chosen conv layers see in one fixed validation image, and what
the first layer's filters look like (Zeiler & Fergus's two pictures of a network)."""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
import torch.nn as nn

from cnn_tui.contract.errors import RecipeError
from cnn_tui.insight.pictures import grid, stretch

MAX_FILTERS = 64  # tiles of the filter picture (8 x 8)


def conv_layers(model: nn.Module) -> list[str]:
    """The conv layers inference runs (not a `training_only` child's, such as GoogLeNet's side heads)."""
    skip = tuple(f"{name}." for name in getattr(model, "training_only", ()))
    return [name for name, module in model.named_modules()
            if isinstance(module, nn.Conv2d) and not name.startswith(skip)]


def choose_layers(model: nn.Module, wanted: str | list[str], field: str = "views.feature_maps") -> list[str]:
    """The layers to draw: 'auto' = the first, a middle and the last conv layer; names are checked
    against the model (an unknown one is a recipe error listing the layers there are)."""
    convs = conv_layers(model)
    if wanted == "auto":
        picks = [convs[0], convs[len(convs) // 2], convs[-1]] if convs else []
        return list(dict.fromkeys(picks))
    modules = dict(model.named_modules())
    unknown = [name for name in wanted if name not in modules or not name]
    if unknown:
        listed = ", ".join(convs[:30]) + (f" and {len(convs) - 30} more" if len(convs) > 30 else "")
        raise RecipeError(f"{field}: '{unknown[0]}' is not a layer of this model; its conv layers are: "
                          f"{listed or 'none'} (or 'auto', or [] for none)")
    return list(wanted)


def capture(model: nn.Module, probe: torch.Tensor, layers: list[str]) -> tuple[dict[str, torch.Tensor], int]:
    """(layer -> its output for the probe, C x H x W; the predicted class), in eval mode, no grad."""
    modules = dict(model.named_modules())
    seen: dict[str, torch.Tensor] = {}

    def keep(name: str) -> Callable[..., None]:
        def hook(_m: nn.Module, _i: object, output: object) -> None:
            if isinstance(output, torch.Tensor) and output.dim() == 4 and name not in seen:
                seen[name] = output[0].detach().float()
        return hook

    handles = [modules[name].register_forward_hook(keep(name)) for name in layers]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            logits = model(probe)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return seen, int(logits.argmax(1)[0])


def maps_picture(activation: torch.Tensor, channels: int) -> torch.Tensor:
    """The first `channels` maps of a C x H x W activation as a grey grid (1 x H' x W' uint8)."""
    shown = activation[:channels].unsqueeze(1)  # n x 1 x H x W
    return grid(stretch(shown.cpu()))


def filters_picture(model: nn.Module) -> tuple[str, torch.Tensor] | None:
    """(layer, picture) of the first conv layer's filters: RGB tiles for 3 input channels, grey for
    one, the mean over inputs otherwise; None for a model without a conv layer."""
    convs = conv_layers(model)
    if not convs:
        return None
    weight = dict(model.named_modules())[convs[0]].weight.detach().float().cpu()[:MAX_FILTERS]
    if weight.shape[1] not in (1, 3):
        weight = weight.mean(1, keepdim=True)
    return convs[0], grid(stretch(weight), columns=min(8, len(weight)))


def file_name(layer: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", layer) or "model"
