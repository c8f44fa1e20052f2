"""The baseline for the streaming case: the loop the PyTorch tutorials teach for a folder of
images. torchvision's ImageFolder with per-image transforms (Resize, CenterCrop, ToTensor,
Normalize), DataLoader(num_workers=2, pin_memory=True, shuffle=True), the recipe's model,
batch size and SGD settings. Times the training part of one epoch (workers' start included,
as in cnn-tui's epoch time). Run as `python -m benchmarks.imagefolder_loop RECIPE`; one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import torch
import torch.nn.functional as F


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("recipe")
    args = parser.parse_args()

    import torchvision.transforms as T
    from torchvision.datasets import ImageFolder

    from cnn_tui.models.build import build_model
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.train.device import amp_dtype, pick_device

    recipe, _ = load_recipe(args.recipe)
    torch.manual_seed(recipe.seed)
    size, batch = recipe.data.image_size, recipe.train.batch_size
    transform = T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor(),
                           T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    dataset = ImageFolder(recipe.data.path, transform=transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=2,
                                         pin_memory=True, drop_last=True)
    device = pick_device("auto")
    channels_last = device.type == "cuda" and recipe.train.channels_last
    model = build_model(recipe.model, 3, size, len(dataset.classes))
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    amp = amp_dtype(device, recipe.train.amp)  # the recipe's mixed precision, as cnn-tui uses it
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    opt = recipe.train.optimizer
    optimizer = torch.optim.SGD(model.parameters(), lr=opt.lr, momentum=opt.momentum, nesterov=opt.nesterov,
                                weight_decay=opt.weight_decay)
    steps = min(len(loader), recipe.train.max_steps_per_epoch or len(loader))
    model.train()
    start = time.perf_counter()
    images = 0
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        images += len(y)
    if device.type == "cuda":
        torch.cuda.synchronize()  # sync point: the epoch's kernels have run
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "images": images, "images_per_sec": images / seconds}))


if __name__ == "__main__":
    main()
