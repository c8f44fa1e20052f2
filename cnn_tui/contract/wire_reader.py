"""Reading the wire: JSON lines to events, in order, upgrading version 1 streams to today's shapes.

Apart from contract/events.py (what an event is) because reading is a stateful job of its own: a
version 1 step does not say which kind wrote it, the run_started before it does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cnn_tui.contract.events import WIRE_VERSION, Event, StyleStarted, StyleStep, event_from_dict
from cnn_tui.contract.kinds import Kind

V1_STYLE_KIND = Kind.STYLE_TRANSFER  # the one kind version 1 wrote through classification events
_PIXELS = re.compile(r"\((\d+)x(\d+) px\)$")
_decoders: list[Callable[[str], Any]] = []  # msgspec's, once a line is read (not on the picker's first frame)


def loads(line: str) -> Any:
    """json.loads(line), through msgspec (C) where it reads the line: about 3x faster, which is a quarter
    of an export's or a re-opened long run's time (a million lines). msgspec refuses NaN and Infinity,
    which the events carry (a diverged loss), and its errors read differently: every line it refuses
    is read again by json, so the result (or the ValueError) is json's."""
    if not _decoders:
        try:
            from msgspec.json import Decoder
        except ImportError:  # pragma: no cover - a dependency; json alone still reads everything
            _decoders.append(json.loads)
        else:
            _decoders.append(Decoder().decode)
    try:
        return _decoders[0](line)
    except ValueError:  # msgspec.DecodeError is a ValueError
        return json.loads(line)


class EventReader:
    """Parses one stream's lines in order, upgrading version 1 events to today's shapes.

    Stateful because a v1 step does not say which kind wrote it: the run_started before it does.
    """

    def __init__(self) -> None:
        self.v1_style = False
        self.newer_version: int | None = None  # the newest wire version seen that this reader cannot read

    def parse_line(self, line: str) -> Event | None:
        """One JSON line to an event; None for blank, torn or foreign lines."""
        line = line.strip()
        if not line:
            return None
        try:
            data = loads(line)
        except (ValueError, RecursionError):  # a torn, foreign or absurdly nested line
            return None
        if not isinstance(data, dict):
            return None
        version = data.get("v", WIRE_VERSION)
        if isinstance(version, int) and version > WIRE_VERSION:
            self.newer_version = max(version, self.newer_version or 0)
        if version == 1:
            data = self._upgrade_v1(data)
        return event_from_dict(data)

    def _upgrade_v1(self, data: dict[str, Any]) -> dict[str, Any]:
        kind = data.get("type")
        if kind == "run_started":
            self.v1_style = data.get("kind") == V1_STYLE_KIND
            if self.v1_style:  # epochs=1, num_train=1...: dropped; the size was only in the model name
                size = _PIXELS.search(str(data.get("model_name", "")))
                width, height = (int(size[1]), int(size[2])) if size else (0, 0)
                return {**data, "type": StyleStarted.type, "width": width, "height": height}
        elif kind == "step" and self.v1_style:  # images_per_sec carried steps per second
            return {**data, "type": StyleStep.type, "steps_per_sec": data.get("images_per_sec", 0.0)}
        return data


def parse_line(line: str) -> Event | None:
    """One line on its own (no upgrade of a v1 style step: use EventReader for a stream)."""
    return EventReader().parse_line(line)


def parse_lines(lines: Iterable[str]) -> Iterator[Event]:
    reader = EventReader()
    for line in lines:
        event = reader.parse_line(line)
        if event is not None:
            yield event
