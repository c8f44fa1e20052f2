"""The base of every recipe section: unknown keys are errors, assignments are validated, and
true/false is never a number.

pydantic (lax mode) reads `epochs: true` as 1 and `lr: false` as 0.0; a recipe that says that has a
mistake in it, so a number field (or a list of numbers) given a boolean is refused. Boolean fields
keep pydantic's reading of yes/no/on/off (and y/n) as well as true/false: the YAML loader reads
those words as strings (YAML 1.2), and a recipe written for YAML 1.1 still means what it says.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _stray_bool(value, field.annotation):
            raise ValueError("true/false is not a number; give a number here")
        return value


def _members(annotation: Any) -> list[Any]:
    """The types a field accepts: the members of a union (or Optional), else the type itself."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(annotation) for m in _members(arg)]
    return [annotation]


def _takes_bool(annotation: Any) -> bool:
    if annotation is bool or annotation is Any:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(arg, bool) for arg in get_args(annotation))
    return False


def _element_types(annotation: Any) -> list[Any]:
    """What a list or tuple field holds ([] for anything else)."""
    if get_origin(annotation) in (list, tuple):
        return [arg for arg in get_args(annotation) if arg is not Ellipsis]
    return []


def _stray_bool(value: Any, annotation: Any) -> bool:
    """True where `value` is, or a list holding, a boolean that no accepted type takes as one."""
    members = _members(annotation)
    if isinstance(value, bool):
        return not any(_takes_bool(m) for m in members)
    if isinstance(value, (list, tuple)):
        elements = [e for m in members for e in _element_types(m)]
        return bool(elements) and any(all(_stray_bool(v, e) for e in elements) for v in value)
    return False
