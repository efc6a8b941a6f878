"""A Rasa 2.x domain moved to the 3.x format (`parley data migrate`), as `rasa data migrate`:

- a form's slot mappings (`required_slots: {slot: [mappings]}`) move to the slot, each with
  the condition `active_loop: <form>` (plus `requested_slot: <slot>` unless it is a
  `from_entity` or `from_trigger_intent` mapping); the form keeps the list of slot names and its
  `ignored_intents`;
- a slot named like an entity, without `auto_fill: false`, gets a `from_entity` mapping for it;
  `auto_fill` goes;
- a slot left with no mapping gets `type: custom` (set by custom actions), with a warning;
- `version` becomes "3.1". Comments and key order are kept (ruamel round-trip).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

FORMAT_VERSION = "3.1"
_NO_REQUESTED_SLOT = ("from_entity", "from_trigger_intent")


class MigrationError(ValueError):
    """The domain cannot be migrated (already 3.x, unreadable, or ambiguous)."""


@dataclass
class MigrationResult:
    text: str
    warnings: list[str] = field(default_factory=list)


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def migrate_domain(source: str, where: str = "domain.yml") -> MigrationResult:
    """The 3.x text of a 2.x domain; raises MigrationError."""
    yaml = _yaml()
    try:
        domain = yaml.load(source)
    except Exception as exc:
        raise MigrationError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(domain, CommentedMap):
        raise MigrationError(f"{where}: a domain is a mapping of sections")
    if str(domain.get("version", "")).startswith("3"):
        raise MigrationError(f"{where} is already in the 3.x format (version {domain['version']})")
    warnings: list[str] = []
    slots = domain.get("slots")
    if slots is None:
        slots = CommentedMap()
    if not isinstance(slots, dict):
        raise MigrationError(f"{where}: 'slots' must be a mapping")
    forms = domain.get("forms") or CommentedMap()
    new_forms = CommentedMap()
    for form_name, form in forms.items():
        form = form or CommentedMap()
        ignored = form.get("ignored_intents")
        required = form.get("required_slots", form) if isinstance(form, dict) else {}
        if isinstance(required, list):  # already a list of names: nothing to move
            names = [str(n) for n in required]
        else:
            names = []
            for slot_name, mappings in (required or {}).items():
                names.append(str(slot_name))
                _move_form_mappings(slots, str(slot_name), str(form_name), mappings or [])
        entry = CommentedMap()
        entry["required_slots"] = CommentedSeq(names)
        if ignored:
            entry["ignored_intents"] = ignored
        new_forms[form_name] = entry
    entities = {
        str(e) if not isinstance(e, dict) else str(next(iter(e)))
        for e in domain.get("entities") or []
    }
    for slot_name, properties in slots.items():
        if properties is None:
            properties = slots[slot_name] = CommentedMap()
        mappings = properties.get("mappings")
        if mappings is None:
            mappings = CommentedSeq()
        if slot_name in entities and properties.get("auto_fill", True) is not False:
            mapping = CommentedMap([("type", "from_entity"), ("entity", slot_name)])
            if not any(_plain(m) == _plain(mapping) for m in mappings):
                mappings.append(mapping)
        properties.pop("auto_fill", None)
        if not mappings:
            mappings.append(CommentedMap([("type", "custom")]))
            warnings.append(
                f"slot '{slot_name}' got a custom mapping (set by custom actions only); "
                "check that this is right"
            )
        properties["mappings"] = mappings
    if "slots" in domain or slots:
        domain["slots"] = slots
    if "forms" in domain:
        domain["forms"] = new_forms
    if "version" in domain:
        domain["version"] = DoubleQuotedScalarString(FORMAT_VERSION)
    else:
        domain.insert(0, "version", DoubleQuotedScalarString(FORMAT_VERSION))
    import io

    buffer = io.StringIO()
    yaml.dump(domain, buffer)
    return MigrationResult(buffer.getvalue(), warnings)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _move_form_mappings(slots: Any, slot_name: str, form_name: str, mappings: Any) -> None:
    properties = slots.get(slot_name)
    if properties is None:
        properties = slots[slot_name] = CommentedMap([("type", "any")])
    existing = properties.get("mappings")
    if existing is None:
        existing = properties["mappings"] = CommentedSeq()
    for mapping in mappings:
        condition = CommentedMap([("active_loop", form_name)])
        if mapping.get("type") not in _NO_REQUESTED_SLOT:
            condition["requested_slot"] = slot_name
        same = next(
            (m for m in existing if _without_conditions(m) == _without_conditions(mapping)), None
        )
        if same is not None:
            conditions = same.get("conditions")
            if conditions is None:
                conditions = same["conditions"] = CommentedSeq()
            conditions.append(condition)
        else:
            moved = copy.deepcopy(mapping)
            moved["conditions"] = CommentedSeq([condition])
            existing.append(moved)


def _without_conditions(mapping: Any) -> Any:
    return {k: _plain(v) for k, v in mapping.items() if k != "conditions"}


def migrate_domain_file(path: Path, out: Path | None = None) -> tuple[Path, MigrationResult]:
    """Write the migrated domain to `out` (default: `new_domain.yml` beside it), keeping the
    original untouched; refuses to overwrite an existing file."""
    target = out or path.with_name("new_domain.yml")
    if target.exists():
        raise MigrationError(f"{target} already exists; remove it or choose --out")
    result = migrate_domain(path.read_text("utf-8"), str(path))
    target.write_text(result.text, encoding="utf-8")
    return target, result
