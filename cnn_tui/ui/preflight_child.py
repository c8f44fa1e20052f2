"""The picker's "before you train" preview (issue 30): `python -m cnn_tui.preflight.preview` in a
child process, as the layer tables and lr-find are (the dashboard never imports torch or the
engine), its JSON lines read as they come: the data report's lines, then the cost estimate's.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text


def preflight_command(recipe: Path, overrides: tuple[str, ...] | list[str]) -> list[str]:
    return [sys.executable, "-m", "cnn_tui.preflight.preview", str(recipe),
            *[arg for value in overrides for arg in ("--set", value)]]


async def read_preflight(recipe: Path, overrides: tuple[str, ...] | list[str],
                         on_part: Callable[[dict[str, Any]], None]) -> None:
    """Each part as the child prints it ({"part", "lines"} or {"part": "error", "message"}); the child
    is ended (its process, by its id) if the awaiting task is cancelled (the selection moved on, a
    run started). A child that dies without a word gives an error part."""
    proc = await asyncio.create_subprocess_exec(*preflight_command(recipe, overrides),
                                                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.DEVNULL, limit=4 * 1024 * 1024)
    assert proc.stdout is not None
    said = False
    try:
        while line := await proc.stdout.readline():
            try:
                part = json.loads(line)
            except ValueError:
                continue  # a stray print of a user's model file
            if isinstance(part, dict) and "part" in part:
                said = True
                on_part(part)
        code = await proc.wait()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if not said:
        on_part({"part": "error", "message": f"the preview's helper process ended (exit status {code})"})


PENDING = (("data", "reading the data..."),
           ("cost", "timing a few steps and a validation pass for the estimate..."))


def preview_lines(parts: dict[str, Any]) -> Text:
    """The preview's block: each part's "label words" lines as they arrived, "computing" lines for
    the parts still on their way, leakage in yellow when found, or the one error line."""
    text = Text()
    if "error" in parts:
        text.append(f"before you train: {parts['error']}\n\n", style="yellow")
        return text
    text.append("before you train  (validate --data --estimate)\n", style="dim")
    for part, what in PENDING:
        if part not in parts:
            text.append(f"{what}\n", style="dim")
            continue
        for line in parts[part]:  # "label words", as the recipe's summary lines above
            label, _, rest = line.partition(" ")
            text.append(f"{label:<10}", style="cyan")
            text.append(f"{rest}\n", style="yellow" if label == "leakage" and not rest.startswith("none") else "")
    text.append("\n")
    return text
