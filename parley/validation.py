"""`parley data validate`: every check of a project, listed in one place.

The checks live beside what they check (dialogue stories, the NLU pipeline, the action endpoint,
secret references); this module is where they are put together, as `parley.training` puts the
model parts together. Nothing registers itself on import.
"""

from __future__ import annotations

from pathlib import Path

from parley.action_runners.checks import check_action_endpoint
from parley.dialogue.contradictions import (
    check_policies,
    check_rule_contradictions,
    check_story_contradictions,
)
from parley.nlu.registry import check_pipeline
from parley.project.errors import Problem
from parley.project.validate import PROJECT_CHECKS, Check, run_checks
from parley.security.checks import check_secret_references


def default_checks() -> list[Check]:
    """Every check `parley data validate` runs, in the order of its report."""
    return [
        *PROJECT_CHECKS,
        check_secret_references,
        check_pipeline,
        check_policies,
        check_rule_contradictions,
        check_story_contradictions,
        check_action_endpoint,
    ]


def validate_project(
    root: Path, data_paths: list[Path] | None = None, test_paths: list[Path] | None = None
) -> list[Problem]:
    """Every problem of a project: file errors first, then each default check's findings."""
    return run_checks(root, default_checks(), data_paths, test_paths)
