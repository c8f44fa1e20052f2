"""The training loop's parts on their own, without a recipe run: each keeps its state, and its
state_dict puts it back; the guard ends a loop the same way whichever loop it serves."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn

from cnn_tui.contract.errors import WriteError
from cnn_tui.contract.events import Diagnosis
from cnn_tui.engine.world import World
from cnn_tui.models.plan import PhasePlan
from cnn_tui.train.checkpoint import CheckpointError
from cnn_tui.train.checkpoint_format import FORMAT, upgrade
from cnn_tui.train.control import RunControl
from cnn_tui.train.guard import Ending, Guard
from cnn_tui.train.health import Health
from cnn_tui.train.keeper import BestKeeper
from cnn_tui.train.phases import Phases
from cnn_tui.train.totals import Totals

CPU = torch.device("cpu")


def test_totals_sum_on_the_device_and_come_back_from_their_state():
    totals = Totals(CPU)
    totals.add(torch.tensor(6.0, dtype=torch.float64), torch.tensor(3), 4.0)
    totals.add(torch.tensor(2.0, dtype=torch.float64), torch.tensor(1), 4.0)
    assert totals.read_window(World()) == (1.0, 0.5)
    assert totals.read_window(World()) == (0.0, 0.0)  # a tick starts a new window, not a new epoch
    totals.step, totals.batch = 2, 2
    metrics = totals.end_epoch(World(), {"val/loss": 0.7})
    assert metrics == {"train/loss": 1.0, "train/acc": 0.5, "val/loss": 0.7}
    assert (totals.epoch, totals.batch, totals.metrics_of(1), totals.metrics_of(2)) == (1, 0, metrics, {})
    again = Totals(CPU)
    again.load_state_dict(totals.state_dict())
    assert (again.epoch, again.step, again.history) == (1, 2, [metrics])


def test_totals_resumed_on_fewer_processes_hand_rank_0_every_rank_s_sums():
    ranks = []
    for loss in (1.0, 2.0):
        part = Totals(CPU)
        part.add(torch.tensor(loss, dtype=torch.float64), torch.tensor(1), 2.0)
        ranks.append(part.rank_state())
    one = Totals(CPU)
    one.load_rank_states(ranks, World())
    assert one.sums["loss"].item() == 3.0 and one.sums["count"].item() == 4.0


def _phases(plans, model):
    return Phases(plans, model, World(), CPU, steps_per_epoch=4, loss_scaling=False, grad_stats=None,
                  emit=lambda _e: None)


def test_phases_pick_the_phase_of_an_epoch_and_resume_its_optimizer(load_tiny):
    train = load_tiny("train.schedule.name=constant").train
    plans = [PhasePlan("a", 2, train.optimizer, train.schedule), PhasePlan("b", 3, train.optimizer, train.schedule)]
    model = nn.Linear(3, 2)
    phases = _phases(plans, model)
    assert [phases.for_epoch(e) for e in range(6)] == [0, 0, 1, 1, 1, 1]
    phases.enter(1, step=8, epoch=2)
    assert phases.lr_at(8) < phases.lr_at(12) == pytest.approx(train.optimizer.lr)  # warmup from the phase's start
    model(torch.ones(1, 3)).sum().backward()
    phases.optimizer.step()
    state = copy.deepcopy(phases.state_dict())
    other = _phases(plans, nn.Linear(3, 2))
    other.load_state_dict(state)
    assert (other.index, other.start_step) == (1, 8)
    mine, theirs = other.optimizer.state_dict(), phases.optimizer.state_dict()
    assert mine["param_groups"] == theirs["param_groups"] and mine["state"].keys() == theirs["state"].keys() != set()


def test_the_keeper_knows_the_best_epoch_stops_and_restores_it(load_tiny):
    cfg = load_tiny("train.early_stopping.enabled=true", "train.early_stopping.patience=2",
                    "train.early_stopping.restore_best=true", "train.early_stopping.monitor=val/loss",
                    "train.early_stopping.mode=min").train
    model = nn.Linear(2, 1)
    keeper = BestKeeper(cfg)
    best_weight = model.weight.detach().clone()
    assert keeper.update({"val/acc": 0.5, "val/loss": 1.0}, 1, model)
    with torch.no_grad():
        model.weight.add_(1.0)
    keeper.update({"val/acc": 0.4, "val/loss": 2.0}, 2, model)
    assert not keeper.stop_now
    keeper.update({"val/acc": 0.4, "val/loss": 2.0}, 3, model)
    assert keeper.stop_now and keeper.best_epoch == 1 and "has not improved for 2 epochs" in keeper.stop_message(cfg)
    again = BestKeeper(cfg)
    again.load_state_dict(keeper.state_dict())
    assert again.restore(model) == 1 and torch.equal(model.weight, best_weight)
    assert again.restored_epoch("early_stopped") == 1 and again.restored_epoch("completed") is None


def test_health_ticks_and_reports_findings_as_diagnoses(load_tiny):
    events = []
    health = Health(load_tiny(), nn.Sequential(nn.Conv2d(3, 4, 3)), ["a", "b", "c"], None, events.append)
    assert [health.is_tick(s) for s in range(6)] == [False, False, True, False, False, True]  # every 3rd step
    [nan] = health.diverged(step=7, epoch=1, lr=0.1)
    assert nan.code == "nan" and nan.step == 7 and health.diverged(8, 1, 0.1) == []  # said once
    restored = Health(load_tiny(), nn.Sequential(nn.Conv2d(3, 4, 3)), ["a", "b", "c"], None, events.append)
    restored.load_state_dict(health.state_dict())
    assert restored.diverged(9, 1, 0.1) == []  # the memory of what was said travels with the checkpoint


@pytest.mark.parametrize("error, said", [
    (torch.cuda.OutOfMemoryError("CUDA out of memory"), "the loop's advice"),
    (CheckpointError("last.pt: could not write the checkpoint (No space left on device)"), "No space left"),
    (WriteError("events.jsonl: could not write events"), "could not write events"),
    (ValueError("shapes do not match"), "ValueError: shapes do not match"),
])
def test_the_guard_turns_a_crash_into_a_failed_ending(error, said):
    events = []

    def loop() -> Ending:
        raise error

    ending = Guard(events.append, RunControl()).run(loop, "the loop's advice")
    assert ending.status == "failed" and said in ending.reason
    assert any("Traceback" in e.message for e in events) == isinstance(error, ValueError)  # only a real crash


def test_the_guard_saves_before_it_says_interrupted_and_diagnoses_before_diverged():
    order = []
    control = RunControl()
    control.request_stop("stopped from the dashboard")
    guard = Guard(lambda e: order.append(e.code), control)
    ending = guard.interrupted(lambda reason: order.append(f"save {reason}"))
    assert ending == Ending("interrupted", "stopped from the dashboard") and order == ["save interrupt"]
    nan = Diagnosis(code="nan", severity="error", message="m", step=1, epoch=0)
    ending = guard.diverged("the loss became NaN", [nan])
    assert ending.status == "diverged" and order[-1] == "nan"


def test_a_format_1_checkpoint_is_read_into_the_parts_layout():
    old = {"format": 1, "model": {"w": torch.ones(1)}, "optimizer": {"o": 1}, "scaler": {}, "schedule": {"s": 1},
           "best": {"best": 0.5, "best_epoch": 1, "bad_epochs": 0}, "early": None, "diagnoser": {"fired": []},
           "position": {"epoch": 1, "batch": 2, "step": 6}, "history": [{"val/acc": 0.5}],
           "rng_cpu": torch.get_rng_state(), "sums": {}, "window": {}, "elapsed": 3.0, "inference": {"c": 1},
           "world_size": 1, "best_weights": {"w": torch.zeros(1)}}  # what train/resume_state.py wrote
    new = upgrade(old)
    assert new["format"] == FORMAT and new["streams"] == 1 and new["position"]["history"] == [{"val/acc": 0.5}]
    assert new["phases"]["index"] == 0 and new["phases"]["optimizer"] == {"o": 1}  # before phases: the first
    assert new["best"]["weights"] is old["best_weights"] and new["ranks"][0]["rng_cpu"] is old["rng_cpu"]
    assert upgrade(new) is new
