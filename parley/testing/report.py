"""What `parley test` writes: failed stories with `# predicted:` comments, and a JSON report.

`failed_test_stories.yml` is a valid story file (Rasa's format): each failed story with the
story's steps, a comment on every step the model got wrong (`# predicted: utter_goodbye`,
`# predicted: deny: no thanks` for a user message), and the `action_listen` steps written only
where the model did not listen. `story_report.json` is scikit-learn's classification report over
every predicted action, plus the outcome of each story under `"stories"`.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.representer import RoundTripRepresenter
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from parley.dialogue.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
from parley.dialogue.tracker import ACTION_LISTEN
from parley.testing.replay import Outcome, StoryResult

FAILED_STORIES_FILE = "failed_test_stories.yml"
REPORT_FILE = "story_report.json"
NO_FAILURES = "# None of the test stories failed - all good!\n"


def annotate(text: str, entities: Sequence[dict[str, Any]]) -> str:
    """`text` with entities written inline: `my username is [jdoe](username)`."""
    placed = sorted(
        (e for e in entities if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)),
        key=lambda e: e["start"],
    )
    out: list[str] = []
    position = 0
    for entity in placed:
        start, end = entity["start"], entity["end"]
        if start < position or end > len(text):
            continue
        span = text[start:end]
        value = str(entity.get("value", span))
        out.append(text[position:start])
        if value == span:
            out.append(f"[{span}]({entity.get('entity')})")
        else:
            label = json.dumps({"entity": entity.get("entity"), "value": value})
            out.append(f"[{span}]{label}")
        position = end
    out.append(text[position:])
    return "".join(out)


def _user_step(outcome: Outcome, event: UserUttered) -> CommentedMap:
    step = CommentedMap()
    if outcome.expected is not None:
        step["intent"] = outcome.expected
    if event.text:
        step["user"] = LiteralScalarString(annotate(event.text, outcome.expected_entities))
    if not outcome.correct:
        said = annotate(event.text or "", outcome.predicted_entities)
        step.yaml_add_eol_comment(f"predicted: {outcome.predicted}: {said}", next(iter(step)))
    return step


def _action_step(outcome: Outcome, event: ActionExecuted) -> CommentedMap:
    step = CommentedMap()
    if event.name is not None:
        step["action"] = event.name
    else:
        step["bot"] = event.action_text
    _comment(step, outcome, next(iter(step)))
    return step


def _comment(step: CommentedMap, outcome: Outcome, key: str) -> None:
    if not outcome.correct:
        step.yaml_add_eol_comment(f"predicted: {outcome.predicted}", key)


def story_steps(result: StoryResult) -> CommentedSeq:
    """The story's steps, as written, with the model's mistakes as comments."""
    steps = CommentedSeq()
    slots: CommentedSeq | None = None
    for outcome in result.outcomes:
        event, turn = outcome.turn.event, outcome.turn
        if not isinstance(event, SlotSet):
            slots = None
        if isinstance(event, UserUttered):
            steps.append(_user_step(outcome, event))
        elif isinstance(event, ActionExecuted):
            if event.name == ACTION_LISTEN and turn.implicit and outcome.correct:
                continue
            steps.append(_action_step(outcome, event))
        elif isinstance(event, SlotSet) and not turn.implicit:
            if slots is None:
                slots = CommentedSeq()
                steps.append(CommentedMap([("slot_was_set", slots)]))
            item = CommentedMap([(event.name, event.value)])
            _comment(item, outcome, event.name)
            slots.append(item)
        elif isinstance(event, ActiveLoop):
            step = CommentedMap([("active_loop", event.name)])
            _comment(step, outcome, "active_loop")
            steps.append(step)
    return steps


def _represent_null(representer: RoundTripRepresenter, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")  # `active_loop: null`


def failed_stories_yaml(results: Sequence[StoryResult]) -> str:
    failed = [r for r in results if not r.passed]
    if not failed:
        return NO_FAILURES
    stories = CommentedSeq()
    for result in failed:
        name = result.case.name
        if result.case.source:
            name = f"{name} ({result.case.source})"
        stories.append(CommentedMap([("story", name), ("steps", story_steps(result))]))
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    yaml.representer.add_representer(type(None), _represent_null)
    buffer = io.StringIO()
    version = DoubleQuotedScalarString("3.1")
    yaml.dump(CommentedMap([("version", version), ("stories", stories)]), buffer)
    return buffer.getvalue()


def action_report(results: Sequence[StoryResult]) -> dict[str, Any]:
    """scikit-learn's classification report (as a dict) over every predicted action."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import classification_report

    pairs = [
        (o.expected or "", o.predicted or "")
        for r in results
        for o in r.outcomes
        if o.kind == "action"
    ]
    if not pairs:
        return {}
    targets, predictions = zip(*pairs, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        report: dict[str, Any] = classification_report(
            list(targets), list(predictions), output_dict=True, zero_division=0
        )
    return report


def story_outcomes(results: Sequence[StoryResult]) -> list[dict[str, Any]]:
    return [
        {
            "story": r.case.name,
            "source": r.case.source,
            "passed": r.passed,
            "failures": [
                {"kind": o.kind, "expected": o.expected, "predicted": o.predicted}
                for o in r.failures()
            ],
        }
        for r in results
    ]


def write_results(results: Sequence[StoryResult], out: Path) -> dict[str, Path]:
    """Write the failed stories and the report into `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    failed_path = out / FAILED_STORIES_FILE
    failed_path.write_text(failed_stories_yaml(results), "utf-8")
    report = action_report(results)
    report["stories"] = story_outcomes(results)
    report_path = out / REPORT_FILE
    report_path.write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
    return {"failed_stories": failed_path, "report": report_path}
