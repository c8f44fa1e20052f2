"""Safe YAML reading: data only (no Python tags), duplicate keys rejected, line numbers kept.

YAML's traps are closed here, once, for every reader of a recipe (files, `--set` values, listings):

- Scalars resolve by the YAML 1.2 core schema: only true/false (any case style) are booleans, so
  `amp: off`, `name: yes` or `country: no` are the words they look like (YAML 1.1 made them
  booleans); `010` is ten, `1:20` and `2024-01-02` are strings, and `1e-3` is a number.
- A document is refused, before anything is built from it, when it would hold more than
  MAX_NODES values once its aliases are expanded (a "billion laughs" alias bomb is a few lines
  that expand to 10^9 values), when it nests deeper than MAX_DEPTH, or when an alias names the
  value it is inside. Counting happens while composing, so refusing costs milliseconds. (Listings
  read a short recipe with no alias, merge or tag by libyaml alone: it cannot expand, and its depth
  is checked on the data.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cnn_tui.contract.errors import excerpt

MAX_NODES = 100_000  # values after alias expansion; the largest built-in recipe has a few hundred
MAX_DEPTH = 50  # nesting levels; a recipe uses about 6 (model.layers[0].conv.out)


class YamlLimitError(yaml.MarkedYAMLError):
    """A document that parses but is refused: too large once expanded, too deep, or self-containing."""


# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution), plus `<<` merge keys and
# underscores between digits of an integer (1_000), which YAML 1.1 recipes may already use
_IMPLICIT = [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+(?:_[0-9]+)*|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                                r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+.0123456789"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
]


class _StrictSafeLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 scalars, duplicate keys refused, and expansion and depth bounded."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded
        self._depth = 0

    def compose_document(self) -> yaml.Node | None:
        self._sizes = {}
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            named = self.anchors.get(event.anchor)
            if named is not None and id(named) not in self._sizes:
                raise YamlLimitError(None, None, f"the alias *{event.anchor} is inside the value it names: "
                                     "a recipe cannot contain itself", event.start_mark)  # type: ignore[arg-type]
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise YamlLimitError(None, None, f"nested more than {MAX_DEPTH} levels deep; a recipe needs a few",
                                 event.start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is None:
            return None
        children = [n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else []
        size = 1 + sum(self._sizes[id(child)] for child in children)
        if size > MAX_NODES:
            raise YamlLimitError(None, None, f"more than {MAX_NODES:,} values once its aliases (*name) are "
                                 "expanded, far more than a recipe holds; refused (an alias bomb?)",
                                 node.start_mark)
        self._sizes[id(node)] = size
        return node

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        """YAML 1.2: 010 is ten (not octal eight); 0o17 and 0x1f are the prefixed forms."""
        value = str(self.construct_scalar(node)).replace("_", "")
        return int(value, 0) if value.startswith(("0o", "0x")) else int(value, 10)

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        """A string; an escape such as "\\ud800" that is half a character is refused (no file could hold it)."""
        value = str(self.construct_scalar(node))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise yaml.constructor.ConstructorError(None, None, "an escape that is half a character (a lone "
                                                    "surrogate such as \\ud800)", node.start_mark) from None
        return value

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {excerpt(key)}", key_node.start_mark
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


for _tag, _pattern, _first in _IMPLICIT:
    _StrictSafeLoader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:int", _StrictSafeLoader.construct_yaml_int)
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:str", _StrictSafeLoader.construct_yaml_str)
# `<<` merges where it is a key; anywhere else it is the two characters
_StrictSafeLoader.add_constructor("tag:yaml.org,2002:merge",
                                  lambda loader, node: str(loader.construct_scalar(node)))  # type: ignore[arg-type]


try:  # libyaml's parser (C), under the same composer, limits, resolver and constructor
    from yaml._yaml import CParser
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class _FastStrictLoader(CParser, _StrictSafeLoader):
        """_StrictSafeLoader with its events from libyaml: about 4x faster on the built-in recipes
        (12 against 54 ms for all of them). The composing stays _StrictSafeLoader's (Python), so the
        limits hold; the events' marks carry no excerpt of the text, so only listings use it."""

        get_single_node = Composer.get_single_node  # CParser's own composer would skip the limits
        get_node = Composer.get_node
        check_node = Composer.check_node

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            self._sizes, self._depth = {}, 0

    class _AliasFreeLoader(CParser, _StrictSafeLoader):
        """For a short text with no alias, merge key or tag (see _composed_by_libyaml): nothing can
        expand, so libyaml composes it too (C; it refuses more than 1,000 levels itself) and the
        depth is checked on the data. Same resolver and constructor (duplicate keys refused); the
        built-in recipes list in 20 against 29 ms (the picker's first frame waits for them)."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    _LISTING_LOADER: type = _FastStrictLoader
    _ALIAS_FREE_LOADER: type | None = _AliasFreeLoader
except ImportError:  # PyYAML built without libyaml
    _LISTING_LOADER, _ALIAS_FREE_LOADER = _StrictSafeLoader, None


def _depth(data: Any) -> int:
    """Nesting levels of `data` as the composer counts them (a scalar is one), without recursion."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        children = [*value, *value.values()] if isinstance(value, dict) else value if isinstance(value, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


