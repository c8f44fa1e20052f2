"""The Grad-CAM pictures of a run: the probe's and each worst mistake's heat, as small PNG overlays
in the run directory, and the event that names them (one clear note where there can be none)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn

from cnn_tui.contract.events import GradCam
from cnn_tui.insight.gradcam import grad_cam, last_spatial_layer, overlay
from cnn_tui.insight.pictures import write_png

NO_MAP = "no Grad-CAM: the model has no spatial feature map to take the heat from (no conv layer, or " \
         "its images are pooled down to 1 x 1 before the classifier)"


@dataclass
class Probe:
    role: str  # probe | shifted | mistake
    image: torch.Tensor  # C x H x W, normalised as the model sees it
    true: int | None  # its class, where known


class CamView:
    def __init__(self) -> None:
        self.layer: str | None = None
        self.looked = False  # the layer is looked for once, on the first image

    def event(self, model: nn.Module, probes: list[Probe], class_names: list[str], run_dir: Path, folder: Path,
              epoch: int, step: int, mean: torch.Tensor, std: torch.Tensor) -> GradCam:
        if not probes:
            return GradCam(epoch=epoch, step=step, layer="", note="no Grad-CAM: no image to draw it for")
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
        images = torch.stack([p.image for p in probes]).to(device)
        if not self.looked:
            self.layer, self.looked = last_spatial_layer(model, images), True
        if self.layer is None:
            return GradCam(epoch=epoch, step=step, layer="", note=NO_MAP)
        cams = grad_cam(model, images, self.layer)
        pictures, counts = [], {"probe": 0, "shifted": 0, "mistake": 0}
        for probe, cam, predicted, confidence in zip(probes, cams.maps, cams.predicted, cams.confidence):
            counts[probe.role] = counts.get(probe.role, 0) + 1
            name = probe.role if probe.role != "mistake" else f"mistake-{counts['mistake']:02d}"
            path = folder / f"gradcam-{name}.png"
            write_png(overlay(pixels(probe.image, mean, std), cam), run_dir / path)
            pictures.append({"path": str(path), "role": probe.role,
                             "true": class_names[probe.true] if probe.true is not None else "",
                             "predicted": class_names[predicted], "confidence": round(confidence, 4)})
        return GradCam(epoch=epoch, step=step, layer=self.layer, pictures=pictures)


def pixels(image: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """A normalised C x H x W image back to uint8 pixels."""
    x = image.float().cpu() * std.reshape(-1, 1, 1).cpu() + mean.reshape(-1, 1, 1).cpu()
    return (x.clamp(0, 1) * 255).round().to(torch.uint8)
