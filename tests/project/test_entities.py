from __future__ import annotations

import pytest

from parley.project.entities import AnnotationError, parse_annotated


def test_short_annotation_gives_offsets_in_plain_text() -> None:
    text, entities = parse_annotated("fly to [Berlin](city) on [monday](day)")
    assert text == "fly to Berlin on monday"
    assert [(e.start, e.end, e.entity, e.value) for e in entities] == [
        (7, 13, "city", "Berlin"),
        (17, 23, "day", "monday"),
    ]


def test_json_annotation_carries_value_role_and_group() -> None:
    text, entities = parse_annotated(
        'from [NYC]{"entity": "city", "value": "New York", "role": "departure", "group": "1"}'
    )
    assert text == "from NYC"
    (entity,) = entities
    assert (entity.entity, entity.value, entity.role, entity.group) == (
        "city",
        "New York",
        "departure",
        "1",
    )


def test_list_annotation_gives_one_entity_per_item() -> None:
    _, entities = parse_annotated(
        'a [big]{"entity": "size"} or [red][{"entity": "color"}, {"entity": "tone"}]'
    )
    assert [e.entity for e in entities] == ["size", "color", "tone"]


@pytest.mark.parametrize(
    "broken",
    [
        'from [NYC]{"entity": city}',
        "from [NYC](",
        'from [NYC]{"value": "x"}',
        "from [NYC]()",
        'from [NYC]{"entity": "city", "colour": "x"}',
    ],
)
def test_malformed_annotation_is_an_error(broken: str) -> None:
    with pytest.raises(AnnotationError):
        parse_annotated(broken)


def test_plain_brackets_are_text() -> None:
    assert parse_annotated("choose [a] or [b]") == ("choose [a] or [b]", ())
