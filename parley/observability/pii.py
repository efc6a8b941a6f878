"""PII redaction: rules by entity type and by pattern, applied to logs, broker events, trace
attributes and (when asked) the tracker store at rest.

    pii:
      apply_to: [logs, event_broker, tracing, tracker_store]   # default: all but tracker_store
      hash_key: ${PARLEY_PII_KEY}       # needed by `hash` rules: stable, keyed pseudonyms
      rules:
        - pattern: email                # built-in: email, phone, iban, card (Luhn-checked)
        - pattern: iban
          substitution: hash
        - entity: account_number        # any entity type: custom or built-in (Duckling's email)
          substitution: text
          text: "<account>"
        - pattern: 'AC-\\d{6}'          # a regular expression of your own
          name: account_ref

Substitutions: `mask` (one `*` per character, the default), `text` (a fixed text, default
`[NAME]`) and `hash` (`NAME_` + 12 hex digits of HMAC-SHA256 under `hash_key`: the same value
always gets the same pseudonym, so analytics can still count distinct values).

An entity rule works on what NLU extracted: the value is replaced wherever it occurs in the
turn's events (the user's text, slots, a bot message that repeats it), and the redactor keeps
the most recent such values to mask them in log lines too. Event structure, names, ids and
timestamps are never changed, so a redacted tracker store still replays the dialogue.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Substitution = Literal["mask", "text", "hash"]
Target = Literal["logs", "event_broker", "tracing", "tracker_store"]
TARGETS: tuple[Target, ...] = ("logs", "event_broker", "tracing", "tracker_store")
DEFAULT_TARGETS: tuple[Target, ...] = ("logs", "event_broker", "tracing")
MIN_VALUE_LENGTH = 3  # a shorter entity value would mask ordinary words everywhere
KNOWN_VALUES = 10_000  # entity values remembered for log redaction (most recent first)

# Keys whose values are identifiers or names, never user data: left alone so that a redacted
# event still replays (a phone-like run of digits in an event id must not be touched).
_STRUCTURAL_KEYS = frozenset(
    {
        "event",
        "timestamp",
        "name",
        "event_id",
        "message_id",
        "model_id",
        "trace_id",
        "entity",
        "role",
        "group",
        "extractor",
        "processors",
        "policy",
        "input_channel",
        "intent_name",
        "action_name",
        "active_loop",
        "requested_slot",
        "lang",
    }
)


class PIIConfigError(ValueError):
    """endpoints.yml `pii:` is not usable; the message names the rule and key."""


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group())
    return 13 <= len(digits) <= 19 and _luhn_valid(digits)


def _iban(match: re.Match[str]) -> bool:
    compact = re.sub(r"\s", "", match.group()).upper()
    moved = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return 15 <= len(compact) <= 34 and int(number) % 97 == 1


def _phone(match: re.Match[str]) -> bool:
    return 8 <= sum(c.isdigit() for c in match.group()) <= 15


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    check: Any = None  # Callable[[re.Match[str]], bool]: a match that fails it is left alone


BUILTIN_PATTERNS: dict[str, _Pattern] = {
    "email": _Pattern(re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")),
    # international (+), trunk (0) or bracketed prefix: a bare run of digits is too often an id;
    # never the tail of a longer group of numbers (an IBAN that failed its checksum)
    "phone": _Pattern(
        re.compile(r"(?<![\w+])(?<!\d[ -])(?:\+|00|0|\()[\d()][\d() -]{6,18}\d(?![\w])"), _phone
    ),
    "iban": _Pattern(re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"), _iban),
    "card": _Pattern(re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])"), _card),
}


@dataclass(frozen=True)
class PIIRule:
    """One rule: an entity type or a pattern, and how matches are substituted."""

    name: str
    entity: str | None = None
    pattern: _Pattern | None = None
    substitution: Substitution = "mask"
    text: str | None = None

    @classmethod
    def from_dict(cls, raw: Any, index: int) -> PIIRule:
        where = f"endpoints.yml: pii.rules[{index}]"
        if not isinstance(raw, Mapping):
            raise PIIConfigError(f"{where}: expected a mapping with `entity` or `pattern`")
        unknown = set(raw) - {"entity", "pattern", "substitution", "text", "name"}
        if unknown:
            raise PIIConfigError(f"{where}: unknown keys {sorted(unknown)}")
        entity, pattern = raw.get("entity"), raw.get("pattern")
        if (entity is None) == (pattern is None):
            raise PIIConfigError(f"{where}: give exactly one of `entity` and `pattern`")
        substitution = str(raw.get("substitution") or "mask")
        if substitution not in ("mask", "text", "hash"):
            raise PIIConfigError(f"{where}.substitution: use mask, text or hash")
        compiled: _Pattern | None = None
        if pattern is not None:
            pattern = str(pattern)
            compiled = BUILTIN_PATTERNS.get(pattern)
            if compiled is None:
                try:
                    compiled = _Pattern(re.compile(pattern))
                except re.error as exc:
                    raise PIIConfigError(
                        f"{where}.pattern: not a regular expression: {exc}"
                    ) from None
        builtin = pattern if pattern in BUILTIN_PATTERNS else "pii"
        name = str(raw.get("name") or (entity if entity is not None else builtin))
        return cls(
            name=name,
            entity=str(entity) if entity is not None else None,
            pattern=compiled,
            substitution=substitution,  # type: ignore[arg-type]
            text=str(raw["text"]) if raw.get("text") is not None else None,
        )


@dataclass(frozen=True)
class PIIConfig:
    rules: tuple[PIIRule, ...] = ()
    apply_to: frozenset[Target] = frozenset()
    hash_key: bytes | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        return bool(self.rules and self.apply_to)

    def applies_to(self, target: Target) -> bool:
        return bool(self.rules) and target in self.apply_to

    @classmethod
    def from_endpoints(cls, endpoints: Mapping[str, Any] | None) -> PIIConfig:
        """The `pii:` section of endpoints.yml; absent: no redaction. With no `rules`, the
        built-in patterns (email, phone, iban, card) are masked."""
        section = (endpoints or {}).get("pii")
        if section is None:
            return cls()
        if not isinstance(section, Mapping):
            raise PIIConfigError("endpoints.yml: pii: expected a mapping of settings")
        raw_rules = section.get("rules")
        if raw_rules is None:
            raw_rules = [{"pattern": name} for name in BUILTIN_PATTERNS]
        if not isinstance(raw_rules, list):
            raise PIIConfigError("endpoints.yml: pii.rules: expected a list of rules")
        rules = tuple(PIIRule.from_dict(raw, i) for i, raw in enumerate(raw_rules))
        targets = section.get("apply_to", list(DEFAULT_TARGETS))
        if not isinstance(targets, list) or any(t not in TARGETS for t in targets):
            raise PIIConfigError(f"endpoints.yml: pii.apply_to: a list of {', '.join(TARGETS)}")
        key = section.get("hash_key")
        if any(r.substitution == "hash" for r in rules) and not key:
            raise PIIConfigError(
                "endpoints.yml: pii.hash_key: `hash` rules need a secret key, e.g. "
                "hash_key: ${PARLEY_PII_KEY}"
            )
        return cls(rules, frozenset(targets), str(key).encode() if key else None)


class Redactor:
    """Applies the rules to texts and to Rasa event dicts; thread-safe."""

    def __init__(self, config: PIIConfig) -> None:
        self.config = config
        self._entity_rules = {r.entity: r for r in config.rules if r.entity is not None}
        self._pattern_rules = [r for r in config.rules if r.pattern is not None]
        self._known: OrderedDict[str, PIIRule] = OrderedDict()
        self._known_pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    # -- substitution ------------------------------------------------------------------------

    def substitute(self, value: str, rule: PIIRule) -> str:
        if rule.substitution == "text":
            return rule.text if rule.text is not None else f"[{rule.name.upper()}]"
        if rule.substitution == "hash":
            key = self.config.hash_key or b""
            digest = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
            return f"{rule.name}_{digest[:12]}"
        return "*" * len(value)

    # -- texts -------------------------------------------------------------------------------

    def redact_text(self, text: str) -> str:
        """`text` with every known entity value and every pattern match substituted."""
        known = self._known_pattern
        if known is not None:
            text = known.sub(self._substitute_known, text)
        for rule in self._pattern_rules:
            text = self._apply_pattern(rule, text)
        return text

    def _substitute_known(self, match: re.Match[str]) -> str:
        value = match.group()
        rule = self._known.get(value)  # another thread may have just dropped it: still masked
        return self.substitute(value, rule) if rule is not None else "*" * len(value)

    def _apply_pattern(self, rule: PIIRule, text: str) -> str:
        pattern = rule.pattern
        assert pattern is not None

        def replace(match: re.Match[str]) -> str:
            if pattern.check is not None and not pattern.check(match):
                return match.group()
            return self.substitute(match.group(), rule)

        return pattern.regex.sub(replace, text)

    # -- entities ----------------------------------------------------------------------------

    def learn(self, parse_data: Mapping[str, Any] | None) -> None:
        """Remember the values of PII entities in an NLU result (masked in logs from now on)."""
        self._pii_values(parse_data)

    def _pii_values(self, parse_data: Mapping[str, Any] | None) -> dict[str, PIIRule]:
        found: dict[str, PIIRule] = {}
        if not self._entity_rules or not parse_data:
            return found
        text = parse_data.get("text")
        for entity in parse_data.get("entities") or ():
            if not isinstance(entity, Mapping):
                continue
            rule = self._entity_rules.get(str(entity.get("entity")))
            if rule is None:
                continue
            for value in _entity_texts(entity, text):
                found[value] = rule
        if found:
            self._remember(found)
        return found

    def _remember(self, values: Mapping[str, PIIRule]) -> None:
        with self._lock:
            fresh = any(v not in self._known for v in values)
            for value, rule in values.items():
                self._known[value] = rule
                self._known.move_to_end(value)
            while len(self._known) > KNOWN_VALUES:
                self._known.popitem(last=False)
            if fresh or self._known_pattern is None:
                ordered = sorted(self._known, key=len, reverse=True)  # longest first
                self._known_pattern = re.compile("|".join(re.escape(v) for v in ordered))

    # -- events ------------------------------------------------------------------------------

    def redact_events(self, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Redacted copies of a turn's events (the originals are left as they are)."""
        for event in events:
            if event.get("event") == "user":
                self._pii_values(event.get("parse_data"))
        return [self._walk(dict(event)) for event in events]

    def _walk(self, value: Any, key: str | None = None) -> Any:
        if isinstance(value, str):
            return value if key in _STRUCTURAL_KEYS else self.redact_text(value)
        if isinstance(value, Mapping):
            return {k: self._walk(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._walk(v, key) for v in value]
        return value


def _entity_texts(entity: Mapping[str, Any], text: Any) -> Iterable[str]:
    """The strings an entity stands for: its value, and the span of the text it came from."""
    value = entity.get("value")
    if isinstance(value, str) and len(value.strip()) >= MIN_VALUE_LENGTH:
        yield value
    start, end = entity.get("start"), entity.get("end")
    if isinstance(text, str) and isinstance(start, int) and isinstance(end, int) and end > start:
        span = text[start:end]
        # a synonym's original words; a span holding the value (`/intent{...}`) is covered
        if len(span.strip()) >= MIN_VALUE_LENGTH and not (isinstance(value, str) and value in span):
            yield span
