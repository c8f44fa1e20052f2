"""`cnn-tui predict`: classify new images with a run's kept checkpoint, or with an ImageNet
network (the course's first example: a photo in, "tabby cat 62%" out).

Each image is prepared as in training (short side resized, centre-cropped, same mean/std)
and converted from whatever mode it is in (grey, RGBA, palette, CMYK, 16-bit).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn

from cnn_tui.contract.errors import UsageError, excerpt
from cnn_tui.data.images import load_image, why_unreadable
from cnn_tui.data.layout import is_image_name
from cnn_tui.data.stream import UNREADABLE
from cnn_tui.data.walk import Walker
from cnn_tui.models.classifier import build_classifier
from cnn_tui.recipes.families import ClassifierRecipe
from cnn_tui.recipes.schema import Recipe
from cnn_tui.record.rundir import RunDir


@dataclass
class Classifier:
    model: nn.Module
    class_names: list[str]
    image_size: int  # the square the network sees
    resize: int  # short side before the centre crop (ImageNet: 256 for a 224 crop)
    grayscale: bool
    channels: int
    mean: torch.Tensor
    std: torch.Tensor
    source: str  # which weights, in words


# ------------------------------------------------------------------ where the weights come from

def kept_run_checkpoint(run_dir: Path, recipe, purpose: str = "predict with") -> Path:
    """The checkpoint the run keeps (the rule the test score uses: train/final_score.py)."""
    from cnn_tui.record.rundir import read_summary
    from cnn_tui.train.final_score import kept_checkpoint

    status = (read_summary(run_dir) or {}).get("status", "")
    path = kept_checkpoint(RunDir(run_dir).checkpoints, status, recipe.train.early_stopping.restore_best)
    if path is None:
        raise UsageError(f"{run_dir}: no checkpoint to {purpose} (checkpoints/best.pt or last.pt); "
                         "give the run directory of a classification run that finished an epoch")
    return path


def from_run(run_dir: Path, purpose: str = "predict with", trust: bool = False,
             say: Callable[[str], None] | None = None) -> Classifier:
    """The run's kept network. A model that is the user's own Python file is imported only where the
    file is what the run trained, or `trust` (`say` hears which file; see cnn_tui.contract.user_code)."""
    from cnn_tui.record.run_files import classifier_run_recipe
    from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint

    recipe = classifier_run_recipe(run_dir, purpose, trust, say)
    path = kept_run_checkpoint(run_dir, recipe, purpose)
    try:
        state = load_checkpoint(path)
    except CheckpointError as exc:
        raise UsageError(str(exc)) from None
    meta = state.get("inference")
    if not meta:
        raise UsageError(f"{path}: written by an older cnn-tui without what predict needs (class names, "
                         "mean/std); resume or re-run the recipe to write a new checkpoint")
    model = _rebuild(recipe, meta, state["model"])
    epoch = state["position"]["epoch"]
    return Classifier(model, list(meta["class_names"]), meta["image_size"], meta["image_size"], meta["grayscale"],
                      meta["channels"], torch.tensor(meta["mean"]), torch.tensor(meta["std"]),
                      f"{run_dir.name}, {path.name} (epoch {epoch})")


def _rebuild(recipe: ClassifierRecipe, meta: dict[str, Any], weights: dict[str, torch.Tensor]) -> nn.Module:
    # precomputed features trained the head alone: the base is the recipe's pretrained one
    head_only = bool(meta["head_only"]) and not isinstance(recipe, Recipe)
    base_weights = "none" if isinstance(recipe, Recipe) or not head_only else recipe.backbone.weights
    built = build_classifier(recipe, meta["channels"], meta["image_size"], len(meta["class_names"]), base_weights)
    model = built.model
    if head_only:
        from cnn_tui.models.transfer import TransferNet

        assert isinstance(model, TransferNet)
        model.head.load_state_dict(weights)
    else:
        model.load_state_dict(weights)
    return model


def from_backbone(name: str) -> Classifier:
    """An ImageNet classifier with its 1,000 labels, from weights already cached or shipped."""
    import torchvision.models as tvm

    from cnn_tui.models.backbones.registry import TORCHVISION, build_kwargs
    from cnn_tui.models.backbones.weights import IMAGENET_MEAN, IMAGENET_STD, torchvision_net
    from cnn_tui.recipes.weights import IMAGENET

    categories = tvm.EfficientNet_B0_Weights.DEFAULT.meta["categories"]  # the ImageNet-1k labels
    if name == "efficientnet_lite0":
        from cnn_tui.models.backbones.efficientnet_lite import EfficientNetLite0, imagenet_weights_path

        net: nn.Module = EfficientNetLite0()
        net.load_state_dict(torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True))
        mean, std, crop, resize = IMAGENET_MEAN, IMAGENET_STD, 224, 256
    elif name in TORCHVISION:
        builder, weights_name = TORCHVISION[name]
        net, enum = torchvision_net(builder, weights_name, IMAGENET, name, "--backbone", **build_kwargs(name))
        transforms = enum.transforms()
        mean, std = tuple(transforms.mean), tuple(transforms.std)
        crop, resize = transforms.crop_size[0], transforms.resize_size[0]
    else:
        allowed = ", ".join(["efficientnet_lite0", *TORCHVISION])
        raise UsageError(f"--backbone: unknown network {excerpt(name)} (allowed: {allowed})")
    return Classifier(net, list(categories), crop, resize, False, 3, torch.tensor(mean), torch.tensor(std),
                      f"{name} with ImageNet weights")


# ------------------------------------------------------------------ which images

def image_files(targets: list[str]) -> tuple[list[Path], list[str]]:
    """Files to classify (folders: their images, recursively, sorted; walked as training data is,
    so links are followed once and hidden, debris and special files left out) and one error line
    per bad target."""
    files: list[Path] = []
    errors: list[str] = []
    walker = Walker()
    for target in targets:
        path = Path(target).expanduser()
        if path.is_dir():
            if walker.claim_path(str(path)) is not None:
                continue  # given twice, or inside a folder given before: its images are listed already
            [(found, skipped)] = walker.walk([str(path)], is_image_name)
            if not found:
                why = f"; skipped {skipped.reasons()}" if skipped.total() else ""
                errors.append(f"{path}: no images in this folder (.jpg, .png, .bmp, .gif, .tif, .webp, ...){why}")
            files.extend(Path(f) for f in found)
        elif path.is_file():
            files.append(path)
        elif path.exists():
            errors.append(f"{path}: not a regular file (a FIFO, socket or device); give image files or folders")
        else:
            errors.append(f"{path}: no such file or folder")
    return files, errors


# ------------------------------------------------------------------ classifying

def _prepare(classifier: Classifier, path: Path) -> np.ndarray:
    image = load_image(path, classifier.resize, classifier.grayscale)
    if classifier.resize != classifier.image_size:  # ImageNet's resize-256, centre-crop-224
        margin = (classifier.resize - classifier.image_size) // 2
        image = image[:, margin:margin + classifier.image_size, margin:margin + classifier.image_size]
    return image


@torch.no_grad()
def classify(classifier: Classifier, files: list[Path], top_k: int, device: torch.device,
             batch_size: int = 32) -> Iterator[tuple[Path, list[tuple[str, float]] | str]]:
    """(file, top-k (class, probability)) per image, or (file, why it could not be read)."""
    model = classifier.model.to(device).eval()
    mean = classifier.mean.to(device).view(1, -1, 1, 1)
    std = classifier.std.to(device).view(1, -1, 1, 1)
    k = min(top_k, len(classifier.class_names))
    for start in range(0, len(files), batch_size):
        ready: list[tuple[Path, np.ndarray]] = []
        for path in files[start:start + batch_size]:
            try:
                ready.append((path, _prepare(classifier, path)))
            except UNREADABLE as exc:
                yield path, f"not an image this can read ({why_unreadable(exc)})"
        if not ready:
            continue
        x = torch.from_numpy(np.stack([a for _, a in ready])).to(device).float().div_(255.0)
        if x.shape[1] != classifier.channels:
            x = x.expand(-1, classifier.channels, -1, -1)
        probs = model((x - mean) / std).float().softmax(1)
        values, indices = probs.topk(k, dim=1)
        for (path, _), p_row, i_row in zip(ready, values.tolist(), indices.tolist()):
            yield path, [(classifier.class_names[i], p) for p, i in zip(p_row, i_row)]
