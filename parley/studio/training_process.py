"""The training process the studio starts (`python -m parley.studio.training_process`).

It runs apart from the server, at a lower CPU priority, so replies never wait for it, and says
what it does on stdout, one JSON object a line:

- `{"stage": "validating" | "nlu" | "dialogue" | "packaging" | "registering"}`, with `done`,
  `total` and `what` when the stage counts steps (the NLU pipeline's components);
- `{"log": "..."}` for each log record;
- every line with `at`, when it was written (epoch seconds);
- last, one outcome: `{"outcome": "registered", "version": ..., "model": ...}`,
  `{"outcome": "unchanged", "model": ...}` (nothing changed since the newest model) or
  `{"outcome": "failed", "error": ...}` (with every validation error as `file:line: message`).

The new version is registered as `parley train` registers it (the `model_registry` of
endpoints.yml) and is not served: a rollout releases it. When the server that reads the lines
goes away, the next line cannot be written and the process stops before registering anything.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

STAGES = ("validating", "nlu", "dialogue", "packaging", "registering")
NICENESS = 10  # below the server: on a small machine the replies keep their CPU share


class ReaderGone(Exception):
    """The server reading this process's lines has gone: stop without registering."""


def emit(**line: Any) -> None:
    """One JSON line on stdout (raises ReaderGone when nobody reads it any more)."""
    try:
        sys.stdout.write(json.dumps({**line, "at": time.time()}, default=str) + "\n")
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # ValueError: stdout already closed
        raise ReaderGone from None


class _LineHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(ReaderGone):  # the next stage line stops the process
            emit(log=f"{record.levelname.lower()}: {self.format(record)}")


def _problems(project: Path) -> list[str]:
    """Every validation error of the project as `file:line: message`; warnings are logged."""
    from parley.validation import validate_project

    errors = []
    for problem in validate_project(project):
        where = problem.location
        try:
            path = where.path.resolve().relative_to(project)
        except ValueError:
            path = where.path
        text = (
            f"{path}:{where.line}: {problem.message}"
            if where.line
            else f"{path}: {problem.message}"
        )
        if problem.severity == "error":
            errors.append(text)
        else:
            logging.getLogger(__name__).warning("%s", text)
    return errors


async def _register(archive: Path, project: Path, endpoints: Path | None, by: str) -> str:
    from parley.models.service import open_releases
    from parley.project.endpoints import Endpoints
    from parley.security import ProjectSecrets

    config = Endpoints.parse(ProjectSecrets(project, endpoints_file=endpoints).endpoints())
    releases = await open_releases(config, project)
    try:
        return (await releases.register(archive, project, by)).version
    finally:
        await releases.close()


def train_and_register(project: Path, endpoints: Path | None, by: str, force: bool) -> None:
    """Validate, train every part into `project/models`, register; report each step."""
    from parley.project.loader import load_project
    from parley.training import default_parts, train_project

    emit(stage="validating")
    errors = _problems(project)
    if errors:
        emit(outcome="failed", error="The training data has errors:\n" + "\n".join(errors))
        return
    loaded = load_project(project)
    parts = default_parts(
        lambda done, total, what: emit(stage="nlu", done=done, total=total, what=what)
    )
    result = train_project(
        loaded, project / "models", parts, force=force, on_stage=lambda name: emit(stage=name)
    )
    if result.skipped:
        emit(outcome="unchanged", model=result.model.name)
        return
    emit(stage="registering")
    try:
        version = asyncio.run(_register(result.model, project, endpoints, by))
    except Exception as exc:
        emit(
            outcome="failed",
            error=f"The model {result.model.name} was trained but not registered: {exc}",
            model=result.model.name,
        )
        return
    emit(outcome="registered", version=version, model=result.model.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parley.studio.training_process")
    parser.add_argument("--project", type=Path, required=True)
    parser.add_argument("--endpoints", type=Path, default=None)
    parser.add_argument("--trained-by", required=True)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    with contextlib.suppress(OSError):  # not permitted: train at the server's priority
        os.nice(NICENESS)
    handler = _LineHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    project = args.project.resolve()
    try:
        train_and_register(project, args.endpoints, args.trained_by, args.force)
    except ReaderGone:
        return 1
    except Exception as exc:  # any other failure is the job's outcome, said in words
        logging.getLogger(__name__).exception("training failed")
        with contextlib.suppress(ReaderGone):
            emit(outcome="failed", error=f"{type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
