from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = {
    "config.yml": "pipeline:\n  - name: NoSuchComponent\npolicies:\n  - name: NoSuchPolicy\n",
    "domain.yml": (
        'version: "3.1"\nintents: [greet]\nactions: [action_custom]\n'
        "responses:\n  utter_hi: [{text: hi}]\n  utter_hello: [{text: hello}]\n"
    ),
    "data/stories.yml": (
        "stories:\n- story: a\n  steps: [{intent: greet}, {action: utter_hi}]\n"
        "- story: b\n  steps: [{intent: greet}, {action: utter_hello}]\n"
    ),
    "endpoints.yml": "action_endpoint:\n  url: 42\n",
}


def test_validation_imported_alone_runs_every_check(tmp_path: Path) -> None:
    """What `parley data validate` reports does not depend on what else was imported."""
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    script = textwrap.dedent(
        f"""
        import json, sys
        from parley.validation import validate_project
        problems = validate_project(__import__("pathlib").Path({str(tmp_path)!r}))
        print(json.dumps([p.message for p in problems]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    messages = "\n".join(json.loads(done.stdout))
    assert "NoSuchComponent" in messages  # the NLU pipeline check
    assert "NoSuchPolicy" in messages  # the dialogue policy check
    assert "utter_hi" in messages and "utter_hello" in messages  # story contradictions
    assert "action_endpoint" in messages  # the action server check
