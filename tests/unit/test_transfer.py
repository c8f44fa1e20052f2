"""Transfer learning: freezing by phase, optimizer groups, the feature cache, backbones, resume."""

from __future__ import annotations

import pytest
import torch

from cnn_tui.contract.errors import RecipeError
from cnn_tui.models.backbones.registry import build_base
from cnn_tui.models.transfer import TransferNet
from cnn_tui.recipes.loader import load_recipe
from tests.helpers import of_type, run_collect

FINE_TUNING = """\
kind: fine_tuning
name: ft
seed: 1
backbone: {name: resnet18, weights: none}
head: {hidden: 8, dropout: 0.0}
data:
  dataset: shapes
  image_size: 32
  shapes: {num_train: 48, num_val: 16, classes: [circle, square]}
phases:
  - {name: head, epochs: 2, unfreeze: 0, optimizer: {name: sgd, lr: 0.05}}
  - {name: tune, epochs: 2, unfreeze: 1, base_lr_factor: 0.1, optimizer: {name: sgd, lr: 0.01}}
train: {batch_size: 16}
log: {every_steps: 1, grad_every_steps: 1}
"""

FEATURES = """\
kind: feature_extraction
name: fe
backbone: {name: efficientnet_lite0, weights: imagenet}
head: {hidden: 0, dropout: 0.0}
mode: precompute
cache_dir: CACHE
data:
  dataset: shapes
  image_size: 32
  shapes: {num_train: 40, num_val: 20, classes: [circle, square]}
train: {epochs: 2, batch_size: 10}
"""


def recipe_from(tmp_path, text, *overrides):
    path = tmp_path / "r.yaml"
    path.write_text(text.replace("CACHE", str(tmp_path / "cache")))
    return load_recipe(path, list(overrides))[0]


def test_frozen_weights_stay_and_unfrozen_ones_move_phase_by_phase(tmp_path, monkeypatch):
    from cnn_tui.train.phases import Phases

    snapshots = []
    original = Phases.enter

    def spy(self, index, step, epoch, announce=True):
        snapshots.append((index, {k: v.detach().clone() for k, v in self.model.state_dict().items()}))
        return original(self, index, step, epoch, announce)

    monkeypatch.setattr(Phases, "enter", spy)
    result, events = run_collect(recipe_from(tmp_path, FINE_TUNING), tmp_path / "runs")
    assert result.status == "completed"
    final = torch.load(result.run_dir / "checkpoints" / "last.pt", weights_only=True)["model"]
    start = snapshots[0][1]
    before_tune = next(s for i, s in snapshots if i == 1)

    def moved(a, b, prefix):
        keys = [k for k in a if k.startswith(prefix) and a[k].is_floating_point() and "running" not in k]
        return any(not torch.equal(a[k], b[k]) for k in keys), keys

    # phase 1: the head learns, the whole base stays as it was
    assert moved(start, before_tune, "head.")[0]
    assert not moved(start, before_tune, "base.")[0]
    # phase 2: layer4 (the last block) learns too; earlier blocks and BN statistics stay
    assert moved(before_tune, final, "base.blocks.layer4.")[0]
    assert not moved(before_tune, final, "base.blocks.layer3.")[0]
    assert not moved(before_tune, final, "base.blocks.stem.")[0]
    running = [k for k in final if "running_mean" in k and k.startswith("base.")]
    assert all(torch.equal(start[k], final[k]) for k in running)  # frozen BN statistics
    phases = of_type(events, "phase")
    assert [(p.index, p.name, p.unfrozen) for p in phases] == [(0, "head", []), (1, "tune", ["layer4"])]
    assert phases[1].step == 6 and phases[1].trainable_params > phases[0].trainable_params
    grads_before = of_type(events, "gradients")[0].norms
    grads_after = of_type(events, "gradients")[-1].norms
    assert not any(k.startswith("base.") for k in grads_before)
    assert any(k.startswith("base.blocks.layer4") for k in grads_after)


def test_optimizer_holds_only_trainable_parameters_with_group_rates():
    from cnn_tui.recipes.train_schema import Optimizer
    from cnn_tui.train.optim import build_optimizer

    net = TransferNet(build_base("resnet18", "none"), 3, 16, 0.5)
    net.set_trainable(2)
    optimizer = build_optimizer(Optimizer(name="rmsprop", lr=1e-3), net.param_groups(1e-3, 0.1))
    head, base = optimizer.param_groups
    assert head["lr"] == pytest.approx(1e-3) and base["lr"] == pytest.approx(1e-4)
    in_optimizer = {id(p) for g in optimizer.param_groups for p in g["params"]}
    trainable = {id(p) for p in net.parameters() if p.requires_grad}
    assert in_optimizer == trainable
    blocks = net.base.blocks
    expected = {id(p) for p in blocks.layer3.parameters()} | {id(p) for p in blocks.layer4.parameters()}
    assert {id(p) for p in base["params"]} == expected


