"""Dataclass configs read from YAML with `key=value` overrides from the command line."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


def _coerce(value: str, annotation: Any) -> Any:
    """Parse an override string as YAML, so that '3', '1e-4', 'true', '[a, b]' and 'null' work."""
    parsed = yaml.safe_load(value)
    if annotation in (str, "str") and not isinstance(parsed, str) and parsed is not None:
        return value
    return parsed


def _typed(key: str, value: Any, annotation: Any) -> Any:
    """`value` as the field's number type: YAML 1.1 reads '1e-4' and '5e-5' as strings."""
    types = typing.get_args(annotation) or (annotation,)
    if str in types or not isinstance(value, (str, int)) or isinstance(value, bool):
        return value
    for number in (float, int):
        if number in types:
            try:
                return number(value)
            except ValueError:
                raise ValueError(f"{key}: {value!r} is not a {number.__name__}") from None
    return value


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Build config `cls` from a YAML file and `key=value` overrides; unknown keys are an error."""
    data: dict[str, Any] = {}
    if path is not None:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{path}: a config must be a YAML mapping of field: value")
        data.update(loaded)
    hints = typing.get_type_hints(cls)
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} must look like key=value")
        data[key.strip()] = _coerce(value, hints.get(key.strip()))
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} field(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**{k: _typed(k, v, hints.get(k)) for k, v in data.items()})
