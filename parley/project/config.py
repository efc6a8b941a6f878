"""`config.yml`: language, NLU pipeline and dialogue policies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.project.errors import Location, ProblemSink
from parley.project.yamlio import check_keys, expect, item_location, node_location, plain

CONFIG_KEYS = ("recipe", "language", "pipeline", "policies", "assistant_id", "importers", "version")


@dataclass(frozen=True)
class ComponentConfig:
    """One pipeline component or policy: its Rasa name and options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ProjectConfig:
    """A parsed config.yml. An empty `pipeline`/`policies` means "use the defaults"."""

    language: str = "en"
    recipe: str = "default.v1"
    assistant_id: str | None = None
    pipeline: tuple[ComponentConfig, ...] = ()
    policies: tuple[ComponentConfig, ...] = ()
    path: Path | None = field(default=None, compare=False)


def _components(path: Path, node: Any, key: str, sink: ProblemSink) -> tuple[ComponentConfig, ...]:
    value = node.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        sink.error(node_location(path, node), f"'{key}' must be a list of components with 'name'")
        return ()
    out: list[ComponentConfig] = []
    for index, item in enumerate(value):
        loc = item_location(path, value, index)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            sink.error(loc, f"each entry of '{key}' must be a mapping with a 'name'")
            continue
        options = {k: v for k, v in plain(item).items() if k != "name"}
        out.append(ComponentConfig(item["name"], options, loc))
    return tuple(out)


def parse_config(path: Path, node: Any, sink: ProblemSink) -> ProjectConfig:
    """Parse config.yml's top-level mapping (None: an empty file)."""
    if node is None:
        return ProjectConfig(path=path)
    if not isinstance(node, dict):
        sink.error(node_location(path, node), "config.yml must be a mapping")
        return ProjectConfig(path=path)
    check_keys(path, node, CONFIG_KEYS, sink, "config.yml")
    for key in ("language", "recipe", "assistant_id"):
        if key in node and node[key] is not None:
            expect(path, node, key, str, sink, "config.yml")
    recipe = node.get("recipe") or "default.v1"
    if recipe != "default.v1":
        sink.error(
            node_location(path, node), f"recipe '{recipe}' is not supported (use default.v1)"
        )
    return ProjectConfig(
        language=str(node.get("language") or "en"),
        recipe=str(recipe),
        assistant_id=node.get("assistant_id"),
        pipeline=_components(path, node, "pipeline", sink),
        policies=_components(path, node, "policies", sink),
        path=path,
    )
