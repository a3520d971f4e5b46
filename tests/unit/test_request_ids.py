"""Request ids: the client's when plain, else time-ordered new ones."""

from __future__ import annotations

import re
import time

from socle.runtime import _request_id, new_request_id


def test_new_ids_are_24_hex_digits_and_unique() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"req_[0-9a-f]{24}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_new_ids_start_with_the_time_so_later_ids_sort_after() -> None:
    before = time.time_ns() // 1_000_000
    first = new_request_id()
    time.sleep(0.003)
    second = new_request_id()
    after = time.time_ns() // 1_000_000
    assert first < second
    assert before <= int(first[4:16], 16) <= int(second[4:16], 16) <= after


def test_a_plain_client_id_is_kept_and_a_hostile_one_replaced() -> None:
    assert _request_id("trace-42.a:b_c") == "trace-42.a:b_c"
    for bad in ("x" * 129, "a b", "é", "id\r\nX-Injected: 1", ""):
        assert re.fullmatch(r"req_[0-9a-f]{24}", _request_id(bad))
    assert re.fullmatch(r"req_[0-9a-f]{24}", _request_id(None))
