"""The loop: a step lowers the loss, early stopping, checkpoints, gradient stats, resume, NaN."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cnn_tui.contract.sinks import CallbackSink
from cnn_tui.data.batches import TensorBatches
from cnn_tui.models.build import build_model
from cnn_tui.record.rundir import read_events, read_summary
from cnn_tui.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from cnn_tui.train.control import RunControl
from cnn_tui.train.gradstats import GradientStats
from cnn_tui.train.trainer import Trainer
from tests.helpers import of_type, run_collect, run_paused_from_the_start


def make_trainer(recipe, events=None):
    torch.manual_seed(0)
    x = torch.randint(0, 256, (32, 3, 16, 16), dtype=torch.uint8)
    y = torch.arange(32) % 3
    model = build_model(recipe.model, 3, 16, 3)
    mean, std = torch.zeros(3), torch.ones(3)
    train = TensorBatches(x, y, 16, mean, std, torch.device("cpu"), train=True)
    val = TensorBatches(x, y, 16, mean, std, torch.device("cpu"), train=False)
    sink = CallbackSink((events if events is not None else []).append)
    return Trainer(recipe, model, train, val, torch.device("cpu"), sink, RunControl(), None, 3), x, y


def test_one_step_lowers_the_loss_on_a_fixed_batch(load_tiny):
    trainer, x, y = make_trainer(load_tiny("model.dropout=0", "train.schedule.name=constant"))
    inputs = x.float() / 255
    before = F.cross_entropy(trainer.model(inputs), y).item()
    trainer._train_step(inputs, y, grad_tick=False)
    after = F.cross_entropy(trainer.model(inputs), y).item()
    assert after < before
    assert trainer.step == 1


def test_gradient_stats_match_a_direct_computation(load_tiny):
    recipe = load_tiny("train.optimizer.name=adam", "train.optimizer.lr=0.01")
    trainer, x, y = make_trainer(recipe)
    stats = GradientStats(trainer.model)
    loss = F.cross_entropy(trainer.model(x.float() / 255), y)
    trainer.phases.optimizer.zero_grad()
    loss.backward()
    layers = {name: list(m.parameters(recurse=False)) for name, m in trainer.model.named_modules()
              if list(m.parameters(recurse=False))}
    expected_norm = {n: torch.sqrt(sum(p.grad.pow(2).sum() for p in ps)).item() for n, ps in layers.items()}
    before = {n: [p.detach().clone() for p in ps] for n, ps in layers.items()}
    stats.before_step()
    trainer.phases.optimizer.step()
    norms, ratios = stats.after_step()
    assert list(norms) == list(layers) == stats.layers
    for name, params in layers.items():
        delta = torch.sqrt(sum((p - b).pow(2).sum() for p, b in zip(params, before[name])))
        weight = torch.sqrt(sum(p.pow(2).sum() for p in params))
        assert norms[name] == pytest.approx(expected_norm[name], rel=1e-5)
        assert ratios[name] == pytest.approx((delta / weight).item(), rel=1e-4)


def test_gradient_stats_skip_frozen_layers(load_tiny):
    trainer, x, y = make_trainer(load_tiny())
    for p in trainer.model.conv1_1.parameters():
        p.requires_grad_(False)
    stats = GradientStats(trainer.model)
    F.cross_entropy(trainer.model(x.float() / 255), y).backward()
    stats.before_step()
    norms, _ = stats.after_step()
    assert "conv1_1" not in norms and "classifier" in norms


def test_early_stopping_stops_and_restores_the_best_weights(load_tiny, tmp_path):
    # train/loss in "max" mode never improves after epoch 1, so patience 2 stops after epoch 3
    recipe = load_tiny("train.epochs=10", "train.early_stopping.enabled=true",
                       "train.early_stopping.monitor=train/loss", "train.early_stopping.mode=max",
                       "train.early_stopping.patience=2")
    result, events = run_collect(recipe, tmp_path)
    assert result.status == "early_stopped" and result.exit_code == 0
    assert len(of_type(events, "epoch")) == 3
    assert any(d.code == "early_stopped" for d in of_type(events, "diagnosis"))
    state = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    for key, value in state["best"]["weights"].items():
        assert torch.equal(state["model"][key], value)
    assert read_summary(result.run_dir)["status"] == "early_stopped"


def test_checkpoint_round_trip_and_atomic_failure(load_tiny, tmp_path):
    trainer, x, y = make_trainer(load_tiny())
    trainer._train_step(x.float() / 255, y, grad_tick=False)
    path = tmp_path / "ckpt" / "last.pt"
    save_checkpoint(path, trainer.state_dict())
    clone, _, _ = make_trainer(load_tiny())
    clone.load_state_dict(load_checkpoint(path))
    assert clone.step == 1
    for (k, a), (_, b) in zip(trainer.model.state_dict().items(), clone.model.state_dict().items()):
        assert torch.equal(a, b), k
    assert clone.phases.optimizer.state_dict()["state"].keys() == trainer.phases.optimizer.state_dict()["state"].keys()
    good = path.read_bytes()

    class Unsaveable:
        def __reduce__(self):
            raise OSError("No space left on device")

    with pytest.raises(CheckpointError, match="the previous checkpoint is kept"):
        save_checkpoint(path, {"bad": Unsaveable()})
    assert path.read_bytes() == good
    assert sorted(p.name for p in path.parent.iterdir()) == ["last.pt"]  # no temp file left


def test_checkpoints_refuse_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"

    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="not a readable cnn-tui checkpoint"):
        load_checkpoint(path)


def test_run_directory_is_complete(load_tiny, tmp_path):
    result, events = run_collect(load_tiny(), tmp_path)
    assert result.status == "completed"
    run = result.run_dir
    assert {p.name for p in run.iterdir()} == {"recipe.yaml", "events.jsonl", "summary.json", "checkpoints", "views",
                                               ".lock", "owner.json", "heartbeat.json"}  # who wrote it, how it ended
    assert {p.name for p in (run / "checkpoints").iterdir()} == {"last.pt", "best.pt"}
    assert {p.name for p in (run / "views").iterdir()} == {"probe.png", "epoch-001", "epoch-002", "epoch-003"}
    assert [e.type for e in read_events(run)] == [e.type for e in events]
    summary = read_summary(run)
    assert summary["status"] == "completed" and summary["epochs_completed"] == 3
    assert summary["best"]["val/acc"] == max(e.metrics["val/acc"] for e in of_type(events, "epoch"))
    kinds = {e.type for e in events}
    assert {"run_started", "step", "gradients", "epoch", "checkpoint", "finished"} <= kinds
    for event in of_type(events, "epoch"):
        assert set(event.metrics) == {"train/loss", "train/acc", "val/loss", "val/acc", "lr"}


def test_interrupted_and_resumed_equals_uninterrupted(load_tiny, tmp_path):
    recipe = load_tiny("model.dropout=0.3", "data.augment.hflip=true", "data.augment.crop_padding=2")
    full, full_events = run_collect(recipe, tmp_path / "a")
    control = RunControl()

    def stop_mid_epoch(event):
        if event.type == "step" and event.step >= 8:  # 6 steps per epoch: inside epoch 2
            control.request_stop("test")

    part, part_events = run_collect(recipe, tmp_path / "b", control=control, on_event=stop_mid_epoch)
    assert part.status == "interrupted" and part.exit_code == 130
    assert read_summary(part.run_dir)["status"] == "interrupted"
    resumed, resumed_events = run_collect(recipe, tmp_path / "b", resume=part.run_dir)
    assert resumed.status == "completed" and resumed.run_dir == part.run_dir
    start = of_type(resumed_events, "run_started")[0]
    assert start.resumed and start.start_step == 8
    epochs = lambda evs: [(e.epoch, e.step, e.metrics) for e in of_type(evs, "epoch")]  # noqa: E731
    assert epochs(part_events) + epochs(resumed_events) == epochs(full_events)
    steps = lambda evs: [(e.step, e.metrics) for e in of_type(evs, "step")]  # noqa: E731
    assert steps(part_events) + steps(resumed_events) == steps(full_events)
    a = load_checkpoint(full.run_dir / "checkpoints" / "last.pt")["model"]
    b = load_checkpoint(part.run_dir / "checkpoints" / "last.pt")["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_nan_loss_stops_as_diverged_and_keeps_the_last_good_checkpoint(load_tiny, tmp_path):
    control = RunControl()
    recipe = load_tiny("train.epochs=3")
    import cnn_tui.train.trainer as trainer_module

    original = trainer_module.Trainer._train_step

    def poisoned(self, x, y, grad_tick):
        if self.step >= 8:
            x = x * float("nan")
        return original(self, x, y, grad_tick)

    trainer_module.Trainer._train_step = poisoned
    try:
        result, events = run_collect(recipe, tmp_path, control=control)
    finally:
        trainer_module.Trainer._train_step = original
    assert result.status == "diverged" and result.exit_code == 1
    assert any(d.code == "nan" and d.severity == "error" for d in of_type(events, "diagnosis"))
    last = load_checkpoint(result.run_dir / "checkpoints" / "last.pt")
    assert last["position"]["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last["model"].values() if v.is_floating_point())
    assert read_summary(result.run_dir)["status"] == "diverged"


@pytest.mark.timeout(180)
def test_pause_and_resume_from_the_control(load_tiny, tmp_path):
    """Paused before the first step: no step until resumed, then every step (tests/helpers.py)."""
    result, events = run_paused_from_the_start(load_tiny(), tmp_path, "step")
    assert result.status == "completed" and of_type(events, "finished")[0].step == 18  # 3 epochs of 6


def test_lr_schedules():
    from cnn_tui.recipes.train_schema import Schedule
    from cnn_tui.train.schedule import LRSchedule

    cosine = LRSchedule(Schedule(name="cosine", warmup_epochs=1), steps_per_epoch=10, epochs=5)
    assert cosine.factor(0) == pytest.approx(0.1) and cosine.factor(10) == pytest.approx(1.0)
    assert cosine.factor(30) == pytest.approx(0.5) and cosine.factor(50) == pytest.approx(0.0)
    step = LRSchedule(Schedule(name="step", step_epochs=2, gamma=0.5), steps_per_epoch=10, epochs=6)
    assert [step.factor(s) for s in (0, 19, 20, 45)] == [1.0, 1.0, 0.5, 0.25]
    onecycle = LRSchedule(Schedule(name="onecycle"), steps_per_epoch=10, epochs=10)
    assert onecycle.factor(0) == pytest.approx(1 / 25) and onecycle.factor(30) == pytest.approx(1.0)
    plateau = LRSchedule(Schedule(name="plateau", patience=1, factor=0.5), steps_per_epoch=10, epochs=9)
    decays = [plateau.epoch_end(v) for v in (1.0, 0.9, 0.95, 0.96, 0.97)]
    assert decays == [False, False, False, True, False] and plateau.plateau_scale == 0.5
    assert not math.isnan(plateau.factor(5))


@pytest.mark.parametrize("kind", ["scratch", "style_transfer"])
def test_summary_is_written_before_the_finished_event(load_tiny, tmp_path, kind):
    """The dashboard's runs list reads summary.json as soon as it sees `finished`: it must be there."""
    from cnn_tui.engine.runner import RunOptions, execute
    from cnn_tui.recipes.loader import load_recipe

    seen = {}

    def on_event(event):
        if event.type in ("run_started", "style_started"):
            seen["dir"] = tmp_path / event.run_id
        if event.type == "finished":
            seen["summary"] = read_summary(seen["dir"])

    if kind == "scratch":
        recipe = load_tiny()
    else:
        recipe, _ = load_recipe("style_transfer_random_net", ["image_size=48", "steps=2", "multiscale.levels=1",
                                                               "content_layers=[relu3_1]",
                                                               "style_layers=[relu1_1,relu2_1]"])
    result = execute(recipe, RunOptions(out=tmp_path), CallbackSink(on_event))
    assert seen["summary"] is not None and seen["summary"] == read_summary(result.run_dir)
    finished = [e for e in read_events(result.run_dir) if e.type == "finished"][0]
    assert finished.wall_seconds == seen["summary"]["wall_seconds"]  # one number, not two measurements
