"""YAML reading that keeps line/column positions (ruamel.yaml round-trip mode).

Round-trip mode is used so a tool that edits project files (the studio, annotation) can write
them back with comments and layout intact.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarfloat import ScalarFloat
from ruamel.yaml.scalarint import ScalarInt

from parley.project.errors import Location, ProblemSink

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
}


def _new_loader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def read_yaml(path: Path, sink: ProblemSink, display_path: Path | None = None) -> Any:
    """Parse `path`; on a syntax error record it in `sink` and return None."""
    shown = display_path or path
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        sink.error(Location(shown, 1, 1), f"file is not valid UTF-8 ({exc.reason})")
        return None
    except OSError as exc:
        sink.error(Location(shown, 0, 0), f"cannot read file: {exc.strerror}")
        return None
    return parse_yaml_text(text, shown, sink)


def parse_yaml_text(text: str, shown: Path, sink: ProblemSink) -> Any:
    """Parse YAML text; a syntax error is recorded with its position and None returned."""
    try:
        return _new_loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        column = mark.column + 1 if mark is not None else 0
        problem = exc.problem or exc.context or "invalid YAML"
        sink.error(Location(shown, line, column), f"YAML syntax error: {problem}")
    except YAMLError as exc:
        sink.error(Location(shown, 1, 1), f"YAML syntax error: {exc}")
    return None


def node_location(path: Path, node: Any) -> Location:
    """Where a mapping or list starts."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return Location(path, 0, 0)
    return Location(path, lc.line + 1, lc.col + 1)


def key_location(path: Path, mapping: Any, key: Any) -> Location:
    """Where `key` of a mapping is written."""
    if isinstance(mapping, CommentedMap) and key in mapping:
        try:
            line, col = mapping.lc.key(key)
            return Location(path, line + 1, col + 1)
        except (KeyError, TypeError):
            pass
    return node_location(path, mapping)


def value_location(path: Path, mapping: Any, key: Any) -> Location:
    """Where the value of `key` of a mapping is written."""
    if isinstance(mapping, CommentedMap) and key in mapping:
        try:
            line, col = mapping.lc.value(key)
            return Location(path, line + 1, col + 1)
        except (KeyError, TypeError):
            pass
    return key_location(path, mapping, key)


def item_location(path: Path, seq: Any, index: int) -> Location:
    """Where item `index` of a list is written."""
    if isinstance(seq, CommentedSeq) and 0 <= index < len(seq):
        try:
            line, col = seq.lc.item(index)
            return Location(path, line + 1, col + 1)
        except (KeyError, TypeError):
            pass
    return node_location(path, seq)


def plain(value: Any) -> Any:
    """Turn ruamel's commented containers and scalars into plain Python values."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, ScalarFloat):
        return float(value)
    if isinstance(value, ScalarInt):
        return int(value)
    if isinstance(value, str):
        return str(value)
    return value


def type_name(value: Any) -> str:
    """How a YAML value's type is described to a user."""
    if value is None:
        return "nothing (null)"
    for kind, name in _TYPE_NAMES.items():
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return name
    return type(value).__name__


def is_type(value: Any, expected: type | tuple[type, ...]) -> bool:
    """isinstance that does not count a bool as a number."""
    kinds = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, kinds)


def check_keys(
    path: Path,
    mapping: Any,
    allowed: Iterable[str],
    sink: ProblemSink,
    where: str,
) -> None:
    """Report every key of `mapping` that is not in `allowed`."""
    known = sorted(allowed)
    for key in mapping:
        if key not in known:
            sink.error(
                key_location(path, mapping, key),
                f"unknown key '{key}' in {where} (expected one of: {', '.join(known)})",
            )


def expect(
    path: Path,
    mapping: Any,
    key: str,
    expected: type | tuple[type, ...],
    sink: ProblemSink,
    where: str,
) -> bool:
    """True when mapping[key] has the expected type; otherwise record an error."""
    value = mapping[key]
    if is_type(value, expected):
        return True
    kinds = expected if isinstance(expected, tuple) else (expected,)
    wanted = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
    sink.error(
        value_location(path, mapping, key),
        f"'{key}' in {where} must be {wanted}, not {type_name(value)}",
    )
    return False
