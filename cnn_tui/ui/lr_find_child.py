"""The picker's lr-find key: `cnn-tui lr-find RECIPE` in a child process, as runs are started
(the dashboard never imports torch or the engine), and its answer read from the child's output:
the suggested lr and the run folder it wrote (which the runs list then opens like any run).
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path

SUGGESTED, RUN_DIR = "suggested lr: ", "run directory: "


@dataclass
class LrFindAnswer:
    ok: bool
    suggestion: str  # the child's "suggested lr: ..." line without its label, or why there is none
    run_dir: Path | None


def lr_find_command(recipe: Path, runs_dir: Path, overrides: tuple[str, ...] | list[str]) -> list[str]:
    return [sys.executable, "-m", "cnn_tui", "lr-find", str(recipe), "--out", str(runs_dir), "--width", "60",
            *[arg for value in overrides for arg in ("--set", value)]]


def read_answer(code: int, out: str, err: str) -> LrFindAnswer:
    lines = out.splitlines()
    suggestion = next((x[len(SUGGESTED):] for x in lines if x.startswith(SUGGESTED)), None)
    run_dir = next((Path(x[len(RUN_DIR):]) for x in lines if x.startswith(RUN_DIR)), None)
    if code == 0 and suggestion is not None:
        return LrFindAnswer(True, suggestion, run_dir)
    last = (err.strip().splitlines() or [x for x in lines if x.strip()] or [f"exit status {code}"])[-1]
    return LrFindAnswer(False, last, run_dir)


async def run_lr_find(recipe: Path, runs_dir: Path, overrides: tuple[str, ...] | list[str]) -> LrFindAnswer:
    """The child's answer; it is ended (its process, by its id) if the awaiting task is cancelled."""
    proc = await asyncio.create_subprocess_exec(*lr_find_command(recipe, runs_dir, overrides),
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return read_answer(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
