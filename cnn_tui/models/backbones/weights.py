"""Pretrained weights, one way for every net: torchvision's ImageNet state dicts (from
TORCH_HOME, downloaded once, one clear line when offline), random init, or a local file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import DataUnavailableError, RecipeError
from cnn_tui.recipes.weights import IMAGENET, is_file

# The ImageNet statistics every torchvision classifier (and the shipped Lite0) was trained with
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def torchvision_net(builder: str, weights_enum: str, weights: str, name: str, field: str,
                    **build: Any) -> tuple[nn.Module, Any]:
    """torchvision's `builder` with `weights` (imagenet, none or a file) and its weights enum
    (whose transforms() say the preprocessing and whose meta the labels); `build`: the builder's
    own arguments that its ImageNet weights need (Inception v3's transform_input, aux_logits)."""
    import torchvision.models as tvm

    enum = getattr(tvm, weights_enum).DEFAULT
    net = getattr(tvm, builder)(weights=None, **build)
    if weights == IMAGENET:
        net.load_state_dict(download_imagenet(enum, name, field))
    elif is_file(weights):
        load_state_dict_file(net, weights, name, field)
    return net, enum


def download_imagenet(enum, name: str, field: str = "backbone.weights") -> dict:
    """torchvision's ImageNet state dict from TORCH_HOME, downloading it once; offline, one clear line."""
    hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
    file_name = os.path.basename(enum.url)
    try:
        if not (hub_dir / file_name).is_file():
            _check_reachable(enum.url)  # fail before torch prints "Downloading: ..."
        return enum.get_state_dict(progress=True, check_hash=False)
    except Exception as exc:  # URLError, OSError, HTTPError, ...
        reason = " ".join(str(exc).split())[:100]
        raise DataUnavailableError(
            f"{field}: the ImageNet weights for {name} ({file_name}) are not in {hub_dir} and "
            f"could not be downloaded ({reason}); run once with internet access, copy the file there, "
            f"or set {field} to a local state-dict file or 'none'"
        ) from None


def _check_reachable(url: str, timeout: float = 5.0) -> None:
    """Raise OSError when the download host cannot be reached (offline, DNS, firewall)."""
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with socket.create_connection((parsed.hostname, port), timeout=timeout):
        pass


def load_state_dict_file(net: nn.Module, path: str, name: str, field: str = "backbone.weights") -> None:
    if not Path(path).is_file():
        raise RecipeError(f"{field}: {path}: no such file (allowed: imagenet, none, or a "
                          "state-dict file saved with torch.save(model.state_dict(), path))")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise RecipeError(f"{field}: {path}: not a readable state dict ({exc})") from None
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    result = net.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise RecipeError(
            f"{field}: {path} does not fit {name}: {len(result.missing_keys)} missing keys "
            f"(e.g. {result.missing_keys[:2]}), {len(result.unexpected_keys)} unexpected "
            f"(e.g. {result.unexpected_keys[:2]})")
