"""`cnn-tui views RUN_DIR [--image FILE | --index N | --class NAME] [--shift PX]`: the views of a
finished run's kept checkpoint for a probe of the user's choice, written at once (no training).

Writes RUN_DIR/views/chosen/: the probe, its Grad-CAM, its feature maps, and the translation-
equivariance pair (the probe and the probe shifted by PX, side by side, with the first conv layer's
maps of each: a conv layer's maps shift with the image, the prediction should not change), what the
deepest drawn conv layer's first channels want to see (activation maximisation: wants-LAYER.png), plus
events.jsonl naming them, which the dashboard reads. The folder is built beside the old one and
swapped in whole, so a reader never sees half of it and a failure leaves the old one as it was.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from cnn_tui.contract.atomic import DIR_MODE
from cnn_tui.contract.errors import UsageError, excerpt

CHOSEN = "chosen"  # RUN_DIR/views/chosen
DEFAULT_SHIFT = 4


def probe_image(run_dir: Path, classifier, image: Path | None, index: int | None, name: str | None
                ) -> tuple[torch.Tensor, int | None, str]:
    """(uint8 C x H x W at the model's size, its class index or None, where it came from)."""
    if image is not None:
        from cnn_tui.data.images import why_unreadable
        from cnn_tui.data.stream import UNREADABLE
        from cnn_tui.engine.predict import _prepare

        if not image.is_file():
            raise UsageError(f"--image {image}: no such file" if not image.exists() else
                             f"--image {image}: not a regular file; give an image file")
        try:
            pixels = torch.from_numpy(np.array(_prepare(classifier, image)))  # a writable copy
        except UNREADABLE as exc:
            raise UsageError(f"--image {image}: not an image this can read ({why_unreadable(exc)})") from None
        return _fit(pixels, classifier), None, str(image)
    val = _validation(run_dir, classifier)
    labels = val.y.tolist()
    if name is not None:
        if name not in classifier.class_names:
            listed = ", ".join(classifier.class_names[:20]) + (" ..." if len(classifier.class_names) > 20 else "")
            raise UsageError(f"--class {excerpt(name)}: not a class of this run (its classes: {listed})")
        wanted = classifier.class_names.index(name)
        if wanted not in labels:
            raise UsageError(f"--class {name}: no validation image of this class")
        index = labels.index(wanted)
    index = 0 if index is None else index
    if not 0 <= index < len(labels):
        raise UsageError(f"--index {index}: out of range (the validation set has {len(labels)} images: 0.."
                         f"{len(labels) - 1})")
    if val.x is not None:
        pixels = val.x[index]
    else:
        from cnn_tui.data.images import load_image

        assert val.files is not None
        pixels = torch.from_numpy(load_image(Path(val.files[index]), classifier.image_size, classifier.grayscale))
    return _fit(pixels, classifier), labels[index], f"validation image {index}"


def _validation(run_dir: Path, classifier):
    from cnn_tui.data.expected import PRETRAINED_CHANNELS
    from cnn_tui.data.sources import load_data
    from cnn_tui.recipes.loader import load_recipe
    from cnn_tui.record.rundir import RECIPE

    recipe: Any = load_recipe(str(run_dir / RECIPE))[0]  # a classification recipe: from_run checked it
    channels = None if recipe.kind == "scratch" else PRETRAINED_CHANNELS
    try:
        return load_data(recipe.data, recipe.seed, channels=channels).val
    except Exception as exc:  # the data moved or went since the run: say so, no traceback
        raise UsageError(f"{run_dir}: cannot load the run's validation data ({exc}); give --image FILE") from None


def _fit(pixels: torch.Tensor, classifier) -> torch.Tensor:
    """uint8 C x H x W at the model's square size and channel count."""
    pixels = pixels[:, :, :] if pixels.dim() == 3 else pixels[None]
    if pixels.shape[0] != classifier.channels:
        pixels = pixels.float().mean(0, keepdim=True) if classifier.channels == 1 else pixels[:1]
        pixels = pixels.expand(classifier.channels, -1, -1)
    size = classifier.image_size
    if tuple(pixels.shape[-2:]) != (size, size):
        pixels = F.interpolate(pixels[None].float(), size=(size, size), mode="bilinear", align_corners=False)[0]
    return pixels.round().clamp(0, 255).to(torch.uint8).contiguous()


def shifted(x: torch.Tensor, px: int) -> torch.Tensor:
    """The normalised 1 x C x H x W image moved `px` right and down; the uncovered edge is 0 (the mean)."""
    return F.pad(x, (px, 0, px, 0))[..., :x.shape[-2], :x.shape[-1]]


def write_views(run_dir: Path, classifier, pixels: torch.Tensor, label: int | None, shift: int,
                device: torch.device) -> tuple[Path, list]:
    """Write RUN_DIR/views/chosen/ (swapped in whole); (the folder, the events written)."""
    from cnn_tui.contract.events import FeatureMaps
    from cnn_tui.insight.cam_view import CamView, Probe
    from cnn_tui.insight.feature_maps import capture, choose_layers, conv_layers, file_name, maps_picture
    from cnn_tui.insight.pictures import grid, write_png

    model = classifier.model.to(device).eval()
    mean, std = classifier.mean.to(device), classifier.std.to(device)
    x = ((pixels.to(device).float() / 255 - mean.view(-1, 1, 1)) / std.view(-1, 1, 1))[None]
    moved = shifted(x, shift)
    views = run_dir / "views"
    views.mkdir(exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{CHOSEN}-{os.getpid()}-", dir=views))  # whose: see _leftovers
    os.chmod(staging, DIR_MODE)  # mkdtemp's 0700 would hide the pictures from the other readers of the run
    folder = Path("views") / CHOSEN  # what the events name, relative to the run dir
    try:
        events: list = []
        write_png(pixels, staging / "probe.png")
        cams = CamView().event(model, [Probe("probe", x[0], label), Probe("shifted", moved[0], label)],
                               classifier.class_names, staging, Path(), 0, 0, mean, std)
        events.append(dataclasses.replace(cams, pictures=[{**p, "path": str(folder / p["path"])}
                                                          for p in cams.pictures]))
        layers = choose_layers(model, "auto") if conv_layers(model) else []
        seen, predicted = capture(model, x, layers)
        seen_moved, _ = capture(model, moved, layers[:1])
        maps = []
        for name in layers:
            if name in seen:
                write_png(maps_picture(seen[name], 16), staging / f"{file_name(name)}.png")
                maps.append({"name": name, "path": str(folder / f"{file_name(name)}.png"),
                             "shown": min(16, len(seen[name])), "channels": len(seen[name]),
                             "size": list(seen[name].shape[1:])})
        names = classifier.class_names
        events.append(FeatureMaps(epoch=0, step=0, input=str(folder / "probe.png"),
                                  label=names[label] if label is not None else "", predicted=names[predicted],
                                  layers=maps))
        from cnn_tui.insight.cam_view import pixels as to_pixels

        pair = [to_pixels(x[0], mean, std), to_pixels(moved[0], mean, std)]
        if layers and layers[0] in seen_moved:
            first = [maps_picture(seen[layers[0]], 4), maps_picture(seen_moved[layers[0]], 4)]
            first = [_resized(m, pair[0].shape[-1]).expand(pair[0].shape[0], -1, -1) for m in first]
            pair += first
        side = pair[0].shape[-1]
        scale = max(1, -(-64 // side))  # at least 64 px a tile, as the heat overlays
        tiles = torch.stack(pair).repeat_interleave(scale, 2).repeat_interleave(scale, 3)
        write_png(grid(tiles, columns=2), staging / "shift.png")
        if layers:
            from cnn_tui.insight.dream import wants_picture

            drawn = wants_picture(model, layers[-1], tuple(x.shape[1:]), mean, std)
            assert drawn is not None  # no time limit here
            wants, channels = drawn
            name = f"wants-{file_name(layers[-1])}.png"
            write_png(wants, staging / name)
            events[-1] = dataclasses.replace(events[-1], wants=[{"name": layers[-1], "path": str(folder / name),
                                                                 "channels": channels}])
        space = _feature_space(run_dir, classifier, model, staging, mean, std)
        events.append(dataclasses.replace(space, path=str(folder / space.path) if space.path else "",
                                          tsne=str(folder / space.tsne) if space.tsne else ""))
        with open(staging / "events.jsonl", "w") as handle:
            handle.writelines(event.to_json() + "\n" for event in events)
        _swap(staging, views / CHOSEN)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return views / CHOSEN, events


def _feature_space(run_dir: Path, classifier, model, staging: Path, mean: torch.Tensor, std: torch.Tensor):
    """The validation set's feature space, by PCA and t-SNE (embedding.finished_run); a note, not an
    error, where the run's validation data cannot be loaded (the probe may be the user's own file)."""
    from cnn_tui.contract.events import Embedding
    from cnn_tui.data.images import load_image
    from cnn_tui.insight.embedding import MAX_POINTS, finished_run

    try:
        val = _validation(run_dir, classifier)
    except UsageError as exc:
        return Embedding(epoch=0, step=0, note=f"no feature space: {str(exc).split(': ', 1)[-1]}")
    labels = val.y[:MAX_POINTS]
    if val.x is not None:
        pixels = val.x[:MAX_POINTS]
    else:
        assert val.files is not None
        read, kept = [], []
        for i, name in enumerate(val.files[:MAX_POINTS]):
            try:
                read.append(_fit(torch.from_numpy(load_image(Path(name), classifier.image_size,
                                                             classifier.grayscale)), classifier))
                kept.append(i)
            except (OSError, ValueError):  # a file gone or spoilt since the run: left out
                continue
        if not read:
            return Embedding(epoch=0, step=0, note="no feature space: none of the run's validation files can be read")
        pixels, labels = torch.stack(read), labels[kept]
    x = (pixels.to(mean.device).float() / 255 - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    return finished_run(model, x, labels, classifier.class_names, staging, Path())


def _resized(picture: torch.Tensor, side: int) -> torch.Tensor:
    return F.interpolate(picture[None].float(), size=(side, side), mode="nearest")[0].to(torch.uint8)


def _swap(staging: Path, target: Path) -> None:
    """Put `staging` in place of `target` whole. Two `views` on one run (two shells, the dashboard's
    N) take turns under a lock on the parent folder (no lock file left behind): unlocked, one's rename
    met the other's new folder (ENOTEMPTY, a traceback). The last one wins; the leftovers of killed
    ones go here too."""
    import fcntl
    import uuid

    lock = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process dies
        for leftover in _leftovers(target):
            shutil.rmtree(leftover, ignore_errors=True)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}-old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            os.replace(target, old)
        os.replace(staging, target)
    finally:
        os.close(lock)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _leftovers(target: Path) -> list[Path]:
    """What killed `views` processes left beside `target`: staging and old folders named with a pid
    that no longer runs (a SIGKILL mid-write, a full disk's crash)."""
    found = []
    for path in target.parent.glob(f".{target.name}-*"):
        pid = path.name[len(target.name) + 2:].removeprefix("old-").split("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            found.append(path)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def cmd_views(args, say: Callable[[str], None]) -> int:
    from cnn_tui.engine.predict import from_run
    from cnn_tui.train.device import pick_device

    chosen = [flag for flag, value in (("--image", args.image), ("--index", args.index), ("--class", args.class_name))
              if value is not None]
    if len(chosen) > 1:
        raise UsageError(f"views: {' and '.join(chosen)} both choose the probe; give one of them")
    run_dir = args.run_dir
    classifier = from_run(run_dir, purpose="draw views of", trust=args.trust, say=say)
    if not 1 <= args.shift < classifier.image_size // 2:
        raise UsageError(f"--shift {args.shift}: the shift is 1..{classifier.image_size // 2 - 1} px for "
                         f"{classifier.image_size} px images")
    pixels, label, source = probe_image(run_dir, classifier, args.image, args.index, args.class_name)
    folder, events = write_views(run_dir, classifier, pixels, label, args.shift, pick_device(args.device))
    cams, maps = events[0], events[1]
    truth = f", true class {maps.label}" if maps.label else ""
    print(f"{source}: predicted {maps.predicted}{truth} ({classifier.source})")
    if cams.note:
        print(cams.note)
    else:
        after = cams.pictures[1]["predicted"]
        print(f"shifted {args.shift} px: predicted {after}" + (" (the same)" if after == maps.predicted else
                                                               " (changed: the network is not shift-invariant here)"))
    print(f"views written to {folder}: probe.png, gradcam-probe.png, gradcam-shifted.png, shift.png"
          + (f", {len(maps.layers)} feature-map grids, what {maps.layers[-1]['name']}'s first channels want to "
             f"see (wants-*.png)" if maps.layers else "")
          + (", the validation set's feature space (embedding.png, embedding-tsne.png)" if events[-1].tsne else ""))
    space = events[-1]
    if space.note or space.tsne_note:
        print(space.note or space.tsne_note)
    return 0
