"""Load a recipe: file or built-in name -> YAML -> overrides -> schema -> resolved Recipe.

Every failure is a RecipeError with one line: `FILE:LINE: FIELD: what is wrong (allowed: ...)`.
"""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cnn_tui.contract.errors import EXCERPT_CHARS, RecipeError, UsageError, excerpt
from cnn_tui.contract.kinds import DEFAULT_KIND, KINDS, optimises_an_image, schema_for
from cnn_tui.recipes import builtin, weights
from cnn_tui.recipes.schema import RecipeCommon
from cnn_tui.recipes.yaml_io import YamlLimitError, compose, describe_yaml_error, line_of, load_yaml_text

MAX_RECIPE_BYTES = 1_000_000  # a recipe is a few kB; a larger file is something else, refused unread


def resolve_ref(ref: str) -> Path:
    """A recipe argument is a path to a YAML file or the name of a built-in recipe."""
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        raise UsageError(f"{ref}: is a directory, not a recipe file")
    if path.exists():
        raise UsageError(f"{ref}: not a regular file (a device, FIFO or socket), so not a recipe file")
    if path.suffix in (".yaml", ".yml") or os.sep in ref:
        raise UsageError(f"{ref}: no such recipe file")
    found = builtin.find(ref)
    if found is not None:
        return found
    names = builtin.names()
    hint = difflib.get_close_matches(ref, names, n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    raise UsageError(
        f"{ref}: no such recipe file or built-in recipe{suggestion}; built-in: {', '.join(names)}"
    )


def load_recipe(ref: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> tuple[RecipeCommon, Path]:
    """Load, override and validate a recipe. Returns (recipe, path of the file)."""
    path = resolve_ref(str(ref))
    try:
        size = path.stat().st_size
        if size > MAX_RECIPE_BYTES:
            raise RecipeError(f"{path}: {size:,} bytes, too large for a recipe (at most {MAX_RECIPE_BYTES:,}); "
                              "is it the right file?")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read the recipe: {exc}") from None
    raw = parse_recipe_text(text, path)
    changed = {tuple(apply_override(raw, override)): override for override in overrides}
    recipe = validate(raw, path, text, changed)
    try:
        return resolve_paths(recipe, path.parent), path
    except RecipeError as exc:
        raise RecipeError(f"{path}: {exc}") from None


def parse_recipe_text(text: str, path: Path) -> dict[str, Any]:
    if not text.strip():
        raise RecipeError(f"{path}: the recipe is empty; it needs at least 'kind:' and a 'name:'")
    try:
        raw = load_yaml_text(text)
    except YamlLimitError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise RecipeError(f"{path}:{line}: {exc.problem}" if line else f"{path}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        line, problem = describe_yaml_error(exc)
        where = f"{path}:{line}" if line else str(path)
        raise RecipeError(f"{where}: not valid YAML: {problem}") from None
    except ValueError as exc:  # YAML, but a value Python refuses (an integer of more than 4,300 digits)
        raise RecipeError(f"{path}: not a recipe: {str(exc).split(';')[0]}") from None
    if raw is None:
        raise RecipeError(f"{path}: the recipe is empty; it needs at least 'kind:' and a 'name:'")
    if not isinstance(raw, dict):
        got = "a list" if isinstance(raw, list) else f"a single value ({excerpt(raw)})"
        raise RecipeError(f"{path}: a recipe is a mapping of fields (kind:, name:, data:, ...), got {got}")
    return raw


def apply_override(raw: dict[str, Any], override: str) -> list[str | int]:
    """`--set train.optimizer.lr=0.01` or `--set phases[1].epochs=3`: the value is parsed as
    YAML, by the same rules as a recipe file (numbers, lists, true/false; `off` is a word)."""
    key, sep, value = override.partition("=")
    shown = _clip(override)
    path: list[str | int] = []
    for part in key.strip().split("."):
        match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)", part)
        if not sep or match is None:
            raise UsageError(f"--set {shown}: expected FIELD=VALUE, e.g. --set train.epochs=5 "
                             "or --set phases[1].epochs=3")
        path.append(match.group(1))
        path += [int(i) for i in re.findall(r"\[(\d+)\]", match.group(2))]
    target: Any = raw
    for here, nxt in zip(path, path[1:]):
        if isinstance(here, int):
            if not isinstance(target, list) or here >= len(target):
                raise UsageError(f"--set {shown}: there is no item [{here}] to change")
            target = target[here]
        else:
            if not isinstance(target, dict):
                raise UsageError(f"--set {shown}: '{here}' is not inside a section")
            target = target.setdefault(here, [] if isinstance(nxt, int) else {})
    last = path[-1]
    try:
        parsed = load_yaml_text(value) if value.strip() else None
    except YamlLimitError as exc:
        raise UsageError(f"--set {shown}: {exc.problem}") from None
    except (yaml.YAMLError, ValueError):
        parsed = value
    if isinstance(last, int):
        if not isinstance(target, list) or last >= len(target):
            raise UsageError(f"--set {shown}: there is no item [{last}] to change")
        target[last] = parsed
    elif isinstance(target, dict):
        target[last] = parsed
    else:
        raise UsageError(f"--set {shown}: '{last}' is not inside a section")
    return path


def _clip(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A user's own text in an error, cut to `limit` characters (a value can be megabytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate(raw: dict[str, Any], path: Path, text: str = "",
             changed: dict[tuple[str | int, ...], str] | None = None) -> Any:
    """The recipe, or a RecipeError naming where the bad value came from: FILE:LINE, or the
    `--set` that gave it (`changed`: field path -> that --set)."""
    kind = raw.get("kind", DEFAULT_KIND)
    model = schema_for(kind) if isinstance(kind, str) and kind in KINDS else None
    if model is None:
        allowed = ", ".join(KINDS)
        raise RecipeError(f"{path}: kind: unknown recipe kind {excerpt(kind)} (allowed: {allowed})")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        given = next((o for p, o in (changed or {}).items() if loc[:len(p)] == p), None)
        line = line_of(compose(text), loc) if text and given is None else None
        where = f"{path}: --set {_clip(given)}" if given else f"{path}:{line}" if line else str(path)
        message = explain(dict(error), model, loc)
        named = loc and message.startswith(f"{format_loc(loc)}.")  # a check that names its own field
        field = f"{format_loc(loc)}: " if loc and not named else ""
        raise RecipeError(f"{where}: {field}{message}") from None


def format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:  # a key is the user's text too: at most an excerpt of it
        name = _clip(str(part), 40)
        out += f"[{part}]" if isinstance(part, int) else (f".{name}" if out else name)
    return out or "(top level)"


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema class that holds the field at `loc` (to list its allowed keys)."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", {})
        if part not in fields:
            return None
        annotation = fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        current = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if current is None:
            return None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def explain(error: dict[str, Any], model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind, got = error["type"], error.get("input")
    if kind == "extra_forbidden":
        owner = _model_at(model, loc)
        allowed = list(owner.model_fields) if owner else []
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        did_you_mean = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown field{did_you_mean}; allowed: {', '.join(allowed)}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{excerpt(got)} is not allowed; allowed: {expected}"
    if isinstance(got, float) and got != got:  # a bound checked first said "less than or equal to 10 (got nan)"
        return "Input should be a finite number (got nan)"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    if kind == "missing":
        return "is required"
    if kind == "bool_parsing":
        return f"must be true or false (yes/no and on/off are read too), not {excerpt(got)}"
    return f"{message} (got {excerpt(got)})" if not isinstance(got, (dict, list, BaseModel)) else message


def resolve_paths(recipe: Any, base: Path) -> Any:
    """Make file paths in the recipe absolute, relative to the recipe file's folder."""
    if optimises_an_image(recipe.kind):
        return _resolve_style_paths(recipe, base)
    data = recipe.data
    for field in ("path", "train_path", "val_path", "test_path", "decode_cache"):
        if getattr(data, field):
            setattr(data, field, _absolute(getattr(data, field), base))
    data.root = _absolute(data.root, base)
    model = getattr(recipe, "model", None)
    if model is not None and model.path:
        model.path = _absolute(model.path, base)
    if model is not None and model.init_from:
        model.init_from = _absolute(model.init_from, base)
    backbone = getattr(recipe, "backbone", None)
    if backbone is not None and weights.is_file(backbone.weights):
        backbone.weights = _absolute(backbone.weights, base)
    cache = getattr(recipe, "cache_dir", None)
    if cache is not None:
        recipe.cache_dir = _absolute(cache, base)
    return recipe


def _absolute(value: str, base: Path) -> str:
    """`value` as an absolute path; one line for a value that cannot be a path (`~nosuchuser/x`, a NUL)."""
    try:
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())
    except (RuntimeError, ValueError, OSError) as exc:
        raise RecipeError(f"{excerpt(value)} cannot be used as a path: {exc}") from None


def _resolve_style_paths(recipe: Any, base: Path) -> Any:
    from cnn_tui.style.samples import SAMPLE_PREFIX

    for field in ("content_image", "style_image"):
        value = getattr(recipe, field)
        if not value.startswith(SAMPLE_PREFIX):
            setattr(recipe, field, _absolute(value, base))
    if weights.is_file(recipe.feature_net.weights):
        recipe.feature_net.weights = _absolute(recipe.feature_net.weights, base)
    return recipe


def recipe_to_dict(recipe: BaseModel) -> dict[str, Any]:
    return recipe.model_dump(mode="json")
