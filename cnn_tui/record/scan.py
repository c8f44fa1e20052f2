"""Read a run's events fast enough for `show` on a million-step run (well under 2 s).

Every event except the dense per-step ones (step, style_step, gradients) is read: there are
few of them and each matters (starts, epochs, diagnoses, the test score, the finish). Of the
dense ones, a file larger than `FULL_READ_BYTES` gives an evenly spaced sample of lines, at
most `max_dense`: a chart a terminal wide shows no more. Lines are only *located* by pattern;
each chosen line is parsed by wire_reader.EventReader, so the sample reads exactly as the full file
would. `export` reads every line instead (wire_reader.parse_lines).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from cnn_tui.contract.events import Event
from cnn_tui.contract.wire_reader import EventReader
from cnn_tui.record.run_files import check_run_dir, refuse_newer
from cnn_tui.record.rundir import EVENTS

FULL_READ_BYTES = 4 << 20  # ~20,000 events: parsed in full in about 0.1 s
DENSE_TYPES = (b"step", b"style_step", b"gradients")
# `"type":"` can only be a key (JSON escapes quotes inside strings); a nested key such as a
# layer's "type" only points back into its own line, which is read once anyway
_SPARSE = re.compile(rb'"type"\s*:\s*"(?!' + b"|".join(t + b'"' for t in DENSE_TYPES) + rb")")
_DENSE_LINE = re.compile(rb'^\{[^{]*"type"\s*:\s*"(?:' + b"|".join(DENSE_TYPES) + rb')"')


@dataclass
class Scan:
    """A run's events in file order; dense ones possibly sampled."""

    events: list[Event]
    dense_in_file: int  # dense lines in the file (step, style_step, gradients)
    dense_read: int  # of those, how many were read
    newer_version: int | None = None
    torn_tail: bool = False  # the last line has no newline yet (a live run mid-write, or killed)
    size: int = 0  # bytes of events.jsonl read
    end: int = 0  # offset just past the last complete line: where following picks up
    reader: EventReader = field(default_factory=EventReader)  # its state carries on when following

    @property
    def sampled(self) -> bool:
        return self.dense_read < self.dense_in_file


def scan_run(run_dir: Path, max_dense: int = 4000) -> Scan:
    check_run_dir(run_dir)
    data = (run_dir / EVENTS).read_bytes()
    scan = scan_bytes(data, max_dense)
    refuse_newer(run_dir, scan.newer_version)
    return scan


def scan_bytes(data: bytes, max_dense: int = 4000) -> Scan:
    torn = bool(data) and not data.endswith(b"\n")
    starts = _all_line_starts(data) if len(data) <= FULL_READ_BYTES else _chosen_line_starts(data, max_dense)
    reader = EventReader()
    events: list[Event] = []
    dense_read = 0
    for start in starts:
        end = data.find(b"\n", start)
        if end < 0:
            continue  # a torn last line: its event is not complete yet
        line = data[start:end]
        event = reader.parse_line(line.decode("utf-8", "replace"))
        if event is None:
            continue
        dense_read += _DENSE_LINE.match(line) is not None
        events.append(event)
    # counted as events.py writes them (compact JSON); fast, and only ever shown as "N of M"
    dense_in_file = sum(data.count(b'"type":"' + t + b'"') for t in DENSE_TYPES)
    return Scan(events, max(dense_in_file, dense_read), dense_read, reader.newer_version, torn, len(data),
                data.rfind(b"\n") + 1, reader)


def _all_line_starts(data: bytes) -> list[int]:
    starts, pos = [0], data.find(b"\n")
    while pos >= 0:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def _chosen_line_starts(data: bytes, max_dense: int) -> list[int]:
    """Every sparse line's start, plus `max_dense` lines evenly spaced through the file."""
    starts = {data.rfind(b"\n", 0, m.start()) + 1 for m in _SPARSE.finditer(data)}
    spacing = len(data) / max(max_dense, 1)
    for k in range(max_dense):
        at = int(k * spacing)
        starts.add(0 if at == 0 else data.find(b"\n", at) + 1)
    return sorted(s for s in starts if 0 <= s < len(data))
