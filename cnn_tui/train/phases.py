"""The phases of a run (one for most recipes; feature extraction then fine-tuning for a transfer
recipe) and what each one trains with: which layers are trainable, the optimizer, the learning-rate
schedule and the loss scaler. Entering a phase builds its optimizer and schedule afresh; a
checkpoint holds the current phase's, so a resume enters the saved phase first and then loads them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.events import Event, Log, PhaseChanged
from cnn_tui.engine.world import World
from cnn_tui.models.plan import PhasePlan
from cnn_tui.models.transfer import TransferNet
from cnn_tui.train.gradstats import GradientStats
from cnn_tui.train.optim import build_optimizer
from cnn_tui.train.schedule import LRSchedule


class Phases:
    def __init__(self, plans: Sequence[PhasePlan], model: nn.Module, world: World, device: torch.device,
                 steps_per_epoch: int, loss_scaling: bool, grad_stats: GradientStats | None,
                 emit: Callable[[Event], None]) -> None:
        self.plans, self.model, self.world, self.device = list(plans), model, world, device
        self.steps_per_epoch, self.grad_stats, self.emit = steps_per_epoch, grad_stats, emit
        # fp16 needs its loss scaled (bf16 and fp32 do not): GradScaler on the run's own device type
        self.scaler = torch.amp.GradScaler(device.type, enabled=loss_scaling)
        self.index, self.start_step = -1, 0
        self.forward_model: nn.Module = model  # what training steps call: DDP-wrapped when distributed
        self.optimizer: torch.optim.Optimizer
        self.schedule: LRSchedule
        self.enter(0, step=0, epoch=0, announce=False)

    @property
    def plan(self) -> PhasePlan:
        return self.plans[self.index]

    def for_epoch(self, epoch: int) -> int:
        """The index of the phase that epoch `epoch` (counted from 0) belongs to."""
        end = 0
        for index, phase in enumerate(self.plans):
            end += phase.epochs
            if epoch < end:
                return index
        return len(self.plans) - 1

    def enter(self, index: int, step: int, epoch: int, announce: bool = True) -> None:
        """Set trainability, and build the phase's optimizer and schedule."""
        phase = self.plans[index]
        unfrozen: list[str] = []
        transfer = self.model if isinstance(self.model, TransferNet) else None  # a base and a new head
        if phase.unfreeze is not None and transfer is not None:
            unfrozen = transfer.set_trainable(phase.unfreeze)
        params: Any
        if transfer is not None:
            params = transfer.param_groups(phase.optimizer.lr, phase.base_lr_factor)
        else:
            params = self.model.parameters()
        self.optimizer = build_optimizer(phase.optimizer, params)
        self.forward_model = self.world.wrap(self.model, self.device)  # DDP hooks only this phase's trainable ones
        self.schedule = LRSchedule(phase.schedule, self.steps_per_epoch, phase.epochs)
        self.index, self.start_step = index, step
        if self.grad_stats is not None:
            self.grad_stats.refresh(self.model)
        if announce:
            trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
            self.emit(PhaseChanged(index=index, name=phase.name, epoch=epoch, step=step,
                                   unfrozen=unfrozen, trainable_params=trainable, lr=phase.optimizer.lr))
            self.emit(Log(level="info", message=f"phase {index + 1}/{len(self.plans)} '{phase.name}': "
                          + (f"unfroze {', '.join(unfrozen)}; " if unfrozen else "base frozen; ")
                          + f"{trainable:,} trainable parameters, lr {phase.optimizer.lr:g}"))

    def lr_at(self, step: int) -> float:
        """Set the learning rate of step `step` (counted over the run); returns the first group's."""
        return self.schedule.apply(self.optimizer, step - self.start_step)

    @property
    def lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    def epoch_end(self, val_loss: float) -> None:
        """Reduce-on-plateau: said when it lowers this phase's learning rate."""
        if self.schedule.epoch_end(val_loss):
            reduced = self.schedule.plateau_scale * self.plan.optimizer.lr
            self.emit(Log(level="info", message=f"validation loss plateaued: learning rate reduced to {reduced:.3g}"))

    # ---------------------------------------------------------------- state
    def state_dict(self) -> dict[str, Any]:
        return {"index": self.index, "start_step": self.start_step, "optimizer": self.optimizer.state_dict(),
                "scaler": self.scaler.state_dict(), "schedule": self.schedule.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.enter(state["index"], step=state["start_step"], epoch=0, announce=False)  # the optimizer saved is its
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.schedule.load_state_dict(state["schedule"])
