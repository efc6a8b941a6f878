"""DucklingEntityExtractor (and Parley's BuiltinEntityExtractor).

Calls the Duckling server at `url` when it answers; otherwise serves the configured dimensions
from Parley's built-in extractors and says so once at WARNING.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from parley.nlu import builtin
from parley.nlu.component import TrainingSet
from parley.nlu.message import Message

logger = logging.getLogger(__name__)


class BuiltinEntityExtractor:
    """Built-in entities of `dimensions` (all when not given), no server needed."""

    kind = "builtin_entities"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        self.name = name
        self.options = options

    @property
    def dimensions(self) -> list[str] | None:
        dims = self.options.get("dimensions")
        return list(dims) if dims else None

    def train(self, training: TrainingSet) -> None:
        self.options = {**self.options, "language": training.language}

    def _builtin(self, message: Message) -> None:
        language = str(self.options.get("language") or "en").split("_")[0]
        for found in builtin.extract(
            message.text, self.dimensions, language, self.options.get("timezone")
        ):
            found["extractor"] = self.name
            message.entities.append(found)

    def process(self, message: Message) -> None:
        self._builtin(message)

    def persist(self, folder: Path) -> None:
        return None

    def restore(self, folder: Path) -> None:
        return None


class DucklingEntityExtractor(BuiltinEntityExtractor):
    kind = "duckling"

    def __init__(self, name: str, options: dict[str, Any]) -> None:
        super().__init__(name, options)
        self._server: bool | None = None  # None: not probed yet
        self._lock = threading.Lock()

    @property
    def url(self) -> str | None:
        return os.environ.get("RASA_DUCKLING_HTTP_URL") or self.options.get("url")

    def _server_answers(self) -> bool:
        with self._lock:
            if self._server is None:
                self._server = self._probe()
                if not self._server:
                    logger.warning(
                        "Duckling at %s does not answer; serving %s from Parley's built-in"
                        " entity extractors instead.",
                        self.url,
                        ", ".join(self.dimensions or builtin.DIMENSIONS),
                    )
            return self._server

    def _probe(self) -> bool:
        if not self.url:
            return False
        import httpx  # imported when a Duckling URL is configured (httpx loads its CLI: 0.1 s)

        try:
            httpx.get(self.url, timeout=float(self.options.get("timeout", 3)) / 3)
        except httpx.HTTPError:
            return False
        return True

    def process(self, message: Message) -> None:
        if not self._server_answers():
            self._builtin(message)
            return
        import httpx

        try:
            found = self._duckling(message.text)
        except (httpx.HTTPError, ValueError) as exc:
            logger.error("Duckling request failed (%s); using built-in extractors.", exc)
            self._builtin(message)
            return
        message.entities.extend(found)

    def _duckling(self, text: str) -> list[dict[str, Any]]:
        locale = self.options.get("locale") or f"{self.options.get('language') or 'en'}_US"
        payload = {
            "text": text,
            "locale": locale,
            "tz": self.options.get("timezone") or "UTC",
            "reftime": str(int(time.time() * 1000)),
        }
        import httpx

        response = httpx.post(
            f"{str(self.url).rstrip('/')}/parse",
            data=payload,
            timeout=float(self.options.get("timeout", 3)),
        )
        response.raise_for_status()
        wanted = self.dimensions
        out = []
        for match in response.json():
            if wanted and match.get("dim") not in wanted:
                continue
            value = match.get("value", {})
            out.append(
                {
                    "entity": match["dim"],
                    "start": match["start"],
                    "end": match["end"],
                    "text": match.get("body"),
                    "value": value.get("value"),
                    "confidence_entity": 1.0,
                    "additional_info": value,
                    "extractor": self.name,
                }
            )
        return out
