"""`python -m benchmarks --markdown FILE`: the results table as Markdown, with the machine and the date.

The results section of benchmarks/README.md is written this way, between two marker lines, so the
page's numbers come from a run and say which one; the text around the markers is kept. A file
without the markers is refused rather than overwritten (it is not one this writes into).
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

from benchmarks.common import Result

BEGIN = "<!-- results: written by `python -m benchmarks --markdown FILE`; edit around these markers, not inside -->"
END = "<!-- end of results -->"


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows: list[Result]) -> str:
    lines = ["| case | measured | result | target | |", "| --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {cell(r.case)} | {cell(r.measure)} | {cell(r.value)} | {cell(r.target)} | {r.verdict} |")
    return "\n".join(lines)


def gpu() -> str:
    """The GPU the training cases ran on, for the results' machine line (the table alone does not say)."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"


def block(rows: list[Result], machine: str, command: str, now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.UTC)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return "\n".join([
        BEGIN,
        f"Measured {now:%Y-%m-%d %H:%M} UTC on {machine}; load average at the end {load}.",
        f"Command: `{command}`.",
        "",
        table(rows),
        END,
    ])


def check(path: Path) -> None:
    """Refuse, before any case runs, a FILE that write() would refuse at the end."""
    if path.is_dir() or not path.parent.is_dir():
        raise ValueError(f"{path}: not a file in an existing folder")
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN not in text or END not in text:
            raise ValueError(f"{path}: has no results markers (lines '<!-- results: ...' and '{END}'); not overwritten")


def write(path: Path, rows: list[Result], machine: str, command: str) -> None:
    """Replace the results between the markers of `path` (or write a new file holding only them)."""
    check(path)
    new = block(rows, machine, command)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + new + tail
    else:
        text = new + "\n"
    temp = path.with_name(f".{path.name}.tmp")
    try:
        temp.write_text(text, encoding="utf-8")
        os.replace(temp, path)  # the page is whole before and after: never half a table
    finally:
        temp.unlink(missing_ok=True)
