"""The training loop's part of a recipe (`train:` and `log:`): optimizer, schedule, early stopping,
checkpoints, data-parallel processes, and what is logged how often. Units are in the comments."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from cnn_tui.recipes.strict import Strict

# ---------------------------------------------------------------- training

class Optimizer(Strict):
    name: Literal["sgd", "adam", "adamw", "rmsprop"] = "sgd"
    lr: float = Field(0.05, gt=0.0, le=10.0)  # peak learning rate
    momentum: float = Field(0.9, ge=0.0, lt=1.0)  # sgd, rmsprop
    nesterov: bool = True  # sgd
    weight_decay: float = Field(5e-4, ge=0.0, le=1.0)
    betas: tuple[float, float] = (0.9, 0.999)  # adam, adamw
    alpha: float = Field(0.99, gt=0.0, lt=1.0)  # rmsprop smoothing
    eps: float = Field(1e-8, gt=0.0)

    @field_validator("betas")
    @classmethod
    def _betas_range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not all(0.0 <= b < 1.0 for b in value):
            raise ValueError("betas must be two numbers in [0, 1)")
        return value


class Schedule(Strict):
    name: Literal["constant", "step", "cosine", "onecycle", "plateau"] = "cosine"
    warmup_epochs: float = Field(0.0, ge=0.0)  # linear warmup from lr/10, in epochs
    step_epochs: int = Field(10, ge=1)  # step: decay every this many epochs
    gamma: float = Field(0.1, gt=0.0, le=1.0)  # step: decay factor
    min_lr_ratio: float = Field(0.0, ge=0.0, le=1.0)  # cosine/onecycle: final lr / peak lr
    patience: int = Field(2, ge=0)  # plateau: epochs without improvement before decaying
    factor: float = Field(0.1, gt=0.0, lt=1.0)  # plateau: decay factor


class EarlyStopping(Strict):
    enabled: bool = False
    monitor: str = "val/loss"
    mode: Literal["min", "max"] = "min"
    patience: int = Field(5, ge=1)  # epochs without improvement
    min_delta: float = Field(0.0, ge=0.0)  # smallest change that counts as improvement
    restore_best: bool = True  # load the best weights when stopping

    @field_validator("monitor")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return _check_metric(value)


class Checkpoint(Strict):
    monitor: str = "val/acc"  # best.pt is saved when this improves
    mode: Literal["min", "max"] = "max"

    @field_validator("monitor")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        return _check_metric(value)


MONITORABLE = ("val/loss", "val/acc", "train/loss", "train/acc")


def _check_metric(value: str) -> str:
    if value not in MONITORABLE:
        raise ValueError(f"must be one of {', '.join(MONITORABLE)}")
    return value


class Distributed(Strict):
    """Data-parallel training on torch.distributed (launched through torchrun's own module)."""

    nproc: int = Field(1, ge=1, le=1024)  # worker processes on this node (1: no torch.distributed)
    backend: Literal["auto", "nccl", "gloo"] = "auto"  # auto: NCCL on CUDA, gloo on CPU
    sync_batchnorm: bool = False  # batch statistics over the global batch (torch.nn.SyncBatchNorm; CUDA only)
    timeout_s: int = Field(300, ge=10, le=86_400)  # seconds a collective may wait for a silent rank


class Train(Strict):
    epochs: int = Field(10, ge=1, le=100_000)
    batch_size: int = Field(64, ge=1, le=65_536)
    max_steps_per_epoch: int | None = Field(None, ge=1)  # cap batches per epoch (quick runs)
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    grad_clip: float | None = Field(None, gt=0.0)  # max global grad norm
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"  # mixed precision: auto on CUDA; bf16/fp16 on CPU too
    channels_last: bool = True  # memory format on CUDA
    compile: bool = False  # torch.compile the training forward: faster steps after a slow first (seconds to minutes)
    optimizer: Optimizer = Field(default_factory=Optimizer)
    schedule: Schedule = Field(default_factory=Schedule)
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)
    # data-parallel: every step's batch_size images are split among the processes (same steps, same lr)
    distributed: Distributed = Field(default_factory=Distributed)


class Logging(Strict):
    every_steps: int = Field(10, ge=1)  # step events (train loss, lr, images/s)
    grad_every_steps: int = Field(25, ge=0)  # per-layer gradient statistics (0: off)
    system_every_s: float = Field(2.0, ge=0.0)  # CPU, memory, GPU and data-wait samples, seconds apart (0: off)
