"""Random ids: uuid4-like hex, unique, and never repeated by a forked worker."""

from __future__ import annotations

import os
import re

import pytest

from parley.ids import check_sender_id, random_id, sender_id_problem


def test_ids_are_32_hex_digits_and_do_not_repeat() -> None:
    ids = [random_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next ids and leave at once
        os.close(read)
        os.write(write, " ".join(random_id() for _ in range(5)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {random_id() for _ in range(5)}
    assert len(child) == 5
    assert not child & parent


@pytest.mark.parametrize(
    "sender",
    ["", "a" * 256, "a\x00b", "line\nbreak", "tab\there", "\x7f", "a\x85b", "lone \ud800"],
)
def test_conversation_ids_that_no_channel_or_store_takes(sender: str) -> None:
    assert sender_id_problem(sender) is not None
    with pytest.raises(ValueError, match="conversation id"):
        check_sender_id(sender)


@pytest.mark.parametrize("sender", ["a", "a" * 255, "user@example.com", "../etc", "Ünïcødé 🙂"])
def test_conversation_ids_every_channel_and_store_takes(sender: str) -> None:
    assert sender_id_problem(sender) is None
    assert check_sender_id(sender) == sender
