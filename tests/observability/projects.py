"""A copy of the bankbot fixture project with its actions (parley.sdk) as an importable module."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.action_runners.support import BANKBOT, parley_copy_of_bank_actions


@contextmanager
def bankbot_copy(folder: Path, actions_module: str) -> Iterator[Path]:
    root = folder / "bankbot"
    shutil.copytree(BANKBOT, root)
    parley_copy_of_bank_actions(root, actions_module)
    try:
        yield root
    finally:
        sys.modules.pop(actions_module, None)
