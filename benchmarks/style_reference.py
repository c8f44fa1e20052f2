"""The PyTorch neural-style tutorial's approach, as the baseline for cnn-tui's style loop.

The tutorial (pytorch.org/tutorials/advanced/neural_style_tutorial) copies the feature
net into an nn.Sequential with a normalisation module in front and ContentLoss/StyleLoss
modules inserted after the chosen layers (each records its loss in forward), trims it
after the last loss, optimises the input image with L-BFGS and clamps it in the closure.
Here it runs with cnn-tui's feature net, layers, image size and L-BFGS settings, and adds
the recipe's total-variation term (the tutorial has none; the shipped recipes do), so
the two compute the same terms and differ only in the code around them.

`python -m benchmarks.style_reference RECIPE STEPS WARMUP` prints one JSON line:
seconds per step after the warm-up steps, and loss evaluations per step.
"""

from __future__ import annotations

import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gram(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.size()
    features = x.view(b * c, h * w)
    return torch.mm(features, features.t()).div(b * c * h * w)


class ContentLoss(nn.Module):
    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature: torch.Tensor) -> None:
        super().__init__()
        self.target = gram(target_feature).detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(gram(x), self.target)
        return x


class Normalization(nn.Module):
    def __init__(self, mean, std) -> None:
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return (img - self.mean) / self.std


def build(layers: nn.Sequential, mean, std, content, style, content_layers, style_layers):
    model = nn.Sequential(Normalization(mean, std))
    content_losses, style_losses = [], []
    for name, layer in layers.named_children():
        model.add_module(name, layer)
        if name in content_layers:
            loss = ContentLoss(model(content).detach())
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = StyleLoss(model(style).detach())
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    last = max(i for i, m in enumerate(model) if isinstance(m, (ContentLoss, StyleLoss)))
    return model[: last + 1], content_losses, style_losses


def main(recipe_ref: str, steps: int, warmup: int) -> dict:
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.style.feature_nets import build_feature_net
    from cnn_tui.style.images import load_image

    recipe, _ = load_recipe(recipe_ref)
    torch.manual_seed(recipe.seed)
    net = build_feature_net(recipe.feature_net.name, recipe.feature_net.weights, recipe.feature_net.pooling,
                            recipe.seed)
    content = load_image(recipe.content_image, recipe.image_size, "content_image")
    style = load_image(recipe.style_image, recipe.style_size or recipe.image_size, "style_image")
    with torch.no_grad():
        model, content_losses, style_losses = build(net.layers, net.mean, net.std, content, style,
                                                    recipe.content_layers, recipe.style_layers)
    model.eval()
    model.requires_grad_(False)
    image = content.clone().requires_grad_(True)
    opt = recipe.optimizer
    optimizer = torch.optim.LBFGS([image], lr=opt.lr, max_iter=1, max_eval=20, history_size=opt.history_size,
                                  tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")
    evaluations = [0]

    def closure():
        with torch.no_grad():
            image.clamp_(0, 1)
        optimizer.zero_grad()
        model(image)
        loss = (recipe.style_weight * sum(s.loss for s in style_losses)
                + recipe.content_weight * sum(c.loss for c in content_losses))
        if recipe.tv_weight:
            loss = loss + recipe.tv_weight * (((image[:, :, 1:, :] - image[:, :, :-1, :]) ** 2).mean()
                                              + ((image[:, :, :, 1:] - image[:, :, :, :-1]) ** 2).mean())
        loss.backward()
        evaluations[0] += 1
        return loss

    for step in range(steps):
        if step == warmup:
            start, evals_at_start = time.perf_counter(), evaluations[0]
        optimizer.step(closure)
    seconds = time.perf_counter() - start
    timed = steps - warmup
    return {"seconds_per_step": seconds / timed, "evaluations_per_step": (evaluations[0] - evals_at_start) / timed}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