def test_precompute_runs_the_base_once_per_image_and_reuses_the_cache(tmp_path, monkeypatch):
    from cnn_tui.models import transfer

    seen = {"images": 0}
    original = transfer.PooledBase.forward

    def counting(self, x):
        seen["images"] += len(x)
        return original(self, x)

    monkeypatch.setattr(transfer.PooledBase, "forward", counting)
    recipe = recipe_from(tmp_path, FEATURES)
    first, events = run_collect(recipe, tmp_path / "runs")
    assert first.status == "completed"
    # once per image, not per epoch (+1: the blank image the layer table is measured with)
    assert seen["images"] == 40 + 20 + 1
    assert any("ran the base once over 60 images" in e.message for e in of_type(events, "log"))
    second, events = run_collect(recipe, tmp_path / "runs")
    assert seen["images"] == 61 + 1  # the cache was used: only the layer table's blank image
    assert any("reused the cache" in e.message for e in of_type(events, "log"))
    assert second.summary["best"] == first.summary["best"]
    changed, _ = run_collect(recipe_from(tmp_path, FEATURES, "data.shapes.num_val=10"), tmp_path / "runs")
    assert seen["images"] == 62 + 50 + 1  # other data: another cache entry


def test_torchvision_backbone_with_no_weights_and_a_local_state_dict(tmp_path):
    import torchvision

    reference = torchvision.models.resnet18()
    base = build_base("resnet18", "none")
    fc = sum(p.numel() for p in reference.fc.parameters())
    assert sum(p.numel() for p in base.blocks.parameters()) == sum(p.numel() for p in reference.parameters()) - fc
    with torch.no_grad():
        reference.conv1.weight.fill_(0.5)
    path = tmp_path / "weights.pt"
    torch.save(reference.state_dict(), path)
    loaded = build_base("resnet18", str(path))
    assert torch.all(loaded.blocks.stem[0].weight == 0.5)
    torch.save({"nonsense": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(RecipeError, match="does not fit resnet18"):
        build_base("resnet18", str(tmp_path / "bad.pt"))
    with pytest.raises(RecipeError, match="no such file"):
        build_base("resnet18", str(tmp_path / "missing.pt"))


def test_offline_backbone_weights_load_completely_and_are_real():
    from skimage import data as skdata
    from torchvision.models import ResNet18_Weights

    from cnn_tui.models.backbones.efficientnet_lite import EfficientNetLite0, imagenet_weights_path

    net = EfficientNetLite0()
    result = net.load_state_dict(torch.load(imagenet_weights_path(), weights_only=True), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    cat = torch.from_numpy(skdata.chelsea()).permute(2, 0, 1).float()[None] / 255
    cat = torch.nn.functional.interpolate(cat, size=(224, 224), mode="bilinear", antialias=True)
    mean, std = torch.tensor([0.485, 0.456, 0.406]), torch.tensor([0.229, 0.224, 0.225])
    with torch.no_grad():
        top = net.eval()((cat - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)).argmax().item()
    assert "cat" in ResNet18_Weights.IMAGENET1K_V1.meta["categories"][top]


def test_resumed_fine_tuning_across_the_phase_change_equals_uninterrupted(tmp_path):
    from cnn_tui.train.control import RunControl

    recipe = recipe_from(tmp_path, FINE_TUNING)
    full, full_events = run_collect(recipe, tmp_path / "a")
    control = RunControl()

    def stop(event):
        if event.type == "step" and event.step >= 7:  # just after the phase change at step 6
            control.request_stop("test")

    part, part_events = run_collect(recipe, tmp_path / "b", control=control, on_event=stop)
    assert part.status == "interrupted"
    resumed, resumed_events = run_collect(recipe, tmp_path / "b", resume=part.run_dir)
    metrics = lambda evs: [e.metrics for e in of_type(evs, "epoch")]  # noqa: E731
    assert metrics(part_events) + metrics(resumed_events) == metrics(full_events)


def test_the_plateau_message_names_the_phase_learning_rate(tmp_path, monkeypatch):
    """Fine-tuning trains with each phase's optimizer: a plateau reduction in the second phase is
    reported from that phase's lr (0.01 -> 0.001), not from train.optimizer.lr (0.05 here)."""
    from cnn_tui.train.schedule import LRSchedule

    def plateaued(self, val_loss):  # every epoch plateaus: the message is what is under test
        self.plateau_scale *= 0.1
        return True

    monkeypatch.setattr(LRSchedule, "epoch_end", plateaued)
    path = tmp_path / "ft.yaml"
    path.write_text(FINE_TUNING.replace("epochs: 2, unfreeze: 1", "epochs: 1, unfreeze: 1")
                    .replace("epochs: 2, unfreeze: 0", "epochs: 1, unfreeze: 0"))
    recipe, _ = load_recipe(path)
    assert recipe.train.optimizer.lr != recipe.phases[1].optimizer.lr
    _, events = run_collect(recipe, tmp_path / "runs")
    messages = [e.message for e in of_type(events, "log") if "plateaued" in e.message]
    assert messages == ["validation loss plateaued: learning rate reduced to 0.005",
                        "validation loss plateaued: learning rate reduced to 0.001"], messages
