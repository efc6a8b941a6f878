from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.sdk import ActionExecutor
from tests.action_runners.support import PKI, make_pki, parley_copy_of_bank_actions


@pytest.fixture(scope="session")
def bank_executor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActionExecutor]:
    """The fixture actions, written with parley.sdk, ready to serve."""
    folder = tmp_path_factory.mktemp("parley_actions")
    module = parley_copy_of_bank_actions(folder, "served_bank_actions")
    sys.path.insert(0, str(folder))
    executor = ActionExecutor()
    executor.register_package(module)
    yield executor
    sys.path.remove(str(folder))


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "fixtures"