SHORT_TEXT = 64 * 1024  # characters: too few for MAX_NODES values without an alias (a value takes 2+)


def _composed_by_libyaml(text: str) -> bool:
    """Whether the data alone can show what the counting composer would refuse: no alias (`*`) to
    expand, no merge (`<<`, which flattens nesting away) or tag (`!!omap` builds tuples), and too
    short to hold MAX_NODES values. A `*` or `<<` inside a string only sends a text the slow way."""
    return len(text) <= SHORT_TEXT and not any(mark in text for mark in ("*", "<<", "!"))


def load_listing_text(text: str) -> Any:
    """load_yaml_text's data, faster where PyYAML has libyaml: for listings (the picker, `cnn-tui
    list`), which read every recipe and show no parse error's excerpt."""
    try:
        if _ALIAS_FREE_LOADER is None or not _composed_by_libyaml(text):
            return yaml.load(text, Loader=_LISTING_LOADER)  # noqa: S506 - a SafeLoader subclass
        data = yaml.load(text, Loader=_ALIAS_FREE_LOADER)  # noqa: S506 - a SafeLoader subclass
        if _depth(data) > MAX_DEPTH:
            raise RecursionError
        return data
    except RecursionError:
        raise YamlLimitError(None, None, f"nested more than {MAX_DEPTH} levels deep; a recipe needs a few",
                             None) from None


def load_yaml_text(text: str) -> Any:
    """The data in `text`. Raises yaml.YAMLError (YamlLimitError for a refused document) or
    ValueError (a value Python refuses, such as an integer of more than 4,300 digits)."""
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:  # merge keys (<<) chained deeper than Python's stack
        raise YamlLimitError(None, None, f"nested more than {MAX_DEPTH} levels deep; a recipe needs a few",
                             None) from None


def compose(text: str) -> yaml.Node | None:
    """The node tree, for mapping a field path back to a line number (None if unparsable)."""
    try:
        return yaml.compose(text, Loader=_StrictSafeLoader)  # noqa: S506
    except (yaml.YAMLError, RecursionError):
        return None


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest node on the path `loc` that exists in the file."""
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
                return (key.start_mark.line + 1) if key is not None else line
            line = match.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def describe_yaml_error(error: yaml.YAMLError) -> tuple[int | None, str]:
    """(line, message) for a YAML syntax or constructor error, in plain words."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(error, "problem", None) or str(error)
    if isinstance(error, yaml.reader.ReaderError):  # a control character, or bytes that are not text
        return None, f"the character {excerpt(error.character)} at offset {error.position} is not allowed in YAML"
    problem = " ".join(problem.split())  # one line, whatever the message
    if "found character '\\t'" in problem or "\\t" in problem:
        problem = "a tab character; YAML indents with spaces only"
    elif "could not determine a constructor for the tag" in problem:
        tag = problem.split("tag", 1)[1].strip()
        problem = f"the tag {tag} is not allowed: recipes are plain data (no Python objects)"
    return line, problem


class _Dumper(yaml.SafeDumper):
    """Quotes every string that YAML 1.1 or 1.2 would read as something else ('off', '0o17', '1:20'),
    so a written recipe reads back the same here and in any other YAML reader."""


for _tag, _pattern, _first in _IMPLICIT:
    _Dumper.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Double quotes (with escapes) for the line breaks PyYAML writes raw and then reads as spaces."""
    style = '"' if any(c in data for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any, path: Path) -> None:
    path.write_text(yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
