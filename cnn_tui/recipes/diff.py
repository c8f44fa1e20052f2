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


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a recipe as {dotted path: value}; lists item by item."""
    if isinstance(value, dict):
        named = ((f"{prefix}.{key}" if prefix else str(key), item) for key, item in value.items())
        return {k: v for path, item in named for k, v in leaves(item, path).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in leaves(item, f"{prefix}[{i}]").items()} or {prefix: []}
    return {prefix: value}


def fields_that_differ(recipes: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """(field, its value in each recipe; None where a recipe lacks it) for every field not the same in all."""
    flat = [leaves(r) for r in recipes]
    paths = list(dict.fromkeys(p for f in flat for p in f))
    return [(p, [f.get(p) for f in flat]) for p in paths if len({repr(f.get(p)) for f in flat}) > 1]
