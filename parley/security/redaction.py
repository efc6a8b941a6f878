"""Keep secrets out of logs, error messages and API responses.

Every value that `resolve_config` resolves from a file or Vault, or from an environment variable
under a secret-looking key, is registered in a `SecretRegistry` (the process-wide one unless
another is passed). `redact(text)` replaces registered values and common token shapes with
`***`; `install_redaction()` makes every log record pass through it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any

MASK = "***"
MIN_SECRET_LENGTH = 4  # shorter values ("1", "on") would mask ordinary words

_SECRET_WORDS = r"(?:password|passwd|secret|token|api[_-]?key)"

# Shapes of well-known credentials, masked even when nobody registered them.
_TOKEN_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (
        re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?basic\s+)[A-Za-z0-9+/=]{8,}"),
        rf"\1{MASK}",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), MASK),  # JWT
    (re.compile(r"\b(?:hvs|hvb|hvr|s|b)\.[A-Za-z0-9_-]{20,}"), MASK),  # Vault/OpenBao tokens
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),  # Slack
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), MASK),  # GitHub
    (re.compile(r"\bpat_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}"), MASK),  # Parley API tokens
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),  # AWS access key id
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
        MASK,
    ),
    (re.compile(r"(?<=://)([^:/@\s]*):[^@/\s]+@"), rf"\1:{MASK}@"),  # URL user:password@
    # key=value (query strings, DSNs, command lines) and quoted "key": "value" (JSON, reprs);
    # an unquoted `password: text` is left alone, it is as likely prose as a credential.
    (re.compile(rf"(?i)(\b[\w-]*{_SECRET_WORDS}\s*=\s*)(?!\*\*\*)[^\s&,;'\"]{{3,}}"), rf"\1{MASK}"),
    (
        re.compile(rf"(?i)([\"'][\w-]*{_SECRET_WORDS}[\"']\s*:\s*[\"'])(?!\*\*\*)[^\"']{{3,}}"),
        rf"\1{MASK}",
    ),
)


# What every shape above needs somewhere in the text: most texts hold none of it, and one scan
# for it is much cheaper than eleven substitutions (the shapes' `[\w-]*` prefixes backtrack).
_ANY_TOKEN = re.compile(
    rf"(?i:bearer|basic|{_SECRET_WORDS})|eyJ|\b(?:hvs|hvb|hvr|s|b)\.|xox|gh[pousr]_|AKIA|-----BEGIN|://"
)


class SecretRegistry:
    """The secret values known to this process; thread-safe, values are never exposed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        """Remember `value` (and each of its lines) as a secret; short values are ignored."""
        parts = {value, *(line.strip() for line in value.splitlines())}
        fresh = {p for p in parts if len(p) >= MIN_SECRET_LENGTH} - self._values
        if not fresh:
            return
        with self._lock:
            self._values = self._values | fresh
            ordered = sorted(self._values, key=len, reverse=True)  # longest first
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def update(self, values: Iterable[str]) -> None:
        for value in values:
            self.add(value)

    def __contains__(self, value: object) -> bool:
        return value in self._values

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        with self._lock:
            self._values = frozenset()
            self._pattern = None

    def redact(self, text: str) -> str:
        """`text` with every registered value replaced by the mask."""
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None else text


SECRETS = SecretRegistry()
"""The process-wide registry that `resolve_config` fills unless given another."""


def redact(text: str, registry: SecretRegistry | None = None) -> str:
    """Mask known secret values and common token shapes in `text` (for logs, errors, APIs)."""
    masked = (registry or SECRETS).redact(text)
    if _ANY_TOKEN.search(masked) is None:
        return masked
    for pattern, replacement in _TOKEN_PATTERNS:
        masked = pattern.sub(replacement, masked)
    return masked


def redact_data(value: Any, registry: SecretRegistry | None = None) -> Any:
    """A copy of JSON-like data with every string redacted (for HTTP API error bodies)."""
    if isinstance(value, str):
        return redact(value, registry)
    if isinstance(value, dict):
        return {k: redact_data(v, registry) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v, registry) for v in value]
    return value


_SCALARS = (str, int, float, type(None))


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites a record's message and traceback text, redacted.

    It never drops a record. Text arguments are redacted one by one (their shape is kept);
    a record with other arguments (dicts, objects) is formatted once and redacted whole.
    """

    def __init__(self, registry: SecretRegistry | None = None) -> None:
        super().__init__()
        self.registry = registry
        self.transforms: list[Callable[[str], str]] = []  # more redaction (PII), after secrets

    def _redact(self, text: str) -> str:
        text = redact(text, self.registry)
        for transform in self.transforms:
            text = transform(text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        done: set[int] = record.__dict__.setdefault("_parley_redacted_by", set())
        if id(self) in done:
            return True  # done at the record's creation; the handler passes it here again
        done.add(id(self))
        args = record.args
        if (
            isinstance(record.msg, str)
            and isinstance(args, tuple)
            and all(isinstance(a, _SCALARS) for a in args)
        ):
            # Keep the args' shape: some formatters unpack them (uvicorn's access log).
            record.msg = self._redact(record.msg)
            record.args = tuple(self._redact(a) if isinstance(a, str) else a for a in args)
        elif args or not isinstance(record.msg, str):
            try:
                message = record.getMessage()
            except Exception:  # a broken format string: keep what logging would show
                message = f"{record.msg!r} {record.args!r}"
            record.msg = self._redact(message)
            record.args = None
        else:
            record.msg = self._redact(record.msg)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


_install_lock = threading.Lock()
_installed: list[RedactingFilter] = []


def install_redaction(registry: SecretRegistry | None = None) -> RedactingFilter:
    """Redact every log record of the process from now on; safe to call more than once.

    The filter is hooked into the log-record factory, so records of every logger are redacted,
    including loggers with their own handlers (uvicorn) and handlers added later; it is also
    attached to the root logger's current handlers.
    """
    with _install_lock:
        if _installed:
            redacting = _installed[0]
        else:
            redacting = RedactingFilter(registry)
            previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                redacting.filter(record)
                return record

            logging.setLogRecordFactory(factory)
            _installed.append(redacting)
        for handler in logging.getLogger().handlers:
            if redacting not in handler.filters:
                handler.addFilter(redacting)
        return redacting


def add_log_transform(transform: Callable[[str], str]) -> Callable[[], None]:
    """Pass every log record through `transform` too (PII redaction), after the secrets;
    returns the function that takes it out again."""
    redacting = install_redaction()
    redacting.transforms.append(transform)

    def remove() -> None:
        if transform in redacting.transforms:
            redacting.transforms.remove(transform)

    return remove
