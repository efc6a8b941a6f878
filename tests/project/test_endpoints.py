from __future__ import annotations

import pytest

from parley.project.endpoints import Endpoints, EndpointsError


def test_sections_are_read_once_into_typed_objects() -> None:
    endpoints = Endpoints.parse(
        {"tracker_store": {"type": " Redis ", "url": "cache"}, "lock_store": None, "nlg": {}}
    )
    assert endpoints.tracker_store is not None
    assert endpoints.tracker_store.type("sql") == "redis"
    assert endpoints.tracker_store["url"] == "cache"
    assert endpoints.tracker_store.where == "endpoints.yml: tracker_store"
    assert endpoints.lock_store is None and endpoints.event_broker is None
    assert endpoints.section("nlg") is not None and endpoints.section("nlg").type("x") == "x"  # type: ignore[union-attr]


def test_a_section_that_is_not_a_mapping_names_itself() -> None:
    with pytest.raises(EndpointsError, match="event_broker must be a mapping of settings"):
        Endpoints.parse({"event_broker": "rabbitmq"})


def test_custom_store_classes_are_refused_with_the_section_named() -> None:
    section = Endpoints.parse({"tracker_store": {"type": "my.module.Store"}}).tracker_store
    assert section is not None
    with pytest.raises(EndpointsError, match=r"tracker_store.type 'my.module.store': custom"):
        section.type("sql")
