"""The starter help-desk assistant (`parley init`), trained once per test session."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

from parley.agent import Agent
from parley.cli.init import template_dir
from parley.project import load_project
from parley.training import train_project

GREETING = "Hi! I'm the IT help desk assistant."
_trained: list[Path] = []


def helpdesk_model() -> Path:
    """Path of the trained model archive (NLU and dialogue)."""
    if not _trained:
        folder = Path(tempfile.mkdtemp(prefix="parley-helpdesk-"))
        atexit.register(shutil.rmtree, folder, True)
        root = folder / "bot"
        shutil.copytree(
            template_dir(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__")
        )
        _trained.append(train_project(load_project(root), root / "models").model)
    return _trained[0]


def helpdesk_agent(**stores: Any) -> Agent:
    """A fresh Agent on the trained model (in-memory stores unless given)."""
    return Agent.load(helpdesk_model(), **stores)


_variants: dict[str, Path] = {}


def helpdesk_variant(greeting: str) -> Path:
    """The help-desk model trained again with `greeting` as its answer to a greeting: another
    version that answers differently (trained once per greeting and test session)."""
    if greeting not in _variants:
        folder = Path(tempfile.mkdtemp(prefix="parley-helpdesk-variant-"))
        atexit.register(shutil.rmtree, folder, True)
        root = folder / "bot"
        shutil.copytree(
            template_dir(), root, ignore=shutil.ignore_patterns("__init__.py", "__pycache__")
        )
        domain = root / "domain.yml"
        text = domain.read_text()
        start = text.index('"', text.index("utter_greet:")) + 1
        domain.write_text(text[:start] + greeting + text[text.index('"', start) :])
        _variants[greeting] = train_project(load_project(root), root / "models").model
    return _variants[greeting]
