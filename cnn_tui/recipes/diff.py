"""Which fields two recipes disagree on, as dotted paths: `run RECIPE --resume` names them."""

from __future__ import annotations

from typing import Any


def differing_fields(a: Any, b: Any, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(field, value in a, value in b) for every leaf that differs; lists compare item by item."""
    if isinstance(a, dict) and isinstance(b, dict):
        found: list[tuple[str, Any, Any]] = []
        for key in list(a) + [k for k in b if k not in a]:
            found += differing_fields(a.get(key), b.get(key), f"{prefix}.{key}" if prefix else str(key))
        return found
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differing_fields(x, y, f"{prefix}[{i}]")]
    return [] if a == b else [(prefix, a, b)]
