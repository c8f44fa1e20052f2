"""A recipe made ready for a short preflight loop: the model, its training batches and one
phase's optimizer, exactly as a run of the recipe would build them, plus one training step.

The model, data and batches come from the classification engine's `prepare` (the same code a
run goes through), the phase's trainability and optimizer from the same helpers the trainer
uses (`TransferNet.set_trainable`/`param_groups`, `build_optimizer`); what is left here is the
step itself: forward, loss, backward, clip, step (with the run's mixed precision on CUDA).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.kinds import Kind, optimises_an_image


@dataclass
class PhaseSetup:
    """One phase of the recipe, ready to step: which lr the recipe gives it, and its optimizer."""

    index: int  # 0-based
    name: str
    lr: float  # the phase's (head's) learning rate in the recipe
    lr_field: str  # the recipe field that holds it, as --set names it (what --write changes)
    optimizer: torch.optim.Optimizer | None  # None: nothing trains
    trainable: int  # parameters that train in this phase


def refuse_image_kinds(recipe: Any, command: str) -> None:
    """Style transfer optimises the pixels of one image: no batches, no classifier, no lr to find."""
    if optimises_an_image(recipe.kind):
        raise UsageError(f"{command}: a {recipe.kind} recipe optimises the pixels of one image, not a classifier "
                         "over batches of a dataset, so there is nothing here to check; use it on a scratch, "
                         "feature_extraction or fine_tuning recipe")


class Session:
    """The recipe's model and training batches on `device`, and a training step."""

    def __init__(self, recipe: Any, device: torch.device) -> None:
        from cnn_tui.engine.world import World
        from cnn_tui.train.device import amp_dtype
        from cnn_tui.train.kind import ClassificationKind

        self.recipe, self.device = recipe, device
        torch.manual_seed(recipe.seed)  # the run's initial weights
        self.prepared = ClassificationKind().prepare(recipe, device, False, World())
        self.model: nn.Module = self.prepared.model
        self.train = self.prepared.train
        self.phases = self.prepared.plan.phases
        self.amp = amp_dtype(device, recipe.train.amp)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp == torch.float16)
        self.clip = recipe.train.grad_clip

    # ------------------------------------------------------------------ data
    @property
    def num_train(self) -> int:
        return int(self.train.num_samples)

    def batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Training batches in the run's order and augmentation, epoch after epoch, for ever
        (a split smaller than one batch gives that one short batch each epoch)."""
        epoch = 0
        while True:
            given = 0
            for x, y in self.train.epoch(epoch):
                if len(y):
                    given += 1
                    yield x, y
            if not given:
                raise UsageError("data: no training image could be read (every file of an epoch was skipped)")
            epoch += 1

    # ------------------------------------------------------------------ phases
    def phase(self, index: int) -> PhaseSetup:
        """Trainability and optimizer of phase `index` (0-based), as the trainer sets them. For a
        later fine-tuning phase the blocks are unfrozen as that phase says; the weights are the
        recipe's starting weights (a run would have trained the head in the earlier phases)."""
        from cnn_tui.models.transfer import TransferNet
        from cnn_tui.train.optim import build_optimizer

        if not 0 <= index < len(self.phases):
            raise UsageError(f"--phase {index + 1}: the recipe has {len(self.phases)} phase(s); "
                             f"allowed: 1..{len(self.phases)}")
        phase = self.phases[index]
        transfer = self.model if isinstance(self.model, TransferNet) else None
        params: Any = self.model.parameters()
        if transfer is not None:
            if phase.unfreeze is not None:
                transfer.set_trainable(phase.unfreeze)
            params = transfer.param_groups(phase.optimizer.lr, phase.base_lr_factor)
        trainable = sum(p.numel() for p in self.model.parameters() if p.requires_grad)
        optimizer = build_optimizer(phase.optimizer, params) if trainable else None  # torch refuses no parameters
        lr_field = (f"phases[{index}].optimizer.lr" if self.recipe.kind == Kind.FINE_TUNING
                    else "train.optimizer.lr")
        return PhaseSetup(index, phase.name, phase.optimizer.lr, lr_field, optimizer, trainable)

    # ------------------------------------------------------------------ one step
    def _autocast(self) -> Any:
        if self.amp is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp)

    def step(self, optimizer: torch.optim.Optimizer, criterion: nn.Module, x: torch.Tensor,
             y: torch.Tensor) -> tuple[float, float]:
        """One optimizer step on (x, y): (the loss before the step, the global gradient norm)."""
        self.model.train()
        with self._autocast():
            loss = criterion(self.model(x), y)
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        norm = float(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))) \
            if grads else 0.0
        if self.clip:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.scaler.step(optimizer)
        self.scaler.update()
        return float(loss.detach()), norm

    # ------------------------------------------------------------------ weights
    def snapshot(self) -> dict[str, Any]:
        """The weights (buffers included) and the random state, to put back after a test."""
        return {"model": copy.deepcopy(self.model.state_dict()), "rng": torch.get_rng_state(),
                "trainable": [p.requires_grad for p in self.model.parameters()]}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.model.load_state_dict(snapshot["model"])
        torch.set_rng_state(snapshot["rng"])
        for p, flag in zip(self.model.parameters(), snapshot["trainable"]):
            p.requires_grad_(flag)
