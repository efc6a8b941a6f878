from __future__ import annotations

import pytest

from parley.nlu.bilou import bilou_tags, decode_tags
from parley.nlu.tokenizer import tokenize
from parley.project.entities import parse_annotated


@pytest.mark.parametrize("bilou", [True, False])
def test_tags_round_trip_to_the_same_entities_with_roles(bilou: bool) -> None:
    text, annotations = parse_annotated(
        'fly from [New York City]{"entity": "city", "role": "from"} to [Rome](city) now'
    )
    tokens = tokenize(text)
    tags = bilou_tags(tokens, annotations, bilou)
    expected_first = ["B-city#from#", "I-city#from#", "L-city#from#"]
    if not bilou:
        expected_first = ["B-city#from#", "I-city#from#", "I-city#from#"]
    assert tags[2:5] == expected_first
    assert tags[6] == ("U-city" if bilou else "B-city")
    found = decode_tags(text, tokens, tags, [0.5] * len(tags))
    assert [(f.entity, f.value, f.role) for f in found] == [
        ("city", "New York City", "from"),
        ("city", "Rome", None),
    ]


def test_inside_tag_without_begin_still_starts_an_entity() -> None:
    tokens = tokenize("to new york")
    found = decode_tags("to new york", tokens, ["O", "I-city", "L-city"], [1.0, 0.8, 0.6])
    assert [(f.value, round(f.confidence, 2)) for f in found] == [("new york", 0.7)]
