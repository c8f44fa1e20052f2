"""Networks cnn-tui did not write: any torchvision classification model built without weights
(`arch: torchvision`), and the user's own (`arch: python`, a class or a function from the file
the recipe names, imported from that path only). Both are checked once on a dummy batch, so a
model that cannot take the image size, or does not give one logit per class, is one line."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import RecipeError, excerpt

AUXILIARY_HEADS = ("googlenet", "inception_v3")  # side classifiers (2014's deep-supervision trick): off
TRIED_SIZES = [16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 299, 320, 384, 448, 512]


class GreyToRGB(nn.Module):
    """torchvision's networks take 3 channels: a grey image is given as three equal ones."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x.expand(-1, 3, -1, -1))
        return out


def classification_models() -> list[str]:
    import torchvision.models as tvm

    return sorted(tvm.list_models(module=tvm))


def _takes(build: Callable[[int], nn.Module], channels: int, size: int) -> bool:
    """One forward pass of 2 images, on the meta device (shapes only, instant) where the model
    can be built there; some constructors copy real data, and are tried on the CPU."""
    for device in ("meta", "cpu"):
        try:
            with torch.device(device), torch.no_grad():
                build(size).eval()(torch.zeros(2, channels, size, size))
            return True
        except NotImplementedError:  # "Cannot copy out of meta tensor": try for real
            continue
        except (RuntimeError, ValueError, IndexError):
            return False
    return False


def _check_size(build: Callable[[int], nn.Module], channels: int, size: int, what: str) -> None:
    if _takes(build, channels, size):
        return
    smallest = next((s for s in TRIED_SIZES if s > size and _takes(build, channels, s)), None)
    tried = f"{TRIED_SIZES[0]}..{TRIED_SIZES[-1]} px"
    hint = f"the smallest size it takes, of {tried} tried, is {smallest} px" if smallest else \
        f"it takes none of {tried} either"
    raise RecipeError(f"model: {what} cannot take {size} px images ({hint}); set data.image_size")


def torchvision_model(cfg: Any, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    import torchvision.models as tvm

    names = classification_models()
    if cfg.name not in names:
        close = difflib.get_close_matches(cfg.name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise RecipeError(f"model.name: {excerpt(cfg.name)} is not a torchvision classification model{hint}; "
                          f"allowed: {', '.join(names)}")
    builder = tvm.get_model_builder(cfg.name)
    options: dict[str, Any] = {"weights": None, "num_classes": num_classes}
    if cfg.name in AUXILIARY_HEADS:
        options.update(aux_logits=False, init_weights=True)  # one output in training too

    def build(_size: int) -> nn.Module:
        return builder(**options)

    _check_size(build, 3, image_size, f"torchvision's {cfg.name}")
    net = build(image_size)
    return GreyToRGB(net) if in_channels == 1 else net


def _import_file(path: Path) -> Any:
    """The user's module, by path only (never by name from sys.path), under a name of its own."""
    digest = hashlib.sha1(str(path).encode()).hexdigest()[:10]
    spec = importlib.util.spec_from_file_location(f"cnn_tui_user_{path.stem}_{digest}", path)
    if spec is None or spec.loader is None:
        raise RecipeError(f"{path}: model.path: not a Python file that can be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look the module up by name
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: whatever it raises is theirs to fix, in one line
        del sys.modules[spec.name]
        line = next((f":{frame.lineno}" for frame in reversed(_frames(exc)) if frame.filename == str(path)), "")
        raise RecipeError(f"{path}{line}: model.path: importing it failed: {type(exc).__name__}: "
                          f"{_first_line(exc)}") from None
    return module


def _first_line(exc: BaseException, limit: int = 200) -> str:
    """The user's exception in one line of at most `limit` characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _frames(exc: BaseException) -> list[Any]:
    import traceback

    return list(traceback.extract_tb(exc.__traceback__))


def _call(factory: Callable[..., Any], in_channels: int, image_size: int, num_classes: int) -> Any:
    """Pass what the factory asks for by name: num_classes, in_channels, image_size."""
    offered = {"num_classes": num_classes, "in_channels": in_channels, "image_size": image_size}
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return factory()
    return factory(**{k: v for k, v in offered.items() if k in parameters})


def python_model(cfg: Any, in_channels: int, image_size: int, num_classes: int) -> nn.Module:
    path = Path(cfg.path)
    if not path.is_file():
        raise RecipeError(f"{path}: model.path: no such file")
    module = _import_file(path)
    factory = getattr(module, cfg.name, None)
    if factory is None or not callable(factory):
        defined = sorted(n for n, v in vars(module).items() if not n.startswith("_") and callable(v)
                         and getattr(v, "__module__", None) == module.__name__)
        raise RecipeError(f"{path}: model.name: defines no {excerpt(cfg.name)}; "
                          f"it defines: {', '.join(defined) or 'nothing'}")
    try:
        net = _call(factory, in_channels, image_size, num_classes)
    except Exception as exc:
        raise RecipeError(f"{path}: model.name: {cfg.name}(...) failed: {type(exc).__name__}: "
                          f"{_first_line(exc)}") from None
    if not isinstance(net, nn.Module):
        raise RecipeError(f"{path}: model.name: {cfg.name} gave a {type(net).__name__}, not a torch.nn.Module")
    try:
        with torch.no_grad():
            out = net.eval()(torch.zeros(2, in_channels, image_size, image_size))
    except Exception as exc:
        raise RecipeError(f"{path}: {cfg.name} fails on a batch of 2 images of {in_channels}x{image_size}x"
                          f"{image_size}: {type(exc).__name__}: {_first_line(exc)}") from None
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
    if shape != (2, num_classes):
        raise RecipeError(f"{path}: {cfg.name}'s output for 2 images is {shape}; it must be (2, {num_classes}): "
                          f"one logit per class ({num_classes} classes)")
    return net.train()
