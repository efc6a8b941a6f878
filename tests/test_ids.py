"""Random ids: uuid4-like hex, unique, and never repeated by a forked worker."""

from __future__ import annotations

import os
import re

from parley.ids import random_id


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
