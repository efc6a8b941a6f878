"""Switching models under load (shared rest_load.py, c=32) fails and loses no message."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration


def test_rollout_changes_under_load_fail_and_lose_nothing() -> None:
    spec = importlib.util.spec_from_file_location(
        "rollout_switch", REPO / "bench" / "rollout_switch.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["rollout_switch"] = bench
    spec.loader.exec_module(bench)
    result = bench.run(duration=12.0, concurrency=32)
    assert result["load"]["errors"] == 0, result["load"]["error_kinds"]
    assert result["load"]["ok"] > 0
    assert result["lost"] == 0, result
    assert [s["change"] for s in result["switches"]] == [
        "start 10 %",
        "step 50 %",
        "rollback",
        "start 30 %",
        "promote",
    ]
    assert all(s["at_s"] < result["load"]["duration_s"] for s in result["switches"])
    assert set(result["stored_user_messages"]) == {result["control"], result["candidate"]}
