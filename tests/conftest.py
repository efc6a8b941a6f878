from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# beside the repo (CI, a clone); a worktree under /work/wt/<name> finds it further up
SHARED = next(
    (p / "shared" for p in REPO.parents if (p / "shared" / "examples").is_dir()),
    REPO.parent / "shared",
)
EXAMPLES = SHARED / "examples"


@pytest.fixture
def examples_dir() -> Path:
    if not EXAMPLES.is_dir():
        pytest.fail(f"../shared/examples is missing beside the repo ({EXAMPLES})")
    return EXAMPLES
