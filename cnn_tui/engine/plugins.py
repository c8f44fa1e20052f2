"""What a kind's engine plugs into `runner.execute` (and `validate`): small protocols, and
`engine_for`, which hands out a kind's engine checked against them.

The kinds' engine classes are named as "module:Class" in `kinds.KINDS` (so the registry stays
torch-free); `cnn_tui.engine.plugins_checked` makes mypy check each class against `KindEngine`,
and `engine_for` checks the object at run time too.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import torch

from cnn_tui.contract.events import Started
from cnn_tui.contract.kinds import known_spec
from cnn_tui.contract.sinks import EventSink
from cnn_tui.data.streams import Streams
from cnn_tui.engine.world import World
from cnn_tui.recipes.schema import RecipeCommon
from cnn_tui.train.control import RunControl
from cnn_tui.train.wall_clock import WallClock


class Outcome(Protocol):
    status: str  # completed, early_stopped, interrupted, diverged, failed
    reason: str


class Loop(Protocol):
    """A kind's loop: it runs to an outcome, and can continue from a checkpoint's state."""

    step: int
    clock: WallClock  # the run's wall time, earlier segments included

    def run(self) -> Outcome: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


L = TypeVar("L", bound=Loop)  # the kind's own loop class


class Prepared(Protocol[L]):
    """A recipe made ready to run: everything that can fail on bad input has been done."""

    def start(self, sink: EventSink, control: RunControl, run_dir: Path | None) -> L: ...

    def started(self, loop: L, **common: Any) -> Started:
        """The kind's first event: `common` (what every kind says) plus its own fields."""
        ...

    def after_started(self, sink: EventSink, run_dir: Path | None, loop: L) -> None:
        """What follows `run_started` before the loop runs (log lines, the source images)."""
        ...

    def finish(self, outcome: Any, loop: L) -> None:
        """The kind's step after its loop has ended (the test score of a classifier), before the summary."""
        ...

    def summary(self, outcome: Any, loop: L) -> dict[str, Any]:
        """The kind's fields of summary.json."""
        ...


@runtime_checkable
class KindEngine(Protocol):
    """What a kind plugs into runner.execute and `validate`; kinds.KindSpec.engine names the class."""

    def dry_run(self, recipe: RecipeCommon) -> RecipeCommon:
        """A copy of the recipe cut down to a couple of steps."""
        ...

    def prepare(self, recipe: RecipeCommon, device: torch.device, dry_run: bool, world: World,
                streams: Streams | None = None) -> Prepared[Any]:
        """`streams`: the run's random streams (None: the recipe seed's, current scheme)."""
        ...

    def describe(self, recipe: RecipeCommon) -> tuple[list[dict[str, Any]], int, int, str]:
        """(layer rows, total params, trainable params, model name), without data or downloads."""
        ...

    def check(self, recipe: RecipeCommon, path: Path) -> str:
        """`cnn-tui validate`'s report."""
        ...


def engine_for(kind: str) -> KindEngine:
    """The engine plug-in of a kind (imports torch and the kind's modules)."""
    module, _, name = known_spec(kind).engine.partition(":")
    engine = getattr(importlib.import_module(module), name)()
    if not isinstance(engine, KindEngine):
        raise TypeError(f"{module}.{name} does not meet cnn_tui.engine.plugins.KindEngine")
    return engine
