"""The layer table as columns of text, for both faces (validate prints it, the dashboard styles
it): which columns fit a width, dropping the least important first, and the totals line.
Plain Python: the dashboard imports it without torch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]


def format_count(n: float) -> str:
    """12, 12.3K, 173.4M, 15.47G: MACs the way papers and torchvision quote them (15.47 GMACs, VGG16)."""
    for size, suffix, digits in ((1e9, "G", 2), (1e6, "M", 1), (1e3, "K", 1)):
        if abs(n) >= size:
            return f"{n / size:.{digits}f}{suffix}"
    return f"{n:.0f}"


def format_macs(n: float) -> str:
    """15.47 GMACs, 118.0 MMACs, 512 MACs."""
    count = format_count(n)
    return f"{count[:-1]} {count[-1]}MACs" if count[-1].isalpha() else f"{count} MACs"


def format_bytes(n: float) -> str:
    for size, suffix in ((1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")):
        if n >= size:
            return f"{n / size:.1f} {suffix}"
    return f"{n:.0f} B"


def _shape(r: Row) -> str:
    return "x".join(str(d) for d in r.get("shape", []))


def _geometry(r: Row) -> str:
    return f"{r['kernel']}/{r['stride']}/{r['padding']}" if "kernel" in r else ""


def _field(r: Row) -> str:
    if "rf" not in r:
        return ""  # a run recorded before the table had receptive fields
    if r["rf"] is None:
        return "all" if len(r.get("shape", [])) < 3 and r.get("type") != "functional" else ""
    return str(r["rf"])


@dataclass(frozen=True)
class Column:
    header: str
    cell: Callable[[Row], str]
    importance: int  # kept in this order as the width shrinks (0: never dropped)
    left: bool = False


COLUMNS = [  # in display order
    Column("layer", lambda r: str(r["name"]), 0, left=True),
    Column("type", lambda r: str(r.get("type", "")), 5, left=True),
    Column("output", _shape, 1),
    Column("k/s/p", _geometry, 7),
    Column("RF", _field, 3),
    Column("jump", lambda r: "" if r.get("rf") is None else str(r["jump"]), 6),
    Column("params", lambda r: f"{r['params']:,}", 2),
    Column("MACs", lambda r: format_count(r["macs"]) if r.get("macs") else "", 4),
    Column("act mem", lambda r: format_bytes(r["act_bytes"]) if r.get("act_bytes") else "", 8),
]
NAME_MIN, NAME_MAX, TYPE_MAX = 8, 24, 14
ESSENTIAL = 3  # layer, output, params: never dropped


def table_lines(rows: list[Row], width: int) -> tuple[list[str], list[Row]]:
    """(header line then one line per row, the rows in the same order) in at most `width` columns."""
    cells = [[c.cell(r) for c in COLUMNS] for r in rows]
    widths = [max([len(c.header)] + [len(row[i]) for row in cells]) for i, c in enumerate(COLUMNS)]
    widths[0] = max(NAME_MIN, min(widths[0], NAME_MAX))
    widths[1] = min(widths[1], TYPE_MAX)
    shown = sorted((i for i, c in enumerate(COLUMNS)  # a column empty in every row says nothing
                    if c.importance < ESSENTIAL or any(row[i] for row in cells)), key=lambda i: COLUMNS[i].importance)

    def used() -> int:
        return sum(widths[i] + 1 for i in shown) - 1

    while len(shown) > ESSENTIAL and used() > width:
        shown.pop()  # the least important column goes first
    if used() > width:  # still too wide with the essentials: the names give way
        widths[0] = max(NAME_MIN, widths[0] - (used() - width))
    order = sorted(shown)

    def line(values: list[str]) -> str:
        parts = []
        for i in order:
            text = values[i]
            if len(text) > widths[i]:
                text = "…" + text[-(widths[i] - 1):] if i == 0 else text[:widths[i] - 1] + "…"
            parts.append(text.ljust(widths[i]) if COLUMNS[i].left else text.rjust(widths[i]))
        return " ".join(parts).rstrip()

    return [line([c.header for c in COLUMNS])] + [line(row) for row in cells], rows


def totals_line(rows: list[Row], total: int, trainable: int) -> str:
    frozen = total - trainable
    parts = [f"total {total:,} parameters ({trainable:,} trainable" + (f", {frozen:,} frozen)" if frozen else ")")]
    if any("macs" in r for r in rows):
        parts.append(f"{format_macs(sum(r.get('macs', 0) for r in rows))} per image")
    memory = sum(r.get("act_bytes", 0) for r in rows)
    if memory:
        parts.append(f"activations {format_bytes(memory)} per image")
    return "; ".join(parts)
