"""The baseline for the training-overhead case: a minimal hand-written PyTorch loop.

Same data (the recipe's generated shapes, held as uint8 tensors), same model builder,
batch size, optimizer, one-cycle schedule, flip + pad-crop augmentation on batched
tensors, and a validation pass per epoch: what a careful user would write by hand.
On a CUDA GPU it uses the recipe's AMP and channels-last settings, as cnn-tui does.
Run as `python -m benchmarks.baseline_loop RECIPE [--set ...]`; prints one JSON line.
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
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()

    from cnn_tui.data.sources import load_data
    from cnn_tui.models.build import build_model
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.train.device import amp_dtype, pick_device

    recipe, _ = load_recipe(args.recipe, args.overrides)
    torch.manual_seed(recipe.seed)
    data = load_data(recipe.data, recipe.seed, log=lambda _m: None)
    device = pick_device("auto")
    x_train, y_train, x_val, y_val = (t.to(device) for t in (data.train.x, data.train.y, data.val.x, data.val.y))
    model = build_model(recipe.model, x_train.shape[1], recipe.data.image_size, len(data.class_names))
    cuda = device.type == "cuda"
    channels_last = cuda and recipe.train.channels_last
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.preserve_format)
    amp = amp_dtype(device, recipe.train.amp)
    scaler = torch.amp.GradScaler("cuda", enabled=amp == torch.float16)
    if cuda:
        torch.backends.cudnn.benchmark = True
    opt_cfg, batch, epochs = recipe.train.optimizer, recipe.train.batch_size, recipe.train.epochs
    optimizer = torch.optim.SGD(model.parameters(), lr=opt_cfg.lr, momentum=opt_cfg.momentum,
                                nesterov=opt_cfg.nesterov, weight_decay=opt_cfg.weight_decay)
    steps_per_epoch = (len(y_train) + batch - 1) // batch
    if recipe.train.max_steps_per_epoch:
        steps_per_epoch = min(steps_per_epoch, recipe.train.max_steps_per_epoch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=opt_cfg.lr, total_steps=epochs * steps_per_epoch)
    mean = x_train.float().div(255).mean(dim=(0, 2, 3)).view(1, -1, 1, 1)
    std = x_train.float().div(255).std(dim=(0, 2, 3)).view(1, -1, 1, 1)
    pad = recipe.data.augment.crop_padding

    start = time.perf_counter()
    images = 0
    epoch_seconds = []  # the training part of each epoch (data, forward, backward, step)
    for _epoch in range(epochs):
        epoch_start = time.perf_counter()
        model.train()
        order = torch.randperm(len(y_train), device=device)
        for step in range(steps_per_epoch):
            idx = order[step * batch:(step + 1) * batch]
            x = x_train[idx].float().div_(255)
            flip = torch.rand(len(idx), device=device) < 0.5
            x[flip] = x[flip].flip(3)
            if pad:  # a random crop per image: pad, then gather shifted rows and columns
                n, c, h, w = x.shape
                padded = F.pad(x, (pad,) * 4)
                dy, dx = torch.randint(0, 2 * pad + 1, (2, n), device=device)
                rows = (dy.view(-1, 1) + torch.arange(h, device=device)).view(n, 1, h, 1)
                cols = (dx.view(-1, 1) + torch.arange(w, device=device)).view(n, 1, 1, w)
                x = padded[torch.arange(n, device=device).view(-1, 1, 1, 1),
                           torch.arange(c, device=device).view(1, -1, 1, 1), rows, cols]
            x = (x - mean) / std
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                loss = F.cross_entropy(model(x), y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            schedule.step()
            images += len(idx)
        if cuda:
            torch.cuda.synchronize()  # sync point: the epoch's kernels have run
        epoch_seconds.append(time.perf_counter() - epoch_start)
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(y_val), 256):
                x = (x_val[i:i + 256].float().div(255) - mean) / std
                with torch.autocast(device.type, dtype=amp or torch.float32, enabled=amp is not None):
                    correct += (model(x).argmax(1) == y_val[i:i + 256]).sum().item()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "images": images, "epoch_seconds": epoch_seconds,
                      "epoch_images": images // epochs, "val_acc": correct / len(y_val)}))


if __name__ == "__main__":
    main()
