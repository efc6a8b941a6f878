"""`endpoints.yml` read once into typed sections that the store and action factories take.

Rasa's keys: `tracker_store`, `lock_store`, `event_broker`, `action_endpoint`, `nlg`, `models`;
each a mapping of settings. The values are as given (secret references resolved by the caller,
`parley.security.ProjectSecrets.endpoints()`); each factory validates its own section's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

ENDPOINTS_FILE = "endpoints.yml"


class EndpointsError(ValueError):
    """endpoints.yml cannot be used as written; the message names the section and the fix."""


@dataclass(frozen=True)
class EndpointSection:
    """One section of endpoints.yml (`tracker_store: {type: redis, url: …}`)."""

    name: str
    settings: Mapping[str, Any]
    source: str = ENDPOINTS_FILE

    @property
    def where(self) -> str:
        """`endpoints.yml: tracker_store`, for error messages."""
        return f"{self.source}: {self.name}"

    def type(self, default: str) -> str:
        """The section's `type`, lower case (`default` when not set); Rasa's dotted custom
        classes (`my.module.Store`) are refused: only the built-in types exist here."""
        kind = str(self.settings.get("type") or default).strip().lower()
        if "." in kind:
            raise EndpointsError(
                f"{self.where}.type {kind!r}: custom store classes are not supported; "
                "use one of the built-in types"
            )
        return kind

    def get(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.settings[key]


@dataclass(frozen=True)
class Endpoints:
    """The sections of endpoints.yml; a section not written (or written empty) is None."""

    sections: Mapping[str, EndpointSection] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None, source: str = ENDPOINTS_FILE) -> Endpoints:
        """Check that each section is a mapping of settings; raises EndpointsError."""
        sections: dict[str, EndpointSection] = {}
        for name, value in (raw or {}).items():
            if value is None:
                continue
            if not isinstance(value, Mapping):
                raise EndpointsError(f"{source}: {name} must be a mapping of settings")
            sections[str(name)] = EndpointSection(str(name), MappingProxyType(dict(value)), source)
        return cls(MappingProxyType(sections))

    def section(self, name: str) -> EndpointSection | None:
        return self.sections.get(name)

    @property
    def tracker_store(self) -> EndpointSection | None:
        return self.section("tracker_store")

    @property
    def lock_store(self) -> EndpointSection | None:
        return self.section("lock_store")

    @property
    def event_broker(self) -> EndpointSection | None:
        return self.section("event_broker")

    @property
    def action_endpoint(self) -> EndpointSection | None:
        return self.section("action_endpoint")
