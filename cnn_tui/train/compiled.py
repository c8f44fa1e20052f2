"""`train.compile: true`: the training steps' forward through torch.compile (opt-in, issue 31).

Off by default: compiling costs seconds to minutes before the first step (inductor writes and builds
C++ on a CPU), which a short course run never wins back; a long run on a fixed model may. What
compiling cost is said once the second step starts: the first step's time (compiling included)
as a log line (`torch.compile: ...`), which the run's events keep and `cnn-tui show` prints.

Only the training forward is compiled (validation, pictures and Grad-CAM run the module as it is),
so checkpoints keep their usual keys and every view works as before; a gradient tick's step (the
activation-health hooks armed, which read values back to the host) runs as it is too: compiled, each
tick would recompile the graph and break it at the hook's `.item()`. A phase change (unfreezing a
backbone) wraps the model anew, and compiles anew. Where it cannot work (no C++ compiler for
inductor on a CPU, a Python dynamo does not support) the run is refused before anything is
written, in one line.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from cnn_tui.contract.errors import UsageError
from cnn_tui.contract.events import Event, Log
from cnn_tui.record.history import COMPILE_NOTE

CXX = ("c++", "g++", "clang++", "cl")  # what inductor's CPU code is built with


def refusal(device: torch.device) -> str | None:
    """Why `train.compile: true` cannot work here, or None."""
    from torch._dynamo.eval_frame import is_dynamo_supported

    if not is_dynamo_supported():
        import sys

        return f"torch {torch.__version__} has no torch.compile for Python {sys.version.split()[0]}"
    if device.type == "cpu" and not any(shutil.which(name) for name in CXX):
        return "torch.compile on a CPU builds C++ code, and no C++ compiler (c++, g++, clang++) is on PATH"
    return None


def check(recipe: Any, device: torch.device) -> None:
    """Before the run directory exists: UsageError (one line) if the recipe asks for compile where it cannot be."""
    if getattr(recipe.train, "compile", False):
        why = refusal(device)
        if why is not None:
            raise UsageError(f"train.compile: true: {why}; set train.compile: false")


class Compiled:
    """The trainer's view of the forward it calls: the module itself, or its compiled version (one per
    module: a phase change's new DDP wrap compiles anew)."""

    def __init__(self, enabled: bool, emit: Callable[[Event], None]) -> None:
        self.enabled, self.emit = enabled, emit
        self._for: nn.Module | None = None
        self._compiled: Callable[..., Any] | None = None
        self._first: float | None = None  # when the first compiled step started; None once reported

    def __call__(self, module: nn.Module, tick: bool = False) -> Callable[..., Any]:
        """What this step's forward calls; tick: a gradient tick's step (health hooks armed) runs eagerly."""
        if not self.enabled:
            return module
        if self._first is not None:  # the step after the first compiled one: compiling is over
            spent, self._first = time.perf_counter() - self._first, None
            self.emit(Log(level="info", message=f"{COMPILE_NOTE}first step {spent:.1f} s, compiling included "
                                                "(train.compile: true)"))
        if tick:
            return module
        if module is not self._for:
            self._for, self._compiled = module, torch.compile(module)
            self._first = time.perf_counter()
        assert self._compiled is not None
        return self._compiled
