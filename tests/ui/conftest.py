"""UI fixtures: recorded event streams and an app factory shared by Pilot and snapshot tests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cnn_tui.contract.wire_reader import parse_lines

DATA = Path(__file__).parent / "data"


def recorded(name: str = "overfit") -> list:
    with open(DATA / f"{name}.jsonl", encoding="utf-8") as handle:
        return list(parse_lines(handle))


def make_app(source=None, runs_dir: Path = Path("runs"), recipes_dirs=None):
    from cnn_tui.ui.app import CnnTuiApp
    from cnn_tui.ui.screens.run import RunScreen

    first = RunScreen(source, title="recorded") if source is not None else None
    return CnnTuiApp(recipes_dirs=recipes_dirs or [], runs_dir=runs_dir, first_screen=first)


def scripted_child(code: str, out_dir: Path):
    """A ChildRun whose 'training process' is a Python one-liner (crashes, kills)."""
    import sys

    from cnn_tui.ui.sources import ChildRun

    class Scripted(ChildRun):
        def command(self):
            return [sys.executable, "-c", code]

    return Scripted(Path("x.yaml"), out_dir)


async def wait_until(pilot, predicate, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.1)


@pytest.fixture
def events():
    return recorded()


def drain(coro):
    return asyncio.get_event_loop().run_until_complete(coro)
